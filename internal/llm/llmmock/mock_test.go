package llmmock_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/llm/llmmock"
	"github.com/rancher/ai-agent/internal/llm/provider"
)

// collect drains a stream into text chunks and tool calls.
func collect(t *testing.T, m llm.Model, req llm.Request) ([]string, []llm.ToolCall, *llm.Usage) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var text []string
	var calls []llm.ToolCall
	var usage *llm.Usage
	for ev, err := range m.Stream(ctx, req) {
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		switch {
		case ev.Text != "":
			text = append(text, ev.Text)
		case ev.ToolCall != nil:
			calls = append(calls, *ev.ToolCall)
		case ev.Usage != nil:
			usage = ev.Usage
		}
	}
	return text, calls, usage
}

// TestEveryProviderAgainstMock drives each real provider client against the
// mock: a tool-call entry, a text entry, and the empty-queue answer.
func TestEveryProviderAgainstMock(t *testing.T) {
	for _, p := range provider.Providers() {
		t.Run(p, func(t *testing.T) {
			mock := llmmock.New()
			srv := httptest.NewServer(mock)
			defer srv.Close()
			env := map[string]string{
				"ACTIVE_LLM": p, strings.ToUpper(strings.ReplaceAll(p, "-", "_")) + "_MODEL": "m-1",
				"LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": srv.URL,
			}
			model, cfg, err := provider.FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Mock || cfg.BaseURL != srv.URL {
				t.Fatalf("config %v", cfg)
			}
			resp, err := http.Post(srv.URL+"/v1/control/push", "application/json", strings.NewReader(
				`{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["<think>","hmm","</think>","The answer ","is 3."]}}`))
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("push: %v %v", resp, err)
			}
			resp.Body.Close()
			req := llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "sys"}, {Role: llm.RoleUser, Content: "1+2?"}},
				Tools: []llm.Tool{{Name: "add", Description: "adds", InputSchema: json.RawMessage(`{"type":"object"}`)}}}
			text, calls, _ := collect(t, model, req)
			if len(text) != 0 || len(calls) != 1 || calls[0].Name != "add" || string(calls[0].Arguments) != `{"a":1,"b":2}` || calls[0].ID == "" {
				t.Fatalf("first call: text %q calls %+v", text, calls)
			}
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, ToolCalls: calls},
				llm.Message{Role: llm.RoleTool, ToolCallID: calls[0].ID, Content: "3"})
			text, calls, usage := collect(t, model, req)
			if got := strings.Join(text, "|"); got != "<think>|hmm|</think>|The answer |is 3." || len(calls) != 0 {
				t.Fatalf("second call: %q %+v", got, calls)
			}
			if usage == nil || usage.OutputTokens == 0 {
				t.Fatalf("usage %+v", usage)
			}
			text, _, _ = collect(t, model, req)
			want := llmmock.EmptyText(map[string]string{"generic-openai": "openai"}[p])
			if want == llmmock.EmptyText("") {
				want = llmmock.EmptyText(p)
			}
			if strings.Join(text, "") != want {
				t.Fatalf("empty queue: %q", text)
			}
			got := mock.Calls()
			if len(got) != 3 {
				t.Fatalf("calls %d", len(got))
			}
			// The second request carried the tool result back.
			if !strings.Contains(string(got[1].Body), `"3"`) || !strings.Contains(string(got[1].Body), "add") {
				t.Fatalf("second request body %s", got[1].Body)
			}
		})
	}
}

func TestControlClearAndBadPush(t *testing.T) {
	mock := llmmock.New()
	srv := httptest.NewServer(mock)
	defer srv.Close()
	if err := mock.Push([]byte(`{"text":{"chunks":["a"]}}`)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+"/v1/control/clear", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent || mock.Len() != 0 {
		t.Fatalf("clear: %v %v len %d", resp, err, mock.Len())
	}
	resp.Body.Close()
	resp, err = http.Post(srv.URL+"/v1/control/push", "application/json", strings.NewReader(`{"agent":"x"}`))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad push: %v %v", resp, err)
	}
	resp.Body.Close()
}
