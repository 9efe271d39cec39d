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
		c.Metadata()
		e.model.Push(call("add", `{"a":4,"b":5}`), llm.TextEntry("The sum ", "is 9."))
		b.StartTimer()
		c.Send(`{"prompt":"add 4 and 5","context":{}}`)
		if f := c.Turn(); len(f) != 4 {
			b.Fatalf("frames = %q", f)
		}
		b.StopTimer()
		c.WS.CloseNow()
		b.StartTimer()
	}
}

// BenchmarkTurnOfChat measures turn N of one chat (N = 10 and 200): each
// iteration drives a fresh chat through N-1 turns of one tool call each
// outside the timer, on one connection, then times turn N. Turn 200 should
// cost what turn 10 does: the session keeps its thread in memory and
// summaries bound what the model is sent (msgs/request: the messages of
// turn N's last model request). Setup is N-1 turns per iteration, so run it
// with a small fixed count:
//
//	go test -run '^$' -bench BenchmarkTurnOfChat -benchtime 10x -benchmem ./internal/server/
func BenchmarkTurnOfChat(b *testing.B) {
	for _, n := range []int{10, 200} {
		b.Run(fmt.Sprintf("turn=%d", n), func(b *testing.B) {
			ms := startMath(b)
			e := newEnvTB(b, newAgent("math", ms.url()))
			longChatModel(e)
			b.ReportAllocs()
			i, size := 0, 0
			for b.Loop() {
				b.StopTimer()
				c := e.dial(fmt.Sprintf("/v1/ws/messages/long-%d", i), "tok-alice")
				i++
				c.Metadata()
				for range n - 1 {
					c.Send(prompt("add 2 and 3"))
					c.Turn()
				}
				b.StartTimer()
				c.Send(prompt("add 2 and 3"))
				if f := c.Turn(); len(f) != 3 {
					b.Fatalf("frames = %q", f)
				}
				b.StopTimer()
				reqs := e.model.Requests()
				size = len(reqs[len(reqs)-1].Messages)
				c.WS.CloseNow()
				b.StartTimer()
			}
			b.ReportMetric(float64(size), "msgs/request")
		})
	}
}
