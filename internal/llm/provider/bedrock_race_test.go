package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// Concurrent ConverseStream calls on one client: each stream gets back the
// answer to its own question. The client's shared event-stream codec made
// them decode into one payload buffer (a data race under -race, and one
// chat's text in another's); ownCodec gives each call its own.
func TestBedrockConcurrentStreamsKeepTheirOwnEvents(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec recorder
		rec.add(t, r)
		msgs, _ := rec.all()[0].body["messages"].([]any)
		var question string
		if len(msgs) > 0 {
			content, _ := msgs[0].(map[string]any)["content"].([]any)
			if len(content) > 0 {
				question, _ = content[0].(map[string]any)["text"].(string)
			}
		}
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		for _, e := range [][]byte{
			event(t, "event", "messageStart", `{"role":"assistant"}`),
			event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"answer to "}}`),
			event(t, "event", "contentBlockDelta", fmt.Sprintf(`{"contentBlockIndex":0,"delta":{"text":%q}}`, question)),
			event(t, "event", "messageStop", `{"stopReason":"end_turn"}`),
			event(t, "event", "metadata", `{"usage":{"inputTokens":4,"outputTokens":3,"totalTokens":7},"metrics":{"latencyMs":1}}`),
		} {
			_, _ = w.Write(e)
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	m, err := New(Config{Provider: ProviderBedrock, Model: "anthropic.claude", Region: "us-east-1", APIKey: "br-secret", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			q := fmt.Sprintf("question %d %s", i, strings.Repeat("x", i*40))
			r := drain(testCtx(t), m, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: q}}})
			if r.err != nil || joined(r) != "answer to |"+q {
				t.Errorf("stream %d: %v, text %q", i, r.err, joined(r))
			}
		})
	}
	wg.Wait()
}
