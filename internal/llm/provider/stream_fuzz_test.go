package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/rancher/ai-agent/internal/llm"
)

// cannedBody answers every request with status 200 and body, in-process.
type cannedBody struct {
	contentType string
	body        []byte
}

func (c cannedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {c.contentType}}, Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r,
	}, nil
}

// checkStream drains a stream of any provider answer: it ends, an error
// ends it, and every tool call has a name-independent valid JSON argument
// object (it is sent back to the provider on the next call).
func checkStream(t *testing.T, c Config, body []byte, contentType string) {
	c.HTTPClient = &http.Client{Transport: cannedBody{contentType, body}}
	c.Retry = RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	failed := false
	for ev, err := range m.Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
		if failed {
			t.Fatalf("event after an error: %+v", ev)
		}
		if err != nil {
			failed = true
			continue
		}
		if ev.ToolCall != nil && !json.Valid(ev.ToolCall.Arguments) {
			t.Fatalf("tool call with invalid arguments %q", ev.ToolCall.Arguments)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("stream did not end")
	}
}

// FuzzOllamaStream: Ollama's NDJSON chat stream.
func FuzzOllamaStream(f *testing.F) {
	for _, s := range []string{
		`{"message":{"content":"Hi"},"done":false}` + "\n" + `{"message":{"content":"!"},"done":true,"prompt_eval_count":3,"eval_count":2}`,
		`{"message":{"thinking":"hmm","tool_calls":[{"function":{"name":"add","arguments":{"a":1}}}]},"done":true}`,
		`{"error":"model not found"}`, `{"message":`, "\n\n", `{"done":true}`, `{"message":{"content":"<think>x"},"done":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStream(t, Config{Provider: ProviderOllama, Model: "m", BaseURL: "http://ollama.invalid"}, body, "application/x-ndjson")
	})
}

// FuzzOpenAIStream: OpenAI's server-sent events (chat completions chunks).
func FuzzOpenAIStream(f *testing.F) {
	for _, s := range []string{
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\ndata: [DONE]\n\n",
		"event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n", "data: {\n\n", ": comment\n\n", "data: [DONE]\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStream(t, Config{Provider: ProviderOpenAI, Model: "gpt", APIKey: "k", BaseURL: "http://openai.invalid/v1"}, body, "text/event-stream")
	})
}

// bedrockEventTypes are the ConverseStream event types a fuzzed payload is
// sent as.
var bedrockEventTypes = []string{"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"}

// FuzzBedrockStream: the AWS event stream of ConverseStream. raw sends the
// bytes as they are (framing, CRCs); otherwise each payload is framed
// correctly as an event of the chosen type, so the JSON of the events is
// what is fuzzed.
func FuzzBedrockStream(f *testing.F) {
	f.Add(false, uint8(2), `{"contentBlockIndex":0,"delta":{"text":"Hi"}}`, `{"usage":{"inputTokens":1,"outputTokens":2}}`)
	f.Add(false, uint8(1), `{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t","name":"add"}}}`, `{"contentBlockIndex":1}`)
	f.Add(false, uint8(2), `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\""}}}`, `{"contentBlockIndex":1}`)
	f.Add(true, uint8(0), "\x00\x00\x00\x10\x00\x00\x00\x00", "")
	f.Fuzz(func(t *testing.T, raw bool, kind uint8, first, second string) {
		var body []byte
		if raw {
			body = []byte(first + second)
		} else {
			var buf bytes.Buffer
			for i, p := range []string{`{"role":"assistant"}`, first, second} {
				name := bedrockEventTypes[0]
				if i > 0 {
					name = bedrockEventTypes[(int(kind)+i-1)%len(bedrockEventTypes)]
				}
				var h eventstream.Headers
				h.Set(":message-type", eventstream.StringValue("event"))
				h.Set(":event-type", eventstream.StringValue(name))
				h.Set(":content-type", eventstream.StringValue("application/json"))
				if err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: h, Payload: []byte(p)}); err != nil {
					t.Fatal(err)
				}
			}
			body = buf.Bytes()
		}
		checkStream(t, Config{Provider: ProviderBedrock, Model: "m", Region: "us-east-1", APIKey: "k", BaseURL: "http://bedrock.invalid"}, body, "application/vnd.amazon.eventstream")
	})
}
