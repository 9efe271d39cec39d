package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/store/storetest"
)

// The closing-note figures: run with
//
//	go test -run '^$' -bench . -benchmem ./internal/store/
var engines = []struct {
	name string
	open storetest.Factory
}{{"memory", openMemory}, {"sqlite", openSQLite}, {"postgres", openPostgres}}

// turn is what one prompt stores on the main thread: the question, a tool
// call, its result and the answer with usage and an MCP response.
func turn(i int) []store.Message {
	now := time.Now().UTC()
	req := fmt.Sprintf("req-%d", i)
	return []store.Message{
		{Message: llm.Message{Role: llm.RoleUser, Content: "list the pods in default"}, UserInput: "list the pods in default",
			Context: map[string]json.RawMessage{"namespace": json.RawMessage(`"default"`)}, RequestID: req, CreatedAt: now},
		{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "listPods", Arguments: json.RawMessage(`{"namespace":"default"}`)}}},
			Agent: "rancher", RequestID: req, CreatedAt: now},
		{Message: llm.Message{Role: "tool", ToolCallID: "c1", Content: "pod-a Running\npod-b Running"}, Agent: "rancher", RequestID: req, CreatedAt: now},
		{Message: llm.Message{Role: llm.RoleAssistant, Content: "There are two pods, both running."}, Agent: "rancher", RequestID: req,
			Usage: &llm.Usage{InputTokens: 900, OutputTokens: 40}, MCPResponses: []json.RawMessage{json.RawMessage(`[{"kind":"Pod","name":["pod-a","pod-b"]}]`)}, CreatedAt: now},
	}
}

func BenchmarkListChats1000(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s, ctx := e.open(b), context.Background()
			for i := range 1000 {
				id := fmt.Sprintf("chat-%04d", i)
				if _, err := s.OpenChat(ctx, id, "alice"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Append(ctx, id, turn(i)[0], turn(i)[3]); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				cs, err := s.ListChats(ctx, "alice", false)
				if err != nil || len(cs) != 1000 {
					b.Fatalf("ListChats = %d, %v", len(cs), err)
				}
			}
		})
	}
}

func BenchmarkLoad500Messages(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s, ctx := e.open(b), context.Background()
			if _, err := s.OpenChat(ctx, "c1", "alice"); err != nil {
				b.Fatal(err)
			}
			for i := range 125 {
				if _, err := s.Append(ctx, "c1", turn(i)...); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				msgs, err := s.Messages(ctx, "c1")
				if err != nil || len(msgs) != 500 {
					b.Fatalf("Messages = %d, %v", len(msgs), err)
				}
			}
		})
	}
}

// appendThreadSize is the thread BenchmarkAppendTurn appends to: 25 turns.
const appendThreadSize = 100

// BenchmarkAppendTurn measures storing one turn (4 messages) on a thread
// of appendThreadSize messages: each iteration appends to a fresh thread
// filled outside the timer, so the thread's size is the same whatever b.N.
func BenchmarkAppendTurn(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s, ctx := e.open(b), context.Background()
			var fill []store.Message
			for i := range appendThreadSize / 4 {
				fill = append(fill, turn(i)...)
			}
			msgs := turn(0)
			i := 0
			for b.Loop() {
				b.StopTimer()
				id := fmt.Sprintf("c%d", i)
				i++
				if _, err := s.OpenChat(ctx, id, "alice"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Append(ctx, id, fill...); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				seq, err := s.Append(ctx, id, msgs...)
				if err != nil || seq != appendThreadSize+4 {
					b.Fatalf("Append = %d, %v", seq, err)
				}
			}
		})
	}
}

// BenchmarkSeq measures the version check a turn makes instead of reading
// its thread, on the thread of turn 10 (40 messages) and of turn 200 (800):
// it must not grow with the thread on any engine.
func BenchmarkSeq(b *testing.B) {
	for _, e := range engines {
		for _, size := range []int{40, 800} {
			b.Run(fmt.Sprintf("%s/msgs=%d", e.name, size), func(b *testing.B) {
				s, ctx := e.open(b), context.Background()
				if _, err := s.OpenChat(ctx, "c1", "alice"); err != nil {
					b.Fatal(err)
				}
				var fill []store.Message
				for i := range size / 4 {
					fill = append(fill, turn(i)...)
				}
				if _, err := s.Append(ctx, "c1", fill...); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if seq, err := s.Seq(ctx, "c1"); err != nil || seq != int64(size) {
						b.Fatalf("Seq = %d, %v", seq, err)
					}
				}
			})
		}
	}
}

// appendChats is how many chats BenchmarkAppendTurnParallel appends to, as
// the load tool's 100 concurrent chats do.
const appendChats = 100

// BenchmarkAppendTurnParallel measures storing one turn (4 messages) on
// appendChats threads, by 1 writer (one turn after the other: what a
// store that is not saturated sees, a batch of one on SQLite) and by
// appendChats writers at once, one per thread (what group commit is for).
// ns/op is wall time per turn over all writers, cpu-ns/op the process's
// CPU time per turn (the machine is shared: CPU time varies less).
func BenchmarkAppendTurnParallel(b *testing.B) {
	for _, e := range engines {
		for _, writers := range []int{1, appendChats} {
			b.Run(fmt.Sprintf("%s/writers=%d", e.name, writers), func(b *testing.B) {
				s, ctx := e.open(b), context.Background()
				for i := range appendChats {
					if _, err := s.OpenChat(ctx, fmt.Sprintf("c%d", i), "alice"); err != nil {
						b.Fatal(err)
					}
				}
				msgs := turn(0)
				var left atomic.Int64
				left.Store(int64(b.N))
				b.ResetTimer()
				cpu := cpuTime()
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := w; left.Add(-1) >= 0; i += writers {
							if _, err := s.Append(ctx, fmt.Sprintf("c%d", i%appendChats), msgs...); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				if cpu > 0 {
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
