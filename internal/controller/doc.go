// Package controller reconciles AIAgentConfig objects with controller-runtime.
//
// The reconciler does more than converge status: it checks that each
// agent's MCP server answers (a network call per reconcile of a changed
// agent) and writes status.phase plus one standard Ready condition (the UI
// reads it through Steve to decide whether an agent is usable); it
// registers OAUTH2 agents' clients at their authorization servers whatever
// the check said (a call outside the cluster); it drops cached state of
// deleted agents; and it keeps the built-in agents present and their specs
// in line. An MCP server that cannot be reached (refused, DNS, timeout, or
// a gateway's 502/503/504/429) is an outage, not a failure: the Ready
// condition is Unknown (reason MCPServerUnreachable, no phase) and the work
// queue retries with backoff (1 s doubling to 300 s) until the server
// answers and the agent is Ready by itself; Failed is kept for what a
// retry cannot fix (bad configuration, an HTTP error). It reads from the
// informer cache and writes status only when
// it changes, so an idle cluster costs no API calls.
package controller
