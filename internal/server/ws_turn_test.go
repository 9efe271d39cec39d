package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
)

func TestSingleAgentToolCall(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(call("add", `{"a":4,"b":5}`), llm.TextEntry("The sum ", "of 4 and 5 is 9."))

	c := e.dial("/v1/ws/messages/chat-1", "tok-alice")
	md := c.Metadata()
	if md["chatId"] != "chat-1" || md["storageType"] != "in-memory" {
		t.Fatalf("metadata = %v", md)
	}
	if got, _ := json.Marshal(md["agents"]); string(got) != `[{"name":"math","status":"active"}]` {
		t.Fatalf("agents = %s", got)
	}
	c.Send(`{"prompt":"add 4 and 5","context":{"cluster":"local","namespace":"default"}}`)
	equalFrames(t, c.Turn(), []string{"<message>", "The sum ", "of 4 and 5 is 9.", "</message>"})

	reqs := e.model.Requests()
	if len(reqs) != 2 {
		t.Fatalf("model calls = %d, want 2", len(reqs))
	}
	wantPrompt := "add 4 and 5\n\n  Use the following parameters to populate tool calls when appropriate. \n" +
		"Only include parameters relevant to the user's request (e.g., omit namespace for cluster-wide operations). \n" +
		"Parameters (separated by ;): \n cluster:local;namespace:default;"
	equalFrames(t, msgs(reqs[0].Messages), []string{"system: You are the math agent.", "user: " + wantPrompt})
	equalFrames(t, msgs(reqs[1].Messages), []string{
		"system: You are the math agent.", "user: " + wantPrompt,
		`assistant:  [call call_1 add {"a":4,"b":5}]`, "tool: sum is 9 (for call_1)",
	})
	var names []string
	for _, tl := range reqs[0].Tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "add,listPods,slow" {
		t.Fatalf("tools = %v", names)
	}
}

func TestUIContextAndDocLinks(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(call("listPods", `{}`), llm.TextEntry("Two pods."))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("list pods"))
	equalFrames(t, c.Turn(), []string{
		"<message>",
		`<mcp-response>[{"kind":"Pod","type":"pod","name":["a","b"],"namespace":"default","cluster":"local"}]</mcp-response>`,
		"<mcp-doclink>https://ranchermanager.docs.rancher.com/pods</mcp-doclink>",
		"Two pods.", "</message>",
	})
	// Only the llm part reaches the model.
	last := e.model.Requests()[1].Messages
	if got := modeltext.ToolResultData(last[len(last)-1].Content); got != "2 pods: a, b" {
		t.Fatalf("tool result for model = %q", got)
	}
}

func TestSupervisorRoutesByToolCall(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	e.model.Push(
		call("math", `{"query":"add 4 and 5"}`), // supervisor picks math
		call("add", `{"a":4,"b":5}`),            // child calls its tool
		llm.TextEntry("child says 9"),           // child answer: not streamed
		llm.TextEntry("The answer ", "is 9."),   // supervisor answer: streamed
	)
	c := e.dial("/v1/ws/messages/sup-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("what is 4+5?"))
	equalFrames(t, c.Turn(), []string{
		"<message>",
		`<agent-metadata>{"agentName":"math","selectionMode":"auto"}</agent-metadata>`,
		`<processing-subagent-start>{"name":"math","query":"add 4 and 5"}</processing-subagent-start>`,
		`<processing-subagent-end>{"name":"math","query":"add 4 and 5"}</processing-subagent-end>`,
		"The answer ", "is 9.", "</message>",
	})
	reqs := e.model.Requests()
	if len(reqs) != 4 {
		t.Fatalf("model calls = %d", len(reqs))
	}
	if !strings.HasPrefix(reqs[0].Messages[0].Content, "You are a supervisor") || len(reqs[0].Tools) != 2 {
		t.Fatalf("supervisor call = %+v", reqs[0])
	}
	equalFrames(t, msgs(reqs[1].Messages), []string{"system: You are the math agent.", "user: add 4 and 5"})
	sup := msgs(reqs[3].Messages)
	if sup[len(sup)-1] != "tool: child says 9 (for call_1)" {
		t.Fatalf("supervisor sees %q", sup)
	}
	child, _ := e.store.Messages(context.Background(), store.ChildThread("sup-1", "math"))
	if len(child) != 4 { // user, assistant call, tool, assistant answer
		t.Fatalf("child thread has %d messages", len(child))
	}
}

func TestSupervisorRoutesByNameLikeTheMock(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	// rancher-ai-llm-mock order: routing text, the agent's tool call, its streamed answer.
	e.model.Push(llm.TextEntry("ma", "th"), call("add", `{"a":1,"b":2}`), llm.TextEntry("It is ", "3."))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("1+2?"))
	equalFrames(t, c.Turn(), []string{
		"<message>", `<agent-metadata>{"agentName":"math","selectionMode":"auto"}</agent-metadata>`,
		"It is ", "3.", "</message>",
	})
}

