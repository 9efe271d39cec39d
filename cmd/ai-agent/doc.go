// Command ai-agent is the Rancher AI agent: `ai-agent serve` is the
// production server, `ai-agent demo` the whole system on loopback with no
// outside service, `ai-agent load` measures serve under many chats
// (internal/load). This package only reads flags and the environment and
// wires the internal packages together (app.go).
package main
