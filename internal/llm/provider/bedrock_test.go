package provider

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// event encodes one Bedrock ConverseStream event in the AWS event stream
// binary framing (application/vnd.amazon.eventstream).
func event(t testing.TB, msgType, name, payload string) []byte {
	var h eventstream.Headers
	h.Set(":message-type", eventstream.StringValue(msgType))
	if msgType == "exception" {
		h.Set(":exception-type", eventstream.StringValue(name))
	} else {
		h.Set(":event-type", eventstream.StringValue(name))
	}
	h.Set(":content-type", eventstream.StringValue("application/json"))
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: h, Payload: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bedrockFake(t *testing.T, rec *recorder, events ...[]byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		for _, e := range events {
			if e == nil {
				breakConn(t, w)
				return
			}
			_, _ = w.Write(e)
			w.(http.Flusher).Flush()
		}
	}))
}

// Bedrock ConverseStream (API reference): messageStart, contentBlockDelta
// (text or reasoningContent), contentBlockStart/Delta/Stop for a toolUse
// whose input arrives as JSON string pieces, messageStop, metadata (usage).
func TestBedrockRequestAndStream(t *testing.T) {
	var rec recorder
	srv := bedrockFake(t, &rec,
		event(t, "event", "messageStart", `{"role":"assistant"}`),
		event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Hmm."}}}`),
		event(t, "event", "contentBlockDelta", `{"contentBlockIndex":1,"delta":{"text":"The answer "}}`),
		event(t, "event", "contentBlockDelta", `{"contentBlockIndex":1,"delta":{"text":"is 3."}}`),
		event(t, "event", "contentBlockStop", `{"contentBlockIndex":1}`),
		event(t, "event", "contentBlockStart", `{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tu_1","name":"add"}}}`),
		event(t, "event", "contentBlockDelta", `{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\":1,"}}}`),
		event(t, "event", "contentBlockDelta", `{"contentBlockIndex":2,"delta":{"toolUse":{"input":"\"b\":2}"}}}`),
		event(t, "event", "contentBlockStop", `{"contentBlockIndex":2}`),
		event(t, "event", "messageStop", `{"stopReason":"tool_use"}`),
		event(t, "event", "metadata", `{"usage":{"inputTokens":40,"outputTokens":11,"totalTokens":51},"metrics":{"latencyMs":5}}`),
	)
	defer srv.Close()
	m, err := New(Config{Provider: ProviderBedrock, Model: "anthropic.claude", Region: "us-east-1", APIKey: "br-secret", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := drain(testCtx(t), m, conversation())
	if r.err != nil {
		t.Fatal(r.err)
	}
	if joined(r) != "<think>|Hmm.|</think>|The answer |is 3." {
		t.Fatalf("text %q", r.text)
	}
	if len(r.calls) != 1 || r.calls[0].ID != "tu_1" || string(r.calls[0].Arguments) != `{"a":1,"b":2}` {
		t.Fatalf("calls %+v", r.calls)
	}
	if r.usage == nil || *r.usage != (llm.Usage{InputTokens: 40, OutputTokens: 11}) {
		t.Fatalf("usage %+v", r.usage)
	}
	q := rec.all()[0]
	if q.method != "POST" || q.path != "/model/override-model/converse-stream" || q.header.Get("Authorization") != "Bearer br-secret" {
		t.Fatalf("request %s %s auth %q", q.method, q.path, q.header.Get("Authorization"))
	}
	for k, want := range map[string]string{
		"system": `[{"text":"You are helpful."}]`,
		"messages": `[
			{"role":"user","content":[{"text":"1+2?"}]},
			{"role":"assistant","content":[{"text":"Let me add."},{"toolUse":{"toolUseId":"c1","name":"add","input":{"a":1,"b":2}}}]},
			{"role":"user","content":[{"toolResult":{"toolUseId":"c1","content":[{"text":"boom"}],"status":"error"}}]}]`,
		"toolConfig": `{"tools":[{"toolSpec":{"name":"add","description":"Adds two numbers.",
			"inputSchema":{"json":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}}}]}`,
	} {
		sameJSON(t, k, q.body[k], want)
	}
}

func TestBedrockErrors(t *testing.T) {
	t.Run("throttled then ok", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec.add(t, r) == 1 {
				w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
				w.WriteHeader(http.StatusTooManyRequests)
				flush(w, `{"message":"Too many requests"}`)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			_, _ = w.Write(event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"ok"}}`))
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderBedrock, Model: "x", Region: "us-east-1", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if r.err != nil || joined(r) != "ok" || len(rec.all()) != 2 {
			t.Fatalf("err %v text %q after %d", r.err, r.text, len(rec.all()))
		}
	})
	t.Run("403 not retried", func(t *testing.T) {
		var rec recorder
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec.add(t, r)
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.WriteHeader(http.StatusForbidden)
			flush(w, `{"message":"Invalid API key br-secret"}`)
		}))
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderBedrock, Model: "x", Region: "us-east-1", APIKey: "br-secret", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		var ae *APIError
		if !errors.As(r.err, &ae) || ae.Status != 403 || len(rec.all()) != 1 || bytes.Contains([]byte(r.err.Error()), []byte("br-secret")) {
			t.Fatalf("err %v after %d", r.err, len(rec.all()))
		}
	})
	t.Run("exception event mid-stream", func(t *testing.T) {
		var rec recorder
		srv := bedrockFake(t, &rec,
			event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"par"}}`),
			event(t, "exception", "modelStreamErrorException", `{"message":"model failed"}`),
		)
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderBedrock, Model: "x", Region: "us-east-1", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) || !errors.Is(r.err, ErrProvider) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
	t.Run("connection lost mid-stream", func(t *testing.T) {
		var rec recorder
		srv := bedrockFake(t, &rec, event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"par"}}`), nil)
		defer srv.Close()
		m, _ := New(Config{Provider: ProviderBedrock, Model: "x", Region: "us-east-1", APIKey: "k", BaseURL: srv.URL, Retry: fastRetry()})
		r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if joined(r) != "par" || !errors.Is(r.err, ErrInterrupted) {
			t.Fatalf("text %q err %v", r.text, r.err)
		}
	})
}
