package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// toolTurns runs n turns that each call add once, with summaries due above
// 6 messages keeping 3.
func toolTurns(t *testing.T, f *fixture, n int, summary reply) *agent.Session {
	t.Helper()
	f.opts.Summarization = agent.Summarization{Messages: 6, Keep: 3}
	f.tools.fns["add"] = text("5")
	s := f.open("c1", mkAgent("math"))
	for i := range n {
		f.model.push("agent", reply{calls: []llm.ToolCall{toolCall(fmt.Sprintf("c%d", i), "add", `{"a":2,"b":3}`)}}, reply{text: fmt.Sprintf("answer %d", i)})
		f.model.push("summarization", summary)
		frames := turn(context.Background(), s, fmt.Sprintf("question %d", i))
		if !contains(frames, fmt.Sprintf("answer %d", i)) || contains(frames, "story so far") {
			t.Fatalf("turn %d frames = %q, want the answer and no summary", i, frames)
		}
	}
	return s
}

func TestSummarizeKeepsPairs(t *testing.T) {
	f := newFixture(t)
	toolTurns(t, f, 3, reply{text: "the story so far"})
	sums := f.model.requests("summarization")
	if len(sums) == 0 {
		t.Fatal("no summary was made")
	}
	if got := sums[0].Messages[1].Content; !strings.Contains(got, "Assistant called tool add with {\"a\":2,\"b\":3}") || !strings.Contains(got, "Tool add result: <untrusted-tool-result tool=\"add\" server=\"math\">\n") || !strings.Contains(got, "\n5\n</untrusted-tool-result>") {
		t.Fatalf("summary transcript = %q, want tool calls and results as text", got)
	}
	reqs := f.model.requests("agent")
	last := reqs[len(reqs)-1].Messages
	if last[1].Content != "Here is a summary of the conversation to date:\n\nthe story so far" {
		t.Fatalf("last request = %q, want the summary after the system prompt", last[1].Content)
	}
	if last[2].Role == llm.RoleTool {
		t.Fatalf("the kept part starts with a tool result without its call")
	}
	msgs, _ := f.store.Messages(context.Background(), "c1")
	var sum *store.Message
	for i := range msgs {
		if msgs[i].Role == store.RoleSummary {
			sum = &msgs[i]
		}
	}
	if sum == nil || sum.Summarized == 0 || sum.Usage == nil {
		t.Fatalf("no stored summary with its cover and usage in %+v", msgs)
	}
	u, _ := f.store.ChatUsage(context.Background(), "c1")
	if u[store.SourceSummarization].InputTokens == 0 {
		t.Fatalf("usage = %+v, want a summarization source", u)
	}
}

func TestSummarizeFailureLeavesThread(t *testing.T) {
	f := newFixture(t)
	toolTurns(t, f, 3, reply{err: errors.New("model overloaded")})
	if len(f.model.requests("summarization")) == 0 {
		t.Fatal("no summary was tried")
	}
	reqs := f.model.requests("agent")
	last := reqs[len(reqs)-1].Messages
	// system + 2 turns × 4 + the prompt, its call and its result.
	if len(last) != 12 || last[1].Content != "question 0" {
		t.Fatalf("last request = %+v, want the whole thread", last)
	}
	msgs, _ := f.store.Messages(context.Background(), "c1")
	for _, m := range msgs {
		if m.Role == store.RoleSummary {
			t.Fatalf("a failed summary was stored: %+v", m)
		}
	}
}

// TestSessionSeesOtherWriters: a second session on the same chat (another
// replica) appends; the first session's next turn sees it.
func TestSessionSeesOtherWriters(t *testing.T) {
	f := newFixture(t)
	a := f.open("c1", mkAgent("math"))
	b := f.open("c1", mkAgent("math"))
	f.model.push("agent", reply{text: "one"}, reply{text: "two"}, reply{text: "three"})
	turn(context.Background(), a, "first")
	turn(context.Background(), b, "second")
	turn(context.Background(), a, "third")
	reqs := f.model.requests("agent")
	var got []string
	for _, m := range reqs[2].Messages[1:] {
		got = append(got, m.Content)
	}
	if strings.Join(got, ",") != "first,one,second,two,third" {
		t.Fatalf("third turn's request = %v, want the other session's turn in it", got)
	}
}
