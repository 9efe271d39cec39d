// Package controller reconciles AIAgentConfig objects with controller-runtime.
//
// The reconciler only converges state: it checks that each agent's MCP
// server answers and writes status.phase plus one standard Ready condition
// (the UI reads it through Steve to decide whether an agent is usable),
// registers OAUTH2 agents' clients whatever the check said, drops cached
// state of deleted agents, and keeps the built-in agents present and their
// specs in line. It reads from the informer cache and writes status only when
// it changes, so an idle cluster costs no API calls.
package controller
