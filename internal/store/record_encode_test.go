package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// tricky is every kind of character encoding/json treats specially.
const tricky = "q\"b\\s/\b\f\n\r\t\x00\x01\x1f\x7f <a>&amp; \u2028\u2029 é 😀 \xff\xfe bad \xe2\x80"

// TestEncodeMatchesMarshal: encodeMessage writes exactly what json.Marshal
// writes for the message's record, whatever the fields hold.
func TestEncodeMatchesMarshal(t *testing.T) {
	raw := json.RawMessage(" { \"a\" : [1, 2, \"<b>&\u2028\"] ,\n \"c\": null } ")
	cases := map[string]Message{
		"full":  fullMessage(),
		"empty": {},
		"tricky": {
			Message: llm.Message{Role: tricky, Content: tricky, ToolCallID: tricky,
				ToolCalls: []llm.ToolCall{{ID: tricky, Name: tricky, Arguments: raw}, {ID: "nil args"}}},
			Agent: tricky, UserInput: tricky, RequestID: tricky,
			Context: map[string]json.RawMessage{tricky: raw, "b": json.RawMessage(`"x"`), "a": json.RawMessage(`1`)},
			Labels:  map[string]string{"z": tricky, tricky: "v", "": ""}, Tags: []string{tricky, ""},
			MCPResponses: []json.RawMessage{raw, nil, json.RawMessage(`[]`)},
			Usage:        &llm.Usage{InputTokens: -1},
			Confirmation: &Confirmation{Pending: []llm.ToolCall{{ID: "p", Arguments: raw}}},
			UITools:      raw, Summarized: -7,
			CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 1, time.FixedZone("x", 5400)),
		},
		"empty collections": {
			Message: llm.Message{ToolCalls: []llm.ToolCall{}}, Context: map[string]json.RawMessage{}, Labels: map[string]string{},
			Tags: []string{}, MCPResponses: []json.RawMessage{}, UITools: json.RawMessage{}, Confirmation: &Confirmation{},
			Usage: &llm.Usage{},
		},
	}
	for name, m := range cases {
		want, werr := json.Marshal(toRecord(m))
		got, gerr := encodeMessage(m)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%s:\n got  %s (%v)\n want %s (%v)", name, got, gerr, want, werr)
		}
	}
	for _, bad := range []json.RawMessage{json.RawMessage(`{`), json.RawMessage(`nul`)} {
		m := Message{UITools: bad}
		if _, err := encodeMessage(m); err == nil {
			t.Errorf("raw %q encoded without an error", bad)
		}
		m = Message{MCPResponses: []json.RawMessage{bad}}
		if _, err := encodeMessage(m); err == nil {
			t.Errorf("raw %q in mcpResponses encoded without an error", bad)
		}
	}
	if _, err := encodeMessage(Message{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a time json.Marshal refuses was encoded")
	}
}

// FuzzEncodeMatchesMarshal is TestEncodeMatchesMarshal over any strings
// and raw bytes: go test -fuzz FuzzEncodeMatchesMarshal ./internal/store/
func FuzzEncodeMatchesMarshal(f *testing.F) {
	f.Add("hello", "k", []byte(`{"a":1}`))
	f.Add(tricky, tricky, []byte(" [ \"<&>\u2028\" ] "))
	f.Add("", "", []byte(`nul`))
	f.Fuzz(func(t *testing.T, s, k string, raw []byte) {
		m := Message{
			Message: llm.Message{Role: s, Content: s, ToolCalls: []llm.ToolCall{{ID: s, Name: k, Arguments: raw}}},
			Context: map[string]json.RawMessage{k: raw, s: json.RawMessage(`0`)}, Labels: map[string]string{k: s},
			Tags: []string{s, k}, MCPResponses: []json.RawMessage{raw}, UITools: raw,
			Confirmation: &Confirmation{Plan: raw},
		}
		want, werr := json.Marshal(toRecord(m))
		got, gerr := encodeMessage(m)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("got  %s (%v)\nwant %s (%v)", got, gerr, want, werr)
		}
	})
}

// BenchmarkEncode compares encodeMessage with json.Marshal of the record
// on fullMessage (every field set).
func BenchmarkEncode(b *testing.B) {
	m := fullMessage()
	b.Run("appendRecord", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeMessage(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(toRecord(m)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
