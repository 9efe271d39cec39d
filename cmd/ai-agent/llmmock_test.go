package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm/llmmock"
)

// mockServe runs `serve` with ACTIVE_LLM=provider in mock mode against an
// llmmock server, with the given agents (all on the demo MCP server), and
// returns the agent's address and the mock.
func mockServe(t *testing.T, provider string, agents ...string) (string, *llmmock.Mock) {
	t.Helper()
	mcpSrv := httptest.NewServer(demo.Handler())
	t.Cleanup(mcpSrv.Close)
	mock := llmmock.New()
	mockSrv := httptest.NewServer(mock)
	t.Cleanup(mockSrv.Close)
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("R_SESS"); err != nil || c.Value != "tok" {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"u-1"}]}`)
	}))
	t.Cleanup(rancher.Close)
	var docs []string
	for _, name := range agents {
		docs = append(docs, fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata:
  name: %[1]s
  namespace: cattle-ai-agent-system
spec:
  displayName: %[1]s
  description: The %[1]s agent
  systemPrompt: You answer about %[1]s.
  mcpURL: %[2]s/mcp
  authenticationType: NONE
`, name, mcpSrv.URL))
	}
	cfg := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"RANCHER_URL": rancher.URL, "ACTIVE_LLM": provider, "LOG_LEVEL": "debug", "STORAGE": "memory",
		"OLLAMA_MODEL": "x", "OPENAI_MODEL": "x", "GEMINI_MODEL": "x", "BEDROCK_MODEL": "x", "GENERIC_OPENAI_MODEL": "x", "LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": mockSrv.URL,
	}
	addr, _, _ := runServe(t, []string{"--config", cfg}, func(k string) string { return env[k] })
	return addr, mock
}

// toolResult is what the demo MCP server's add tool answers for 1+2.
const toolResult = "The sum of 1 and 2 is 3."

// TestMockModeEndToEnd is the UI e2e setup (ui-protocol §8) through the real
// provider clients: the mock's queue drives the calls, and every streamed
// chunk reaches the WebSocket as its own frame.
func TestMockModeEndToEnd(t *testing.T) {
	for _, provider := range []string{"ollama", "openai", "gemini", "bedrock"} {
		t.Run(provider+"/one agent", func(t *testing.T) {
			addr, mock := mockServe(t, provider, "cluster")
			if err := mock.Push([]byte(`{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["<think>","hmm","</think>","The answer ","is 3."]}}`)); err != nil {
				t.Fatal(err)
			}
			c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
			c.Read() // chat metadata
			frames := c.Ask(`{"prompt":"1+2?","context":{}}`)
			want := []string{"<message>", "<think>", "hmm", "</think>", "The answer ", "is 3.", "</message>"}
			if strings.Join(frames, "|") != strings.Join(want, "|") {
				t.Fatalf("frames %q", frames)
			}
			calls := mock.Calls()
			if len(calls) != 2 {
				t.Fatalf("mock saw %d calls, want 2", len(calls))
			}
			for _, c := range calls {
				if c.Provider != provider {
					t.Fatalf("call went to %s", c.Provider)
				}
			}
			// The answer call carried the tool's result back to the model.
			if !strings.Contains(string(calls[1].Body), toolResult) {
				t.Fatalf("second call body %s", calls[1].Body)
			}
		})
		t.Run(provider+"/three agents", func(t *testing.T) {
			addr, mock := mockServe(t, provider, "cluster", "fleet", "docs")
			if err := mock.Push([]byte(`{"agent":"fleet","mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["Fleet ","says 3."]}}`)); err != nil {
				t.Fatal(err)
			}
			c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
			c.Read()
			frames := c.Ask(`{"prompt":"1+2?","context":{}}`)
			want := []string{"<message>", `<agent-metadata>{"agentName":"fleet","selectionMode":"auto"}</agent-metadata>`, "Fleet ", "says 3.", "</message>"}
			if strings.Join(frames, "|") != strings.Join(want, "|") {
				t.Fatalf("frames %q", frames)
			}
			calls := mock.Calls()
			if len(calls) != 3 {
				t.Fatalf("mock saw %d calls, want 3", len(calls))
			}
			// Routing offers the agents, not the MCP tools; the agent call offers
			// the MCP tools; the answer call carries the tool result.
			if b := string(calls[0].Body); !strings.Contains(b, "fleet") || strings.Contains(b, "listKubernetesResources") {
				t.Fatalf("routing call %s", b)
			}
			if b := string(calls[1].Body); !strings.Contains(b, "listKubernetesResources") {
				t.Fatalf("agent call %s", b)
			}
			if b := string(calls[2].Body); !strings.Contains(b, toolResult) {
				t.Fatalf("answer call %s", b)
			}
			if mock.Len() != 0 {
				t.Fatalf("%d entries left", mock.Len())
			}
		})
	}
}
