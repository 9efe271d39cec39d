package store

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/rancher/ai-agent/internal/jsonbytes"
)

// appendRecord appends r as json.Marshal encodes it: the fields in the
// order of record, omitempty as its tags say, map keys sorted, strings and
// raw JSON escaped for HTML as encoding/json does. encoding/json's
// reflection was a sixth of a SQLite turn's write; TestEncodeMatchesMarshal
// holds the two to the same bytes.
func appendRecord(b []byte, r record) ([]byte, error) {
	var err error
	w := fieldWriter{b: b}
	w.b = append(w.b, '{')
	if r.V != 0 {
		w.int("v", int64(r.V))
	}
	w.str("role", r.Role)
	w.strOmit("content", r.Content)
	if len(r.ToolCalls) > 0 {
		w.key("toolCalls")
		if w.b, err = appendCalls(w.b, r.ToolCalls); err != nil {
			return nil, err
		}
	}
	w.strOmit("toolCallId", r.ToolCallID)
	if r.IsError {
		w.boolean("isError", true)
	}
	w.strOmit("agent", r.Agent)
	w.strOmit("userInput", r.UserInput)
	if len(r.Context) > 0 {
		w.key("context")
		w.b = append(w.b, '{')
		for i, k := range slices.Sorted(maps.Keys(r.Context)) {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(jsonbytes.AppendString(w.b, k), ':')
			if w.b, err = appendRaw(w.b, r.Context[k]); err != nil {
				return nil, err
			}
		}
		w.b = append(w.b, '}')
	}
	if len(r.Labels) > 0 {
		w.key("labels")
		w.b = append(w.b, '{')
		for i, k := range slices.Sorted(maps.Keys(r.Labels)) {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = jsonbytes.AppendString(append(jsonbytes.AppendString(w.b, k), ':'), r.Labels[k])
		}
		w.b = append(w.b, '}')
	}
	if len(r.Tags) > 0 {
		w.key("tags")
		w.b = append(w.b, '[')
		for i, t := range r.Tags {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = jsonbytes.AppendString(w.b, t)
		}
		w.b = append(w.b, ']')
	}
	w.strOmit("requestId", r.RequestID)
	if len(r.MCPResponses) > 0 {
		w.key("mcpResponses")
		w.b = append(w.b, '[')
		for i, raw := range r.MCPResponses {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			if w.b, err = appendRaw(w.b, raw); err != nil {
				return nil, err
			}
		}
		w.b = append(w.b, ']')
	}
	if u := r.Usage; u != nil {
		w.key("usage")
		w.b = append(w.b, '{')
		inner := fieldWriter{b: w.b}
		inner.int("inputTokens", int64(u.InputTokens))
		inner.int("outputTokens", int64(u.OutputTokens))
		w.b = append(inner.b, '}')
	}
	if c := r.Confirmation; c != nil {
		w.key("confirmation")
		w.b = append(w.b, '{')
		inner := fieldWriter{b: w.b}
		if len(c.Plan) > 0 {
			inner.key("plan")
			if inner.b, err = appendRaw(inner.b, c.Plan); err != nil {
				return nil, err
			}
		}
		if len(c.Pending) > 0 {
			inner.key("pending")
			if inner.b, err = appendCalls(inner.b, c.Pending); err != nil {
				return nil, err
			}
		}
		if c.Answered {
			inner.boolean("answered", true)
		}
		if c.Confirmed {
			inner.boolean("confirmed", true)
		}
		w.b = append(inner.b, '}')
	}
	if len(r.UITools) > 0 {
		w.key("uiTools")
		if w.b, err = appendRaw(w.b, r.UITools); err != nil {
			return nil, err
		}
	}
	if r.Summarized != 0 {
		w.int("summarized", int64(r.Summarized))
	}
	at, err := r.CreatedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	w.key("createdAt")
	w.b = append(append(w.b, at...), '}')
	return w.b, nil
}

// fieldWriter appends the fields of one JSON object, commas between them.
type fieldWriter struct {
	b    []byte
	more bool
}

// key appends a field's name; its value follows.
func (w *fieldWriter) key(name string) {
	if w.more {
		w.b = append(w.b, ',')
	}
	w.more = true
	w.b = append(append(append(w.b, '"'), name...), '"', ':')
}

func (w *fieldWriter) str(name, v string) { w.key(name); w.b = jsonbytes.AppendString(w.b, v) }

func (w *fieldWriter) strOmit(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *fieldWriter) int(name string, v int64) { w.key(name); w.b = strconv.AppendInt(w.b, v, 10) }

func (w *fieldWriter) boolean(name string, v bool) { w.key(name); w.b = strconv.AppendBool(w.b, v) }

// appendCalls appends tool calls ([{id, name, arguments}]).
func appendCalls(b []byte, cs []recordCall) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		w := fieldWriter{b: append(b, '{')}
		w.str("id", c.ID)
		w.str("name", c.Name)
		w.key("arguments")
		if w.b, err = appendRaw(w.b, c.Arguments); err != nil {
			return nil, err
		}
		b = append(w.b, '}')
	}
	return append(b, ']'), nil
}

// appendRaw appends raw JSON as json.Marshal does a json.RawMessage:
// null for nil, else compacted (an error when it is not JSON) with <, >,
// &, U+2028 and U+2029 escaped.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(b, "null"...), nil
	}
	buf := bytes.NewBuffer(b)
	start := buf.Len()
	if err := json.Compact(buf, raw); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if needsHTMLEscape(out[start:]) {
		var esc bytes.Buffer
		json.HTMLEscape(&esc, out[start:])
		out = append(out[:start], esc.Bytes()...)
	}
	return out, nil
}

// needsHTMLEscape reports whether b has <, > or & or may have U+2028 or
// U+2029 (whose UTF-8 starts with 0xE2), byte by byte: bytes.ContainsAny
// with a non-ASCII set decodes every rune.
func needsHTMLEscape(b []byte) bool {
	for _, c := range b {
		switch c {
		case '<', '>', '&', 0xE2:
			return true
		}
	}
	return false
}
