package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// parseResult turns a go-sdk tools/call result into a Result.
func parseResult(res *sdk.CallToolResult) Result {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*sdk.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return parseText(b.String(), res.IsError)
}

// parseText makes the Result of a tool's text content (all its text items,
// concatenated): a JSON object's llm, uiContext and docLinks members are
// picked out, any other text is for the model as it is.
func parseText(text string, isError bool) Result {
	r := Result{Raw: text, ForModel: text, IsError: isError}
	trimmed := strings.TrimSpace(r.Raw)
	if !strings.HasPrefix(trimmed, "{") {
		return r
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
		return r
	}
	if llm, ok := obj["llm"]; ok && !isNull(llm) {
		var s string
		if err := json.Unmarshal(llm, &s); err == nil {
			r.ForModel = s
		} else {
			var buf bytes.Buffer
			if err := json.Compact(&buf, llm); err == nil {
				r.ForModel = buf.String()
			}
		}
	}
	if ui, ok := obj["uiContext"]; ok {
		if t := bytes.TrimSpace(ui); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			r.UIContext = append(json.RawMessage(nil), t...)
		}
	}
	if dl, ok := obj["docLinks"]; ok {
		var links []string
		if err := json.Unmarshal(dl, &links); err == nil && len(links) > 0 {
			r.DocLinks = links
		}
	}
	return r
}

func isNull(m json.RawMessage) bool { return string(bytes.TrimSpace(m)) == "null" }

// convertTools filters and converts the server's tools for the model: only
// tools of toolSet (when set) and never *Plan tools.
func convertTools(in []*sdk.Tool, toolSet string) ([]Tool, error) {
	out := make([]Tool, 0, len(in))
	for _, t := range in {
		if t == nil || strings.HasSuffix(t.Name, "Plan") {
			continue
		}
		if toolSet != "" {
			if ts, _ := t.Meta["toolset"].(string); ts != toolSet {
				continue
			}
		}
		schema, err := json.Marshal(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("tool %q: input schema: %w", t.Name, err)
		}
		tool := Tool{Name: t.Name, Description: t.Description, InputSchema: schema}
		if a := t.Annotations; a != nil {
			tool.ReadOnlyHint = a.ReadOnlyHint
			tool.DestructiveHint = a.DestructiveHint != nil && *a.DestructiveHint
		}
		out = append(out, tool)
	}
	return out, nil
}
