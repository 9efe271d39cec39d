// Package agent runs turns: the loop between the model and an agent's MCP
// tools, and the supervisor that routes a prompt to one of several agents.
//
// A Runner holds the long-lived dependencies (model, MCP manager, store,
// credentials). Runner.Open builds a Session for one connection: it loads
// every agent's tools once, so that a turn only calls the model and the
// tools. Session.Turn is where a prompt becomes model calls
// (loop.go) and tool calls (tools.go); supervisor.go routes between agents.
//
// Sign-in for OAUTH2 agents is not done here: an Authenticator (package
// oauth) is asked when a tool load or call answers 401/403, and the same
// turn then continues.
package agent
