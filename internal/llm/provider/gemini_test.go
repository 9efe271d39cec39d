package provider

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// Gemini API streamGenerateContent?alt=sse (REST reference): SSE data lines
// holding GenerateContentResponse objects; thought parts have thought:true;
// functionCall parts come whole; usageMetadata is cumulative.
func TestGeminiRequestAndStream(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking.","thought":true}]}}]}`,
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"The answer "}]}}]}`,
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"is 3."},{"functionCall":{"name":"add","args":{"a":1,"b":2}}}]}}]}`,
			`{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":5,"thoughtsTokenCount":2}}`,
		} {
			flush(w, "data: "+d+"\r\n\r\n")
		}
	}))
	defer srv.Close()
	m, err := New(Config{Provider: ProviderGemini, Model: "gemini-2.5-pro", APIKey: "g-secret", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	req := conversation()
	req.Model = "gemini-2.5-flash"
	r := drain(testCtx(t), m, req)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if joined(r) != "<think>|Thinking.|</think>|The answer |is 3." {
		t.Fatalf("text %q", r.text)
	}
	if len(r.calls) != 1 || r.calls[0].Name != "add" || string(r.calls[0].Arguments) != `{"a":1,"b":2}` {
		t.Fatalf("calls %+v", r.calls)
	}
	if r.usage == nil || *r.usage != (llm.Usage{InputTokens: 30, OutputTokens: 7}) {
		t.Fatalf("usage %+v", r.usage)
	}
	reqs := rec.all()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	if q.method != "POST" || q.path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || q.query != "alt=sse" || q.header.Get("x-goog-api-key") != "g-secret" {
		t.Fatalf("request %s %s?%s key %q", q.method, q.path, q.query, q.header.Get("x-goog-api-key"))
	}
	for k, want := range map[string]string{
		"systemInstruction": `{"parts":[{"text":"You are helpful."}],"role":"user"}`,
		"contents": `[
			{"role":"user","parts":[{"text":"1+2?"}]},
			{"role":"model","parts":[{"text":"Let me add."},{"functionCall":{"id":"c1","name":"add","args":{"a":1,"b":2}}}]},
			{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"add","response":{"error":"boom"}}}]}]`,
		"tools": `[{"functionDeclarations":[{"name":"add","description":"Adds two numbers.",
			"parametersJsonSchema":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}]}]`,
		"generationConfig": `{"thinkingConfig":{"thinkingBudget":0}}`,
	} {
		if k == "systemInstruction" {
			// The SDK may or may not add a role to the system instruction.
			if si, ok := q.body[k].(map[string]any); ok {
				delete(si, "role")
			}
			want = `{"parts":[{"text":"You are helpful."}]}`
		}
		sameJSON(t, k, q.body[k], want)
	}
}

func TestGeminiErrors(t *testing.T) {
	t.Run("503 retried then 400 not", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if rec.add(t, r) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				flush(w, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			flush(w, `{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}`)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderGemini, Model: "gemini-2.5-pro", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		var ae *APIError
		if !errors.As(r.err, &ae) || ae.Status != 400 || ae.Message != "API key not valid." || len(rec.all()) != 2 {
			t.Fatalf("err %v after %d calls", r.err, len(rec.all()))
		}
	})
	t.Run("connection lost mid-stream", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			flush(w, `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"par"}]}}]}`+"\r\n\r\n")
			breakConn(t, w)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderGemini, Model: "gemini-2.5-pro", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
}
