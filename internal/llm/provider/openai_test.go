package provider

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// OpenAI Chat Completions streaming (API reference, "The chat completion
// chunk object"): SSE data lines with choices[].delta; a tool call's id and
// name come in its first fragment and the arguments string in pieces; with
// stream_options.include_usage a last chunk with empty choices has usage.
func TestOpenAIRequestAndStream(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"The answer "}}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"is 3."}}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"add","arguments":""}}]}}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1,"}}]}}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"b\":2}"}}]}}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
			`{"id":"1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29}}`,
			`[DONE]`,
		} {
			flush(w, "data: "+d+"\n\n")
		}
	}))
	defer srv.Close()
	for _, p := range []string{ProviderOpenAI, ProviderGenericOpenAI} {
		t.Run(p, func(t *testing.T) {
			m, err := New(Config{Provider: p, Model: "gpt-4o", APIKey: "sk-secret", BaseURL: srv.URL + "/v1"})
			if err != nil {
				t.Fatal(err)
			}
			r := drain(testCtx(t), m, conversation())
			if r.err != nil {
				t.Fatal(r.err)
			}
			if joined(r) != "The answer |is 3." {
				t.Fatalf("text %q", r.text)
			}
			if len(r.calls) != 1 || r.calls[0].ID != "call_9" || r.calls[0].Name != "add" || string(r.calls[0].Arguments) != `{"a":1,"b":2}` {
				t.Fatalf("calls %+v", r.calls)
			}
			if r.usage == nil || *r.usage != (llm.Usage{InputTokens: 20, OutputTokens: 9}) {
				t.Fatalf("usage %+v", r.usage)
			}
		})
	}
	for _, req := range rec.all() {
		if req.method != "POST" || req.path != "/v1/chat/completions" || req.header.Get("Authorization") != "Bearer sk-secret" {
			t.Fatalf("request %s %s auth %q", req.method, req.path, req.header.Get("Authorization"))
		}
		for k, want := range map[string]string{
			"model":          `"override-model"`,
			"stream":         `true`,
			"stream_options": `{"include_usage":true}`,
			"messages": `[
				{"role":"system","content":"You are helpful."},
				{"role":"user","content":"1+2?"},
				{"role":"assistant","content":"Let me add.","tool_calls":[{"id":"c1","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}}]},
				{"role":"tool","content":"boom","tool_call_id":"c1"}]`,
			"tools": `[{"type":"function","function":{"name":"add","description":"Adds two numbers.",
				"parameters":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}}]`,
		} {
			sameJSON(t, k, req.body[k], want)
		}
	}
}

func TestOpenAIErrors(t *testing.T) {
	t.Run("429 retried, then 401 not retried and key not echoed", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if rec.add(t, r) == 1 {
				w.WriteHeader(http.StatusTooManyRequests)
				flush(w, `{"error":{"message":"Rate limit reached","type":"requests"}}`)
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
			flush(w, `{"error":{"message":"Incorrect API key provided: sk-secret","type":"invalid_request_error"}}`)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOpenAI, Model: "gpt-4o", APIKey: "sk-secret", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		var ae *APIError
		if !errors.As(r.err, &ae) || ae.Status != 401 || len(rec.all()) != 2 {
			t.Fatalf("err %v after %d calls", r.err, len(rec.all()))
		}
		if strings.Contains(r.err.Error(), "sk-secret") {
			t.Fatalf("key in error: %v", r.err)
		}
	})
	t.Run("error event mid-stream", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			flush(w, `data: {"id":"1","choices":[{"index":0,"delta":{"content":"par"}}]}`+"\n\n")
			flush(w, `data: {"error":{"message":"The server had an error","type":"server_error"}}`+"\n\n")
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOpenAI, Model: "gpt-4o", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
	t.Run("connection lost mid-stream", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			flush(w, `data: {"id":"1","choices":[{"index":0,"delta":{"content":"par"}}]}`+"\n\n")
			breakConn(t, w)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOpenAI, Model: "gpt-4o", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
}
