// Package load drives a running ai-agent with many concurrent chats and
// measures the cost of a turn (issue 10). It holds the pieces the
// `ai-agent load` command and the connection-reuse tests share:
//
//   - fakes.go   a fake Ollama (/api/chat, NDJSON), a go-sdk MCP server and a
//     fake Rancher (/v3/users?me=true), each with a chosen latency, served
//     from a CountingListener that counts accepted TCP connections
//   - chat.go    a browser-side chat client (WebSocket frames of
//     spec/ui-protocol.md) and the same model and MCP calls made directly
//   - direct.go  the direct phase, run in a process of its own (`ai-agent load
//     direct`) so that its CPU time is the calls' alone
//   - proc.go    CPU time and RSS of a process from /proc
//   - run.go     the load run itself: idle chats, concurrent turns, the report
//
// Everything listens on and dials 127.0.0.1 only, and every phase is bounded
// in count and time.
package load
