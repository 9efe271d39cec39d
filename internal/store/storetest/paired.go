package storetest

import (
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// Paired fails t when a tool call of a stored thread has no result, or a
// result has no call: what every turn must leave behind, whatever failed
// (a stop, a fault, a dropped socket). It returns msgs.
func Paired(t testing.TB, thread string, msgs []store.Message) []store.Message {
	t.Helper()
	open := map[string]bool{}
	for _, m := range msgs {
		for _, c := range m.ToolCalls {
			open[c.ID] = true
		}
		if m.Role == llm.RoleTool {
			if !open[m.ToolCallID] {
				t.Errorf("thread %s: result %s without its call", thread, m.ToolCallID)
			}
			delete(open, m.ToolCallID)
		}
	}
	if len(open) > 0 {
		t.Errorf("thread %s: dangling tool calls %v", thread, open)
	}
	return msgs
}
