package mcp

import (
	"encoding/json"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzParseResult: any text a tool returns becomes a Result whose uiContext,
// when set, is a JSON object or array (it goes to the browser verbatim in
// <mcp-response>) and whose model text is never lost: without an "llm"
// member the model sees the raw text.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"llm":"3 pods","uiContext":[{"kind":"Pod","name":"a"}],"docLinks":["https://docs"]}`,
		`{"llm":{"pods":3},"uiContext":{"k":1}}`,
		`{"llm":null,"uiContext":"text"}`, `{"uiContext":[1,2]}`, `plain`, `{`, `{"llm":"x"} trailing`, ` {"docLinks":[1]}`,
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, text string, isError bool) {
		r := parseResult(&sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}, IsError: isError})
		if r.Raw != text || r.IsError != isError {
			t.Fatalf("raw %q error %v", r.Raw, r.IsError)
		}
		if len(r.UIContext) > 0 {
			if !json.Valid(r.UIContext) || (r.UIContext[0] != '{' && r.UIContext[0] != '[') {
				t.Fatalf("uiContext %q", r.UIContext)
			}
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(text), &obj) != nil || obj["llm"] == nil {
			if r.ForModel != text {
				t.Fatalf("model text %q, want the raw %q", r.ForModel, text)
			}
		}
	})
}
