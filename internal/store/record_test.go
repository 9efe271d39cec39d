package store

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// fullMessage sets every field a stored message has.
func fullMessage() Message {
	return Message{
		Message: llm.Message{Role: llm.RoleAssistant, Content: "two pods", ToolCallID: "c0", IsError: true,
			ToolCalls: []llm.ToolCall{{ID: "c1", Name: "listPods", Arguments: json.RawMessage(`{"namespace":"default"}`)}}},
		Agent: "rancher", UserInput: "list pods", Context: map[string]json.RawMessage{"cluster": json.RawMessage(`"local"`)},
		Labels: map[string]string{"k": "v"}, Tags: []string{"t"}, RequestID: "req-1",
		MCPResponses: []json.RawMessage{json.RawMessage(`{"kind":"Pod"}`)}, Usage: &llm.Usage{InputTokens: 9, OutputTokens: 4},
		Confirmation: &Confirmation{Plan: json.RawMessage(`{"delete":"pod-a"}`), Answered: true, Confirmed: true,
			Pending: []llm.ToolCall{{ID: "c2", Name: "delete", Arguments: json.RawMessage(`{}`)}}},
		UITools: json.RawMessage(`[{"toolName":"show-yaml","input":{}}]`), Summarized: 3,
		CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 123000, time.UTC),
	}
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRecordGolden pins the body column's JSON: a change to the model's
// types must not change what is written.
func TestRecordGolden(t *testing.T) {
	got, err := encodeMessage(fullMessage())
	if err != nil {
		t.Fatal(err)
	}
	if want := golden(t, "record_v1.json"); !bytes.Equal(got, want) {
		t.Fatalf("stored JSON changed:\n got  %s\n want %s", got, want)
	}
	back, err := decodeMessage(got)
	if err != nil || !reflect.DeepEqual(back, fullMessage()) {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
}

// TestRecordDecodesLegacy: bodies written before the record type (the
// whole store.Message, no "v") still load.
func TestRecordDecodesLegacy(t *testing.T) {
	want := fullMessage()
	want.Summarized = 0
	got, err := decodeMessage(golden(t, "record_legacy.json"))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("legacy body = %+v, %v; want %+v", got, err, want)
	}
}

func TestRecordNewerVersion(t *testing.T) {
	if _, err := decodeMessage([]byte(`{"v":2,"role":"user","createdAt":"2025-06-01T12:00:00Z"}`)); err == nil {
		t.Fatal("a body of a newer version was accepted")
	}
}
