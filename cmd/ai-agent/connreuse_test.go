package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/load"
)

// loadServe runs `serve` in-process with the Ollama provider against the
// load tool's fakes (model, go-sdk MCP server, Rancher users), each with
// latency, and returns its WebSocket URL and the model and MCP servers.
func loadServe(tb testing.TB, latency time.Duration) (string, *load.Server, *load.Server) {
	return loadServeStorage(tb, latency, "memory")
}

// loadServeStorage is loadServe on the given STORAGE engine ("memory" or
// "sqlite", a file in the test's temporary directory).
func loadServeStorage(tb testing.TB, latency time.Duration, storage string) (string, *load.Server, *load.Server) {
	tb.Helper()
	var servers []*load.Server
	tb.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
	})
	model, err := load.Serve(load.OllamaHandler(latency))
	if err != nil {
		tb.Fatal(err)
	}
	servers = append(servers, model)
	mcpSrv, err := load.Serve(load.MCPHandler(latency))
	if err != nil {
		tb.Fatal(err)
	}
	servers = append(servers, mcpSrv)
	users, err := load.Serve(load.RancherHandler())
	if err != nil {
		tb.Fatal(err)
	}
	servers = append(servers, users)
	cfg := filepath.Join(tb.TempDir(), "agents.yaml")
	if err := os.WriteFile(cfg, []byte(load.AgentConfig(mcpSrv.URL)), 0o600); err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{"RANCHER_URL": users.URL, "ACTIVE_LLM": "ollama", "OLLAMA_URL": model.URL,
		"OLLAMA_MODEL": "m", "STORAGE": storage, "SQLITE_PATH": filepath.Join(tb.TempDir(), "agent.db")}
	addr, _, _ := runServe(tb, []string{"--config", cfg}, func(k string) string { return env[k] })
	return "ws://" + addr + "/v1/ws/messages", model, mcpSrv
}

// TestTurnsReuseConnections: many concurrent chats, each a different user,
// each running several turns (model → MCP tools/call → model) through
// `serve` with the Ollama provider. However many turns run, the agent opens
// no more connections to the model and to the MCP server than turns ever
// ran at once: in steady state a turn opens no new connection.
func TestTurnsReuseConnections(t *testing.T) {
	const chats, turns = 16, 8
	url, model, mcpSrv := loadServe(t, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		wg.Go(func() {
			c, err := load.Dial(ctx, url, i)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range turns {
				if err := c.Turn(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each chat has at most one model request and one MCP request in flight,
	// so the pools need one connection per chat. net/http puts a connection
	// back in its pool from its read loop, after the caller has seen the
	// body's end: a chat's next request can start first and dial. The issue
	// allows 0.05 new connections per turn; without reuse every call dials.
	limit := chats + chats*turns/20
	if n := model.Accepted(); n > int64(limit) {
		t.Errorf("%d turns opened %d connections to the model, want at most %d", chats*turns, n, limit)
	}
	if n := mcpSrv.Accepted(); n > int64(limit) {
		t.Errorf("%d turns opened %d connections to the MCP server, want at most %d", chats*turns, n, limit)
	}
	t.Logf("connections: model %d, MCP %d for %d turns", model.Accepted(), mcpSrv.Accepted(), chats*turns)
}

// BenchmarkServeTurns is the load tool's turn in-process, for a CPU
// profile of the server: 100 chats (each a different user) share b.N turns
// through `serve` with the Ollama provider against the load fakes
// (no latency). The figure includes the fakes and the clients.
//
//	go test -run '^$' -bench BenchmarkServeTurns -benchtime 2000x -cpuprofile cpu.out ./cmd/ai-agent/
func BenchmarkServeTurns(b *testing.B) {
	for _, storage := range []string{"memory", "sqlite"} {
		b.Run(storage, func(b *testing.B) { benchmarkServeTurns(b, storage) })
	}
}

func benchmarkServeTurns(b *testing.B, storage string) {
	const chats = 100 // at -benchtime 2000x: 20 turns each, as the load tool runs
	url, _, _ := loadServeStorage(b, 0, storage)
	ctx := context.Background()
	var all []*load.Chat
	for i := range chats {
		c, err := load.Dial(ctx, url, i)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Turn(ctx); err != nil {
			b.Fatal(err)
		}
		all = append(all, c)
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := c.Turn(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkIdleChat opens b.N chats through `serve` and leaves them idle.
// It reports what each idle chat adds to the process, both ends counted
// (the browser side runs in this process too): goroutines, goroutine stack
// and heap. The load tool's RSS per idle chat, with the server in a
// process of its own, is the figure of record.
func BenchmarkIdleChat(b *testing.B) {
	url, _, _ := loadServe(b, 0)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g := runtime.NumGoroutine()
	for i := range b.N {
		c, err := load.Dial(ctx, url, i)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	b.ReportMetric(float64(runtime.NumGoroutine()-g)/n, "goroutines/chat")
	b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n, "stack-B/chat")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/n, "heap-B/chat")
}
