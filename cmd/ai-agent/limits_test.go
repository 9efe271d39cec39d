package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// TestServeBoundsChatsPerUser: MAX_CHATS_PER_USER bounds the open chat
// sockets of one user; a bad value stops the start.
func TestServeBoundsChatsPerUser(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	cfg := ghConfig(t, "http://127.0.0.1:1/mcp", mcpSrv.URL+"/mcp")
	vars := map[string]string{"RANCHER_URL": repRancher(t), "ACTIVE_LLM": "scripted", "STORAGE": "memory", "MAX_CHATS_PER_USER": "1"}
	addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return vars[k] })
	defer stop()
	first := repDial(t, "http://"+addr, "/v1/ws/messages", "alice")
	first.Metadata()
	second := repDial(t, "http://"+addr, "/v1/ws/messages", "alice")
	if f := second.Read(); f != `<chat-error>{"message":"Too many open chats: at most 1 at a time per user. Close another chat window and try again."}</chat-error>` {
		t.Fatalf("second socket got %q", f)
	}
	bob := repDial(t, "http://"+addr, "/v1/ws/messages", "bob")
	bob.Metadata()
	if code, _ := repDo(t, http.MethodGet, "http://"+addr+"/v1/api/settings", "alice", ""); code != http.StatusOK {
		t.Fatalf("REST is not bounded by sockets: %d", code)
	}

	vars["MAX_CHATS_PER_USER"] = "lots"
	var out logtest.Buffer
	err := serve(context.Background(), []string{"--config", cfg, "--listen", "127.0.0.1:0"}, func(k string) string { return vars[k] }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "MAX_CHATS_PER_USER") {
		t.Fatalf("err = %v", err)
	}
}
