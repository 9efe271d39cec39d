package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// Ollama's /api/chat (docs/api.md): NDJSON chunks {message, done}; tool
// calls arrive whole with arguments as an object; the last chunk carries
// prompt_eval_count and eval_count.
func TestOllamaRequestAndStream(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		w.Header().Set("Content-Type", "application/x-ndjson")
		flush(w, `{"message":{"role":"assistant","content":"","thinking":"Let me think."},"done":false}`+"\n")
		flush(w, `{"message":{"role":"assistant","content":"The answer "},"done":false}`+"\n")
		flush(w, `{"message":{"role":"assistant","content":"is 3."},"done":false}`+"\n")
		flush(w, `{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"add","arguments":{"a":1,"b":2}}}]},"done":false}`+"\n")
		flush(w, `{"message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":12,"eval_count":7}`+"\n")
	}))
	defer srv.Close()
	m, err := New(Config{Provider: ProviderOllama, Model: "llama3", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := drain(testCtx(t), m, conversation())
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := joined(r); got != "<think>|Let me think.|</think>|The answer |is 3." {
		t.Fatalf("text %q", got)
	}
	if len(r.calls) != 1 || r.calls[0].Name != "add" || string(r.calls[0].Arguments) != `{"a":1,"b":2}` || r.calls[0].ID == "" {
		t.Fatalf("calls %+v", r.calls)
	}
	if r.usage == nil || *r.usage != (llm.Usage{InputTokens: 12, OutputTokens: 7}) {
		t.Fatalf("usage %+v", r.usage)
	}
	reqs := rec.all()
	if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].path != "/api/chat" || reqs[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %+v", reqs)
	}
	sameJSON(t, "body", reqs[0].body, `{
		"model":"override-model","stream":true,
		"messages":[
			{"role":"system","content":"You are helpful."},
			{"role":"user","content":"1+2?"},
			{"role":"assistant","content":"Let me add.","tool_calls":[{"id":"c1","function":{"name":"add","arguments":{"a":1,"b":2}}}]},
			{"role":"tool","content":"boom","tool_name":"add"}],
		"tools":[{"type":"function","function":{"name":"add","description":"Adds two numbers.",
			"parameters":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}}]}`)
}

func TestOllamaErrors(t *testing.T) {
	t.Run("retries 503 then succeeds", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec.add(t, r) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				flush(w, `{"error":"loading model"}`)
				return
			}
			flush(w, `{"message":{"role":"assistant","content":"ok"},"done":true}`+"\n")
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if r.err != nil || joined(r) != "ok" || len(rec.all()) != 2 {
			t.Fatalf("err %v text %q calls %d", r.err, r.text, len(rec.all()))
		}
	})
	t.Run("404 is not retried", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec.add(t, r)
			w.WriteHeader(http.StatusNotFound)
			flush(w, `{"error":"model \"m\" not found, try pulling it first"}`)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{})
		var ae *APIError
		if !errors.As(r.err, &ae) || ae.Status != 404 || ae.Message == "" || !errors.Is(r.err, ErrProvider) || len(rec.all()) != 1 {
			t.Fatalf("err %v, %d calls", r.err, len(rec.all()))
		}
	})
	t.Run("error line mid-stream", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			flush(w, `{"message":{"role":"assistant","content":"par"},"done":false}`+"\n")
			flush(w, `{"error":"out of memory"}`+"\n")
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) || !errors.Is(r.err, ErrProvider) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
	t.Run("connection lost mid-stream", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			flush(w, `{"message":{"role":"assistant","content":"par"},"done":false}`+"\n")
			breakConn(t, w)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
	t.Run("cancel while streaming", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			flush(w, `{"message":{"role":"assistant","content":"par"},"done":false}`+"\n")
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		m, _ := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL})
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		var err error
		for ev, e := range m.Stream(ctx, llm.Request{}) {
			if ev.Text == "par" {
				cancel()
			}
			if e != nil {
				err = e
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	})
}
