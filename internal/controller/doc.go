// Package controller reconciles AIAgentConfig objects with controller-runtime.
//
// The reconciler converges state, with two side effects that are not
// status: it checks that each agent's MCP server answers (a network call
// per reconcile of a changed agent) and writes status.phase plus one
// standard Ready condition
// (the UI reads it through Steve to decide whether an agent is usable),
// registers OAUTH2 agents' clients at their authorization servers whatever
// the check said (the second side effect), drops cached
// state of deleted agents, and keeps the built-in agents present and their
// specs in line. It reads from the informer cache and writes status only when
// it changes, so an idle cluster costs no API calls.
package controller
