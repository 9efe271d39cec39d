package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// firstChunk is each provider's first streamed chunk in its wire format.
func firstChunk(b *testing.B, provider string) (contentType string, body []byte) {
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
			ct, body := firstChunk(b, p)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			m, err := New(Config{Provider: p, Model: "m", APIKey: "k", Region: "us-east-1", BaseURL: srv.URL})
			if err != nil {
				b.Fatal(err)
			}
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
