package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/load"
)

// TestTurnsReuseConnections: many concurrent chats, each a different user,
// each running several turns (model → MCP tools/call → model) through
// `serve` with the Ollama provider. However many turns run, the agent opens
// no more connections to the model and to the MCP server than turns ever
// ran at once: in steady state a turn opens no new connection.
func TestTurnsReuseConnections(t *testing.T) {
	const chats, turns = 16, 8
	var servers []*load.Server
	model, err := load.Serve(load.OllamaHandler(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	mcpSrv, err := load.Serve(load.MCPHandler(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	users, err := load.Serve(load.RancherHandler())
	if err != nil {
		t.Fatal(err)
	}
	servers = append(servers, model, mcpSrv, users)
	t.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
	})
	cfg := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(cfg, []byte(load.AgentConfig(mcpSrv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RANCHER_URL": users.URL, "ACTIVE_LLM": "ollama", "OLLAMA_URL": model.URL,
		"OLLAMA_MODEL": "m", "STORAGE": "memory"}
	addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return env[k] })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		wg.Go(func() {
			c, err := load.Dial(ctx, "ws://"+addr+"/v1/ws/messages", i)
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
	// Each chat has at most one model request and one MCP request in flight.
	if n := model.Accepted(); n > chats {
		t.Errorf("%d turns opened %d connections to the model, want at most %d", chats*turns, n, chats)
	}
	if n := mcpSrv.Accepted(); n > chats {
		t.Errorf("%d turns opened %d connections to the MCP server, want at most %d", chats*turns, n, chats)
	}
	t.Logf("connections: model %d, MCP %d, Rancher %d for %d turns", model.Accepted(), mcpSrv.Accepted(), users.Accepted(), chats*turns)
	stop()
}
