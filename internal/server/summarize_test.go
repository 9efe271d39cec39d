package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
)

// longChatModel answers like a model that uses one tool a turn: a prompt
// gets a call of add, the tool's result gets the answer, a summarization
// request gets a summary naming how many lines it read.
func longChatModel(e *env) {
	e.model.Fallback = func(req llm.Request) llm.Entry {
		last := req.Messages[len(req.Messages)-1]
		switch {
		case req.Purpose == "summarization":
			return llm.TextEntry(fmt.Sprintf("summary of %d lines", strings.Count(last.Content, "\n")))
		case last.Role == llm.RoleTool:
			return llm.TextEntry("The " + modeltext.ToolResultData(last.Content) + ".")
		default:
			return call("add", `{"a":2,"b":3}`)
		}
	}
}

// checkPaired fails when a request has a tool result without its call
// before it, or a call without its result after it.
func checkPaired(t *testing.T, i int, req llm.Request) {
	t.Helper()
	open := map[string]bool{}
	for _, m := range req.Messages {
		if m.Role == llm.RoleTool {
			if !open[m.ToolCallID] {
				t.Fatalf("request %d: result %s without its call:\n%s", i, m.ToolCallID, strings.Join(msgs(req.Messages), "\n"))
			}
			delete(open, m.ToolCallID)
			continue
		}
		if len(open) > 0 {
			t.Fatalf("request %d: calls %v without results:\n%s", i, open, strings.Join(msgs(req.Messages), "\n"))
		}
		for _, c := range m.ToolCalls {
			open[c.ID] = true
		}
	}
	if len(open) > 0 && req.Messages[len(req.Messages)-1].Role != llm.RoleAssistant {
		t.Fatalf("request %d ends with open calls %v", i, open)
	}
}

// TestLongChatStaysBounded: 60 turns of one chat, each with a tool call.
// Every model request stays at most 40 messages with its tool calls
// paired; the summaries are neither streamed nor shown in the history,
// which keeps every message; their tokens count under "summarization".
func TestLongChatStaysBounded(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	longChatModel(e)
	c := e.dial("/v1/ws/messages/long", "tok-alice")
	c.Metadata()
	const turns = 60
	for i := range turns {
		c.Send(prompt(fmt.Sprintf("question %d", i)))
		got := c.Turn()
		if want := []string{"<message>", "The sum is 5.", "</message>"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("turn %d frames = %q, want %q", i, got, want)
		}
	}
	reqs := e.model.Requests()
	summaries, largest := 0, 0
	for i, r := range reqs {
		if r.Purpose == "summarization" {
			summaries++
			if len(r.Tools) != 0 || len(r.Messages) != 2 || !strings.Contains(r.Messages[1].Content, "Assistant called tool add with") {
				t.Fatalf("summary request %d = %d tools, messages %q; want no tools and a plain-text transcript", i, len(r.Tools), msgs(r.Messages))
			}
			continue
		}
		largest = max(largest, len(r.Messages))
		if len(r.Messages) > 40 {
			t.Fatalf("request %d has %d messages, want ≤ 40", i, len(r.Messages))
		}
		checkPaired(t, i, r)
	}
	if summaries == 0 || len(reqs)-summaries != 2*turns {
		t.Fatalf("%d summaries, %d agent requests; want some and %d", summaries, len(reqs)-summaries, 2*turns)
	}
	last := reqs[len(reqs)-1].Messages
	if !strings.HasPrefix(last[1].Content, "Here is a summary of the conversation to date:") {
		t.Fatalf("last request starts %q, want the system prompt then the summary", msgs(last[:2]))
	}
	t.Logf("%d summaries; largest request %d messages", summaries, largest)

	var rows []map[string]any
	e.apiJSON("GET", "/v1/api/chats/long/messages", "tok-alice", "", 200, &rows)
	if len(rows) != 2*turns {
		t.Fatalf("history has %d rows, want every question and answer (%d)", len(rows), 2*turns)
	}
	for i, r := range rows {
		if msg, _ := r["message"].(string); strings.Contains(msg, "summary of") {
			t.Fatalf("history row %d shows a summary: %v", i, r)
		}
	}
	if rows[0]["message"] != "question 0" || rows[len(rows)-1]["message"] != "The sum is 5." {
		t.Fatalf("history ends = %v … %v", rows[0], rows[len(rows)-1])
	}
	var chat struct {
		Usage struct {
			ByAgent map[string]struct{ InputTokens, OutputTokens int }
		}
	}
	e.apiJSON("GET", "/v1/api/chats/long", "tok-alice", "", 200, &chat)
	if u := chat.Usage.ByAgent["summarization"]; u.InputTokens == 0 || u.OutputTokens == 0 || chat.Usage.ByAgent["math"].InputTokens == 0 {
		t.Fatalf("usage by source = %+v, want summarization and math", chat.Usage.ByAgent)
	}
}
