package server_test

import (
	"fmt"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// BenchmarkTurnWithToolCall measures one chat turn end to end: a prompt over
// the WebSocket, a model call that asks for a tool, the MCP tools/call over
// loopback, a second model call that streams two chunks, and </message>.
// The scripted model answers instantly, so this is the agent's own cost
// (server, browser-side client and MCP server all run in this process).
// Each turn is the first of a fresh chat; connecting is not timed.
func BenchmarkTurnWithToolCall(b *testing.B) {
	ms := startMath(b)
	e := newEnvTB(b, newAgent("math", ms.url()))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.model.Clear()
		c := e.dial(fmt.Sprintf("/v1/ws/messages/bench-%d", i), "tok-alice")
		c.metadata()
		e.model.Push(call("add", `{"a":4,"b":5}`), llm.TextEntry("The sum ", "is 9."))
		b.StartTimer()
		c.send(`{"prompt":"add 4 and 5","context":{}}`)
		if f := c.turn(); len(f) != 4 {
			b.Fatalf("frames = %q", f)
		}
		b.StopTimer()
		c.ws.CloseNow()
		b.StartTimer()
	}
}
