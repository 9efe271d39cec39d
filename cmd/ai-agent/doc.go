// Command ai-agent is the Rancher AI agent: `ai-agent serve` is the
// production server, `ai-agent demo` the whole system on loopback with no
// outside service, `ai-agent load` measures serve under many chats
// (internal/load). This package reads flags and the environment and wires
// the internal packages together (app.go), and it holds the few decisions
// that belong to start-up and to no package: which model ACTIVE_LLM picks
// (model.go), where the OAuth encryption key comes from and the key file
// it creates in development (oauthkey.go), which store engine runs
// (store.go), and how the cluster, its Rancher URL and its access reviews
// are reached in and outside a pod (kube.go).
package main
