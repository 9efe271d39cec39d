package mcp

import (
	"encoding/json"
	"reflect"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzParseResult: any text a tool returns becomes a Result whose uiContext,
// when set, is a JSON object or array (it goes to the browser verbatim in
// <mcp-response>) and whose model text is never lost: without an "llm"
// member the model sees the raw text. The lean tools/call, reading the
// JSON-RPC answer itself, makes the same Result as go-sdk's CallToolResult.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"llm":"3 pods","uiContext":[{"kind":"Pod","name":"a"}],"docLinks":["https://docs"]}`,
		`{"llm":{"pods":3},"uiContext":{"k":1}}`,
		`{"llm":null,"uiContext":"text"}`, `{"uiContext":[1,2]}`, `plain`, `{`, `{"llm":"x"} trailing`, ` {"docLinks":[1]}`,
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, text string, isError bool) {
		sres := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}, &sdk.ImageContent{MIMEType: "image/png"}}, IsError: isError}
		r := parseResult(sres)
		wire, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "ai-agent-1", "result": sres})
		if err != nil {
			t.Fatal(err)
		}
		// What either client reads from the same bytes (invalid UTF-8 is
		// already replaced on the wire).
		var msg wireMessage
		var sdkMsg struct{ Result *sdk.CallToolResult }
		if err := json.Unmarshal(wire, &msg); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(wire, &sdkMsg); err != nil {
			t.Fatal(err)
		}
		lean, err := answer(&msg, "ai-agent-1")
		if want := parseResult(sdkMsg.Result); err != nil || !reflect.DeepEqual(lean, want) {
			t.Fatalf("lean %+v (%v), go-sdk %+v", lean, err, want)
		}
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
