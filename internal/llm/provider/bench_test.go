package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// firstChunk is each provider's first streamed chunk in its wire format.
func firstChunk(b testing.TB, provider string) (contentType string, body []byte) {
	switch provider {
	case ProviderOllama:
		return "application/x-ndjson", []byte(`{"message":{"role":"assistant","content":"Hi"},"done":false}` + "\n" + `{"message":{"role":"assistant","content":""},"done":true}` + "\n")
	case ProviderOpenAI:
		return "text/event-stream", []byte(`data: {"id":"1","choices":[{"index":0,"delta":{"content":"Hi"}}]}` + "\n\ndata: [DONE]\n\n")
	case ProviderGemini:
		return "text/event-stream", []byte(`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}]}` + "\r\n\r\n")
	default:
		return "application/vnd.amazon.eventstream", event(b, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)
	}
}

// fakeProvider returns provider p's model pointed at a local fake that
// reads each request (into rec when not nil) and answers with firstChunk,
// or, for Bedrock in mock mode, with one Converse answer.
func fakeProvider(tb testing.TB, p string, mock bool, rec *recorder) llm.Model {
	ct, answer := firstChunk(tb, p)
	if mock && p == ProviderBedrock {
		ct, answer = "application/json", []byte(`{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}`)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec != nil {
			rec.add(tb, r)
		} else {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(answer)
	}))
	tb.Cleanup(srv.Close)
	m, err := New(Config{Provider: p, Model: "m", APIKey: "k", Region: "us-east-1", BaseURL: srv.URL, Mock: mock})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkFirstToken measures, per provider, only the time from Stream to
// the first text event (ns/op) against a local fake that answers at once:
// request building, the SDK, the loopback round trip and parsing. The rest
// of the stream is read with the timer stopped, and the connection is
// reused from one iteration to the next, as in a chat.
//
//	go test -run '^$' -bench FirstToken -benchtime 500x ./internal/llm/provider/
func BenchmarkFirstToken(b *testing.B) {
	for _, p := range []string{ProviderOllama, ProviderOpenAI, ProviderGemini, ProviderBedrock} {
		b.Run(p, func(b *testing.B) {
			m := fakeProvider(b, p, false, nil)
			req := conversation()
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				got := false
				for ev, err := range m.Stream(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
					if ev.Text != "" && !got {
						b.StopTimer()
						got = true
					}
				}
				if !got {
					b.Fatal("no text")
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkFirstTokenRawHTTP is the floor: the first byte of the same kind
// of answer read with a bare http.Client on a reused connection.
func BenchmarkFirstTokenRawHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "x")
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{}}
	buf := make([]byte, 1)
	for b.Loop() {
		resp, err := c.Post(srv.URL, "application/json", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.StartTimer()
	}
}

// bigConversation is a thread as a busy chat sends it: a long system
// prompt, 30 messages (questions, tool calls and their results, answers)
// and a dozen tools with real-sized schemas; its Ollama body is ~16 KB.
func bigConversation() llm.Request {
	req := llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleSystem, Content: strings.Repeat("You are the Rancher assistant; answer about clusters. ", 60)}}}
	for i := range 7 {
		id := fmt.Sprintf("call_%d", i)
		req.Messages = append(req.Messages,
			llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf("How many pods run in namespace team-%d of cluster local?", i)},
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: id, Name: "list_pods", Arguments: json.RawMessage(fmt.Sprintf(`{"cluster":"local","namespace":"team-%d"}`, i))}}},
			llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: strings.Repeat(`{"name":"web-7d4b9c","status":"Running"},`, 6)},
			llm.Message{Role: llm.RoleAssistant, Content: fmt.Sprintf("Namespace team-%d runs 6 pods, all of them Running.", i)},
		)
	}
	req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: "And in team-9?"})
	for i := range 12 {
		req.Tools = append(req.Tools, llm.Tool{
			Name:        fmt.Sprintf("tool_%d", i),
			Description: "Lists the Kubernetes resources of one kind in a cluster, optionally filtered by namespace and label selector.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"cluster":{"type":"string","description":"Cluster ID, for example local or c-m-abc12"},"namespace":{"type":"string","description":"Namespace; empty for all namespaces"},"kind":{"type":"string","description":"Resource kind, for example Pod"},"labelSelector":{"type":"string","description":"Kubernetes label selector"},"limit":{"type":"integer","minimum":1,"maximum":500}},"required":["cluster","kind"]}`),
		})
	}
	return req
}

// BenchmarkOllamaStream is one whole Ollama model call of a busy chat
// (bigConversation) against a local fake that streams a tool call or three
// text lines and the done line, each flushed, as the load tool's fake does:
// request encoding, the HTTP round trip, NDJSON decoding. Bytes and
// allocations per call include the fake server's.
//
//	go test -run '^$' -bench OllamaStream -benchmem ./internal/llm/provider/
func BenchmarkOllamaStream(b *testing.B) {
	lines := []string{
		`{"message":{"role":"assistant","content":"Namespace team-9 "},"done":false}`,
		`{"message":{"role":"assistant","content":"runs 6 pods, "},"done":false}`,
		`{"message":{"role":"assistant","content":"all Running."},"done":false}`,
		`{"message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":10,"eval_count":5}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, l := range lines {
			_, _ = io.WriteString(w, l+"\n")
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	m, err := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	req := bigConversation()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for ev, err := range m.Stream(ctx, req) {
			if err != nil {
				b.Fatal(err)
			}
			if ev.Text != "" {
				n++
			}
		}
		if n != 3 {
			b.Fatalf("%d text events", n)
		}
	}
}

// BenchmarkBigRequest is one whole model call of each provider with the
// thread and tools of a busy chat (bigConversation) against a local fake
// that answers with firstChunk: the provider's request building and its
// SDK's encoding dominate.
//
//	go test -run '^$' -bench BigRequest -benchmem ./internal/llm/provider/
func BenchmarkBigRequest(b *testing.B) {
	for _, p := range []string{ProviderOllama, ProviderOpenAI, ProviderGemini, ProviderBedrock} {
		b.Run(p, func(b *testing.B) {
			m := fakeProvider(b, p, false, nil)
			req := bigConversation()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range m.Stream(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
