package provider

import (
	"bytes"
	"encoding/json"

	"github.com/rancher/ai-agent/internal/llm"
)

// thinker turns a provider's separate reasoning channel (Ollama "thinking",
// Gemini thought parts, Bedrock reasoningContent) into the <think>…</think>
// text the UI renders as a collapsible block. Models that put the tags in
// their text already need nothing: text is passed through unchanged.
type thinker struct{ open bool }

// pieces returns the text deltas to emit for one chunk, in order.
func (t *thinker) pieces(thinking, text string) []string {
	var out []string
	if thinking != "" {
		if !t.open {
			out = append(out, "<think>")
			t.open = true
		}
		out = append(out, thinking)
	}
	if text != "" {
		if t.open {
			out = append(out, "</think>")
			t.open = false
		}
		out = append(out, text)
	}
	return out
}

// close ends an open think block at the end of the response.
func (t *thinker) close() []string {
	if t.open {
		t.open = false
		return []string{"</think>"}
	}
	return nil
}

// toolNames maps tool call ids to tool names, for providers whose tool
// result refers to the tool by name (Ollama, Gemini).
func toolNames(msgs []llm.Message) map[string]string {
	out := map[string]string{}
	for _, m := range msgs {
		for _, c := range m.ToolCalls {
			out[c.ID] = c.Name
		}
	}
	return out
}

// argsObject decodes tool call arguments into an object; anything else
// (empty, invalid) becomes an empty object, which every provider accepts.
func argsObject(raw json.RawMessage) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// argsJSON is argsObject without decoding: raw itself when it is a JSON
// object, else {}. The thread's arguments are sent on every model call, so
// they are not decoded and encoded again each time.
func argsJSON(raw json.RawMessage) json.RawMessage {
	if isObject(raw) {
		return raw
	}
	return json.RawMessage(`{}`)
}

// schemaJSON is schemaObject without decoding.
func schemaJSON(raw json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(raw); isObject(t) && len(bytes.TrimSpace(t[1:len(t)-1])) > 0 {
		return t
	}
	return json.RawMessage(`{"type":"object","properties":{}}`)
}

// isObject reports whether raw is one valid JSON object.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) >= 2 && t[0] == '{' && json.Valid(t)
}

// schemaObject decodes a tool's JSON schema, defaulting to an empty object
// schema so that tools without parameters are still valid.
func schemaObject(raw json.RawMessage) map[string]any {
	m := argsObject(raw)
	if len(m) == 0 {
		return map[string]any{"type": "object", "properties": map[string]any{}}
	}
	return m
}

// modelOf picks the per-request override or the configured default.
func modelOf(req llm.Request, def string) string {
	if req.Model != "" {
		return req.Model
	}
	return def
}
