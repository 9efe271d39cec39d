package store

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
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
			w.b = append(appendString(w.b, k), ':')
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
			w.b = appendString(append(appendString(w.b, k), ':'), r.Labels[k])
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
			w.b = appendString(w.b, t)
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

func (w *fieldWriter) str(name, v string) { w.key(name); w.b = appendString(w.b, v) }

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

// appendString appends s as a JSON string as encoding/json does with HTML
// escaping (its appendString): ", \\ and control characters escaped, \b
// \f \n \r \t by name, <, > and & as \\u00XX, invalid UTF-8 as \\ufffd,
// U+2028 and U+2029 as \\u2028 and \\u2029.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}
