package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeLatency is the fake provider's own time to first byte.
const fakeLatency = 5 * time.Millisecond

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

// BenchmarkFirstToken measures, per provider, the time from Stream to the
// first text event against a local fake that waits fakeLatency before its
// first byte; the "overhead-µs" metric is that time minus fakeLatency: what
// our client (request building, SDK, parsing) adds.
//
//	go test -run '^$' -bench FirstToken -benchtime 200x ./internal/llm/
func BenchmarkFirstToken(b *testing.B) {
	for _, p := range []string{ProviderOllama, ProviderOpenAI, ProviderGemini, ProviderBedrock} {
		b.Run(p, func(b *testing.B) {
			ct, body := firstChunk(b, p)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(fakeLatency)
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
			var total time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				got := false
				for ev, err := range m.Stream(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
					if ev.Text != "" && !got {
						total += time.Since(start)
						got = true
					}
				}
				if !got {
					b.Fatal("no text")
				}
			}
			b.ReportMetric(float64((total/time.Duration(b.N))-fakeLatency)/float64(time.Microsecond), "overhead-µs")
		})
	}
}

// BenchmarkFirstTokenRawHTTP is the floor: the same fake read with a bare
// http.Client (loopback plus timer granularity), to subtract from the above.
func BenchmarkFirstTokenRawHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(fakeLatency)
		fmt.Fprint(w, "x")
	}))
	defer srv.Close()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		resp, err := http.Post(srv.URL, "application/json", nil)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 1)
		_, _ = resp.Body.Read(buf)
		total += time.Since(start)
		resp.Body.Close()
	}
	b.ReportMetric(float64((total/time.Duration(b.N))-fakeLatency)/float64(time.Microsecond), "overhead-µs")
}
