package provider

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// result is a drained stream.
type result struct {
	text  []string
	calls []llm.ToolCall
	usage *llm.Usage
	err   error
}

func drain(ctx context.Context, m llm.Model, req llm.Request) result {
	var r result
	for ev, err := range m.Stream(ctx, req) {
		if err != nil {
			r.err = err
			return r
		}
		switch {
		case ev.Text != "":
			r.text = append(r.text, ev.Text)
		case ev.ToolCall != nil:
			r.calls = append(r.calls, *ev.ToolCall)
		case ev.Usage != nil:
			r.usage = ev.Usage
		}
	}
	return r
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seen is one request a fake received.
type seen struct {
	method, path, query string
	header              http.Header
	body                map[string]any
}

// recorder collects requests of a fake provider.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rc *recorder) add(t testing.TB, r *http.Request) int {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not JSON: %s", raw)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
	return len(rc.reqs)
}

func (rc *recorder) all() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]seen(nil), rc.reqs...)
}

// sameJSON fails unless got (decoded JSON) equals the JSON text want.
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON for %s: %v", what, err)
	}
	g, _ := json.Marshal(got)
	var gv any
	_ = json.Unmarshal(g, &gv)
	if !reflect.DeepEqual(gv, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, want)
	}
}

// flush writes s and flushes it to the client.
func flush(w http.ResponseWriter, s string) {
	_, _ = io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

// breakConn drops the connection mid-response: the client sees a failure
// after the bytes already flushed.
func breakConn(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// conversation is the request every provider test sends: system prompt,
// user question, an earlier tool call with its (failed) result, and a tool.
func conversation() llm.Request {
	return llm.Request{
		Model: "override-model",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are helpful."},
			{Role: llm.RoleUser, Content: "1+2?"},
			{Role: llm.RoleAssistant, Content: "Let me add.", ToolCalls: []llm.ToolCall{{ID: "c1", Name: "add", Arguments: json.RawMessage(`{"a":1,"b":2}`)}}},
			{Role: llm.RoleTool, ToolCallID: "c1", Content: "boom", IsError: true},
		},
		Tools: []llm.Tool{{Name: "add", Description: "Adds two numbers.", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}`)}},
	}
}

func fastRetry() RetryPolicy {
	return RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}
}

func joined(r result) string { return strings.Join(r.text, "|") }
