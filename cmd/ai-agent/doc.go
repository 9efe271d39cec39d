// Command ai-agent is the Rancher AI agent: `ai-agent serve` is the
// production server, `ai-agent demo` the whole system on loopback with no
// outside service, `ai-agent load` measures serve under many chats
// (internal/load), `ai-agent validate` checks agents and Secrets. This
// package reads flags and the environment and wires the internal packages
// together (app.go), and it is more than wiring: it holds the decisions
// that belong to start-up and to no package: which model ACTIVE_LLM picks
// and the model-list route with its guards (model.go), where the OAuth
// encryption key comes from and the key file it creates in development
// (oauthkey.go), which store engine runs (store.go), how the cluster, its
// Rancher URL and its access reviews are reached in and outside a pod and
// the settings route (kube.go), and who may use and manage OAuth
// connections (connections.go).
//
// Built with -tags nodemo (the Dockerfile's production build), the binary
// links neither the demo's MCP and authorization servers nor the load
// tool's fakes; `ai-agent demo` and `ai-agent load` then say so in one
// line (nodemo.go). A plain `go build` keeps both commands.
package main