func TestSupervisorTextAnswerIsStreamedUnchanged(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	// "ma" could be an agent name until "ny" arrives: it is held, then sent as its own frame.
	e.model.Push(llm.TextEntry("ma", "ny ", "thanks"))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("hi"))
	equalFrames(t, c.Turn(), []string{"<message>", "ma", "ny ", "thanks", "</message>"})
}

func TestManualAgentSelection(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	e.model.Push(llm.TextEntry("fleet here"))
	c := e.dial("/v1/ws/messages/man-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("status?", `"agent":"fleet"`, `"context":{}`))
	equalFrames(t, c.Turn(), []string{"<message>", "fleet here", "</message>"})
	reqs := e.model.Requests()
	if len(reqs) != 1 || reqs[0].Messages[0].Content != "You are the fleet agent." {
		t.Fatalf("want one call to fleet, got %+v", reqs)
	}
	main, _ := e.store.Messages(context.Background(), "man-1")
	if len(main) != 2 || main[0].Agent != "fleet" || main[1].Content != "fleet here" {
		t.Fatalf("main thread = %+v", main)
	}
}

func TestUnknownAgentFallsBackToRouting(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	e.model.Push(llm.TextEntry("hello there"))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("hi", `"agent":"nope"`))
	equalFrames(t, c.Turn(), []string{"<message>", "hello there", "</message>"})
	if r := e.model.Requests(); !strings.HasPrefix(r[0].Messages[0].Content, "You are a supervisor") {
		t.Fatal("unknown agent did not go to the supervisor")
	}
}

func TestRecommendedAfterThreePicks(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	for i := 1; i <= 3; i++ {
		e.model.Push(llm.TextEntry("math"), llm.TextEntry("ok"))
		c.Send(prompt("q"))
		got := c.Turn()[1]
		want := `<agent-metadata>{"agentName":"math","selectionMode":"auto"}</agent-metadata>`
		if i == 3 {
			want = `<agent-metadata>{"agentName":"math","selectionMode":"auto","recommended":"math"}</agent-metadata>`
		}
		if got != want {
			t.Fatalf("pick %d: %s", i, got)
		}
	}
}

func TestChildFailureIsToolText(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()), newAgent("fleet", ms.url()))
	// The supervisor delegates once; the child loops on tool calls until its
	// step limit; the supervisor then answers from the failure text.
	e.model.Fallback = func(r llm.Request) llm.Entry {
		if r.Purpose == "supervisor" {
			if last := r.Messages[len(r.Messages)-1]; last.Role == "tool" {
				return llm.TextEntry("The math agent failed.")
			}
			return call("math", `{"query":"loop"}`)
		}
		return call("add", `{"a":1,"b":1}`)
	}
	c := e.dial("/v1/ws/messages/fail", "tok-alice")
	c.Metadata()
	c.Send(prompt("go"))
	got := c.Turn()
	if got[len(got)-2] != "The math agent failed." {
		t.Fatalf("frames %q", got)
	}
	reqs := e.model.Requests()
	last := reqs[len(reqs)-1].Messages
	if tm := last[len(last)-1]; !tm.IsError || !strings.HasPrefix(tm.Content, "The 'math' agent failed: step limit reached") {
		t.Fatalf("supervisor saw %+v", tm)
	}
}

func TestStepLimit(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Fallback = func(llm.Request) llm.Entry { return call("add", `{"a":1,"b":1}`) }
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("loop"))
	got := c.Turn()
	if got[len(got)-2] != `<error>{"message":"step limit reached: Recursion limit of 50 reached without hitting a stop condition"}</error>` {
		t.Fatalf("frames = %q", got)
	}
	if n := len(e.model.Requests()); n != 50 {
		t.Fatalf("model calls = %d, want 50", n)
	}
}
