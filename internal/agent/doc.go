// Package agent runs turns: the loop between the model and an agent's MCP
// tools, and the supervisor that routes a prompt to one of several agents.
//
// A Runner holds the long-lived dependencies (model, MCP manager, store,
// credentials). Runner.Open builds a Session for one connection: it loads
// every agent's tools once, so that a turn only calls the model and the
// tools. Session.Turn (turn.go) is where a prompt becomes a run: an agent
// or the supervisor (supervisor.go) on a thread. A run calls the loop
// (loop.go: model calls, tool calls through tools.go) and ends with an
// outcome value (outcome.go: answered, paused, handed off, stopped,
// failed, sign-in failed), reported per turn as a bounded TurnOutcome
// label (ReportOutcome, read by the telemetry decorator); a pause for human
// validation is stored and the next prompt resumes it on one path for
// agents and the supervisor (confirm.go).
//
// A session keeps a copy of each thread (thread.go) and appends to it; the
// store's per-thread sequence number tells when another replica wrote.
// Long threads are summarized before a run (summarize.go).
//
// Sign-in for OAUTH2 agents is not done here: an Authenticator is asked
// when a tool load or call answers 401/403, and the same turn then
// continues. The package imports neither package oauth nor anything of the
// HTTP request (a User is an id and a Rancher token): the OAuth adapter is
// server.OAuthAgent, in the wiring; it hands back ErrAuthCanceled and
// SignInError, which autherror.go turns into the user's sentence.
package agent
