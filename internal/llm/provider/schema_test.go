package provider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// richToolSchema has the JSON Schema 2020-12 keywords an MCP tool may use
// (the conformance suite's json-schema-2020-12-preservation fixture has the
// same kinds): none may be dropped, rewritten or dereferenced on the way to
// the model.
const richToolSchema = `{
 "$schema": "https://json-schema.org/draft/2020-12/schema",
 "type": "object",
 "$defs": {"address": {"$anchor": "addr", "type": "object", "properties": {"city": {"type": "string"}}}},
 "properties": {
  "home": {"$ref": "#/$defs/address"},
  "profile": {"$ref": "https://example.com/schemas/profile.json"},
  "kind": {"anyOf": [{"const": "a"}, {"const": "b"}]},
  "n": {"allOf": [{"type": "integer"}, {"minimum": 1}]}
 },
 "if": {"properties": {"kind": {"const": "a"}}},
 "then": {"required": ["home"]},
 "else": {"required": ["n"]},
 "additionalProperties": false
}`

func TestToolSchemaReachesModelUnchanged(t *testing.T) {
	for _, tt := range []struct {
		provider string
		stream   string
		params   func(body map[string]any) any
	}{
		{ProviderOpenAI, "data: [DONE]\n\n", func(b map[string]any) any {
			return b["tools"].([]any)[0].(map[string]any)["function"].(map[string]any)["parameters"]
		}},
		{ProviderOllama, `{"message":{"role":"assistant","content":""},"done":true}` + "\n", func(b map[string]any) any {
			return b["tools"].([]any)[0].(map[string]any)["function"].(map[string]any)["parameters"]
		}},
		{ProviderGemini, `data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP"}]}` + "\r\n\r\n", func(b map[string]any) any {
			return b["tools"].([]any)[0].(map[string]any)["functionDeclarations"].([]any)[0].(map[string]any)["parametersJsonSchema"]
		}},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			var rec recorder
			fetched := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/schemas/profile.json" {
					fetched++
				}
				rec.add(t, r)
				flush(w, tt.stream)
			}))
			defer srv.Close()
			base := srv.URL
			if tt.provider == ProviderOpenAI {
				base += "/v1"
			}
			m, err := New(Config{Provider: tt.provider, Model: "m", APIKey: "k", BaseURL: base})
			if err != nil {
				t.Fatal(err)
			}
			req := llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
				Tools:    []llm.Tool{{Name: "rich", Description: "d", InputSchema: json.RawMessage(richToolSchema)}},
			}
			if r := drain(testCtx(t), m, req); r.err != nil {
				t.Fatal(r.err)
			}
			reqs := rec.all()
			if len(reqs) != 1 || fetched != 0 {
				t.Fatalf("%d requests, schema fetched %d times", len(reqs), fetched)
			}
			sameJSON(t, "tool parameters", tt.params(reqs[0].body), richToolSchema)
		})
	}
}
