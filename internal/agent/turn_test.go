package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
)

func TestAnswerWithToolCall(t *testing.T) {
	f := newFixture(t)
	f.tools.fns["add"] = text("9")
	f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("c1", "add", `{"a":4,"b":5}`)}}, reply{text: "The sum is 9."})
	s := f.open("c1", mkAgent("math"))
	frames := turn(context.Background(), s, "add 4 and 5")
	want := []string{chat.MessageOpen, "The sum is 9.", chat.MessageClose}
	if !slices.Equal(frames, want) {
		t.Fatalf("frames = %q, want %q", frames, want)
	}
	reqs := f.model.requests("agent")
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	// The result is given as untrusted data, naming the tool and its server.
	if last.Role != llm.RoleTool || last.Content != modeltext.ToolResult("add", "math", "9", 0) || last.ToolCallID != "c1" ||
		!strings.HasPrefix(last.Content, `<untrusted-tool-result tool="add" server="math">`) {
		t.Fatalf("second call ends with %+v, want the tool result", last)
	}
	msgs := paired(t, f.store, "c1")
	if len(msgs) != 4 || msgs[3].Usage == nil || msgs[3].Usage.InputTokens != 20 {
		t.Fatalf("stored %d messages, last usage %+v; want 4 and the turn's usage", len(msgs), msgs[len(msgs)-1].Usage)
	}
}

func TestStepLimit(t *testing.T) {
	f := newFixture(t)
	f.opts.MaxSteps = 2
	f.tools.fns["add"] = text("9")
	for range 3 {
		f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("", "add", `{}`)}})
	}
	s := f.open("c1", mkAgent("math"))
	frames := turn(context.Background(), s, "loop")
	if !contains(frames, `<error>{"message":"Agent \"math\" stopped before finishing, because it reached its limit of steps`) {
		t.Fatalf("frames = %q, want the step-limit error", frames)
	}
	if n := len(f.model.requests("agent")); n != 2 {
		t.Fatalf("%d model calls, want MaxSteps = 2", n)
	}
	if msgs := paired(t, f.store, "c1"); len(msgs) != 5 {
		t.Fatalf("stored %d messages, want user + 2 × (call, result)", len(msgs))
	}
}

func TestStopBetweenToolCalls(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	f.tools.fns["first"] = func(json.RawMessage) (mcp.Result, error) {
		cancel(chat.ErrStopped) // the user sends <stop> while the first tool runs
		return mcp.Result{ForModel: "one"}, nil
	}
	f.tools.fns["second"] = text("two")
	f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("a", "first", `{}`), toolCall("b", "second", `{}`)}})
	s := f.open("c1", mkAgent("math"))
	frames := turn(ctx, s, "two tools")
	if contains(frames, "<error>") {
		t.Fatalf("a stopped turn showed an error: %q", frames)
	}
	if got := f.tools.called(); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("tools called = %v, want only the first", got)
	}
	msgs := paired(t, f.store, "c1")
	if last := msgs[len(msgs)-1]; last.ToolCallID != "b" || last.Content != agent.StopReply {
		t.Fatalf("last stored = %+v, want the stop reply for the second call", last)
	}
}

func TestPauseAndResumeAgent(t *testing.T) {
	for _, tc := range []struct {
		answer, want string
		runs         bool
	}{{"yes", "Deleted.", true}, {"no", "Previous tool canceled by the user.", false}} {
		t.Run(tc.answer, func(t *testing.T) {
			f := newFixture(t)
			f.tools.fns["delete"] = text("gone")
			f.tools.fns["deletePlan"] = text(`{"delete":"pod-a"}`)
			f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("d1", "delete", `{"name":"pod-a"}`)}})
			s := f.open("c1", mkAgent("k8s", "delete"))
			frames := turn(context.Background(), s, "delete pod-a")
			if !contains(frames, `<confirmation-response>{"delete":"pod-a"}</confirmation-response>`) {
				t.Fatalf("frames = %q, want the plan", frames)
			}
			if got := f.tools.called(); !slices.Equal(got, []string{"deletePlan"}) {
				t.Fatalf("tools called = %v, want only the plan", got)
			}
			if tc.runs {
				f.model.push("agent", reply{text: "Deleted."})
			}
			// A new session (a restart) finds the pause in the store.
			s = f.open("c1", mkAgent("k8s", "delete"))
			frames = turn(context.Background(), s, tc.answer)
			if !slices.Equal(frames, []string{chat.MessageOpen, tc.want, chat.MessageClose}) {
				t.Fatalf("frames = %q, want %q", frames, tc.want)
			}
			if ran := slices.Contains(f.tools.called(), "delete"); ran != tc.runs {
				t.Fatalf("delete ran = %v, want %v", ran, tc.runs)
			}
			paired(t, f.store, "c1")
		})
	}
}

// supervised is two agents: "k8s" (delete needs confirmation) and "docs".
func supervised(f *fixture) []agentconfig.Agent {
	f.tools.fns["delete"] = text("gone")
	f.tools.fns["deletePlan"] = text(`{"delete":"pod-a"}`)
	return []agentconfig.Agent{mkAgent("k8s", "delete"), mkAgent("docs")}
}

func TestPauseAndResumeSupervisor(t *testing.T) {
	f := newFixture(t)
	list := supervised(f)
	f.model.push("supervisor", reply{calls: []llm.ToolCall{toolCall("s1", "k8s", `{"query":"delete pod-a"}`)}})
	f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("d1", "delete", `{"name":"pod-a"}`)}})
	s := f.open("c1", list...)
	frames := turn(context.Background(), s, "delete pod-a")
	if !contains(frames, "<confirmation-response>") || !contains(frames, `"agentName":"k8s"`) {
		t.Fatalf("frames = %q, want the routing and the plan", frames)
	}
	f.model.push("agent", reply{text: "Deleted pod-a."})
	f.model.push("supervisor", reply{text: "pod-a is gone."})
	s = f.open("c1", list...)
	frames = turn(context.Background(), s, "yes")
	if !contains(frames, "pod-a is gone.") || contains(frames, "Deleted pod-a.") {
		t.Fatalf("frames = %q, want the supervisor's answer and not the child's", frames)
	}
	sup := f.model.requests("supervisor")
	last := sup[len(sup)-1].Messages
	if m := last[len(last)-1]; m.Role != llm.RoleTool || m.ToolCallID != "s1" || m.Content != "Deleted pod-a." {
		t.Fatalf("supervisor resumed with %+v, want the child's answer as the call's result", m)
	}
	paired(t, f.store, "c1")
	paired(t, f.store, store.ChildThread("c1", "k8s"))
}

func TestHandoff(t *testing.T) {
	f := newFixture(t)
	list := supervised(f)
	f.model.push("supervisor", reply{text: "docs"})
	f.model.push("agent", reply{text: "Read the manual."})
	s := f.open("c1", list...)
	frames := turn(context.Background(), s, "how do I?")
	if !contains(frames, "Read the manual.") || !contains(frames, `"agentName":"docs"`) {
		t.Fatalf("frames = %q, want the child's streamed answer and its metadata", frames)
	}
	if slices.Contains(frames, "docs") {
		t.Fatalf("the routing answer was streamed: %q", frames)
	}
	main, _ := f.store.Messages(context.Background(), "c1")
	if len(main) != 2 || main[1].Content != "Read the manual." || main[1].Agent != "docs" {
		t.Fatalf("main thread = %+v, want the question and docs' answer", main)
	}
	if child := paired(t, f.store, store.ChildThread("c1", "docs")); len(child) != 2 {
		t.Fatalf("child thread has %d messages, want 2", len(child))
	}
}

func TestChildFailure(t *testing.T) {
	f := newFixture(t)
	list := supervised(f)
	f.model.push("supervisor", reply{calls: []llm.ToolCall{toolCall("s1", "docs", `{"query":"q"}`)}}, reply{text: "Sorry, docs failed."})
	f.model.push("agent", reply{err: errors.New("model down")})
	s := f.open("c1", list...)
	frames := turn(context.Background(), s, "q")
	if !contains(frames, "Sorry, docs failed.") || contains(frames, "<error>") {
		t.Fatalf("frames = %q, want the supervisor's answer and no error frame", frames)
	}
	sup := f.model.requests("supervisor")
	m := sup[1].Messages[len(sup[1].Messages)-1]
	if !m.IsError || !strings.Contains(m.Content, "The 'docs' agent failed") || !strings.Contains(m.Content, "model down") {
		t.Fatalf("supervisor saw %+v, want the child's failure as an error result", m)
	}
	paired(t, f.store, "c1")
}

func TestSignInOn401(t *testing.T) {
	f := newFixture(t)
	f.tools.fns["notes"] = text("my notes")
	f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("n1", "notes", `{}`)}}, reply{text: "Here are your notes."})
	a := mkAgent("notes")
	a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
	s := f.open("c1", a)
	f.tools.locked = true // the token expires after the tools were listed
	frames := turn(context.Background(), s, "show my notes")
	if !contains(frames, "Here are your notes.") {
		t.Fatalf("frames = %q, want the answer after the sign-in", frames)
	}
	if len(f.auth.challenges) != 1 || !errors.Is(f.auth.challenges[0], mcp.ErrUnauthorized) {
		t.Fatalf("sign-ins = %v, want one with the 401", f.auth.challenges)
	}
	if got := f.tools.called(); !slices.Equal(got, []string{"notes"}) {
		t.Fatalf("tools called = %v, want the retried call once", got)
	}
}

func TestSignInCanceled(t *testing.T) {
	f := newFixture(t)
	f.auth.err = agent.ErrAuthCanceled
	f.tools.fns["notes"] = text("my notes")
	f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("n1", "notes", `{}`)}}, reply{text: "I could not read them."})
	a := mkAgent("notes")
	a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
	s := f.open("c1", a)
	f.tools.locked = true
	frames := turn(context.Background(), s, "show my notes")
	if !contains(frames, "I could not read them.") {
		t.Fatalf("frames = %q, want the model to go on after the refused call", frames)
	}
	msgs := paired(t, f.store, "c1")
	if r := msgs[2]; !r.IsError || !strings.Contains(r.Content, "canceled") {
		t.Fatalf("tool result = %+v, want the cancel as an error result", r)
	}
}

// failingTools fails every tools/list.
type failingTools struct{ *fakeTools }

var errDown = fmt.Errorf("dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)

func (failingTools) Tools(context.Context, agentconfig.Agent, mcp.Credentials) ([]mcp.Tool, error) {
	return nil, errDown
}

func TestOpenUnavailableIsTyped(t *testing.T) {
	f := newFixture(t)
	f.opts.Tools = failingTools{f.tools}
	_, err := agent.New(f.opts).Open(context.Background(), agent.User{ID: "alice"}, []agentconfig.Agent{mkAgent("math")}, "c1")
	ue, ok := errors.AsType[*agent.UnavailableError](err)
	if !ok || !errors.Is(err, agent.ErrNoAgentAvailable) || !errors.Is(err, errDown) {
		t.Fatalf("Open = %v; want an *UnavailableError matching ErrNoAgentAvailable and its cause", err)
	}
	if ue.Reason != `Agent "math" cannot reach its MCP server right now; try again later, and tell the administrator if it persists.` {
		t.Fatalf("Reason = %q", ue.Reason)
	}
	_, err = agent.New(f.opts).Open(context.Background(), agent.User{ID: "alice"}, nil, "c1")
	if ue, ok := errors.AsType[*agent.UnavailableError](err); !ok || ue.Reason != "No agent configurations available" {
		t.Fatalf("Open without agents = %v", err)
	}
}

// storeCheckingEmitter checks, when the plan is shown, that the pause is
// already stored on thread: a chat reopened on another socket the moment
// the user sees the plan finds it.
type storeCheckingEmitter struct {
	emitter
	st     store.Store
	thread string
	seen   []string // the last stored record when each plan was sent
}

func (e *storeCheckingEmitter) Send(ctx context.Context, f string) error {
	if strings.HasPrefix(f, "<confirmation-response>") {
		m, ok, err := e.st.LastMessage(ctx, e.thread)
		state := fmt.Sprintf("ok=%t err=%v role=%s", ok, err, m.Role)
		if ok && m.Confirmation != nil {
			state += fmt.Sprintf(" pending=%d answered=%t", len(m.Confirmation.Pending), m.Confirmation.Answered)
		}
		e.seen = append(e.seen, state)
	}
	return e.emitter.Send(ctx, f)
}

func (e *storeCheckingEmitter) Ask(ctx context.Context, f string, _ ...string) (string, error) {
	return "", e.Send(ctx, f)
}

func TestPlanIsShownOnceThePauseIsStored(t *testing.T) {
	const stored = "ok=true err=<nil> role=confirmation pending=1 answered=false"
	t.Run("agent", func(t *testing.T) {
		f := newFixture(t)
		f.tools.fns["delete"] = text("gone")
		f.tools.fns["deletePlan"] = text(`{"delete":"pod-a"}`)
		f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("d1", "delete", `{"name":"pod-a"}`)}})
		s := f.open("c1", mkAgent("k8s", "delete"))
		em := &storeCheckingEmitter{st: f.store, thread: "c1"}
		s.Turn(context.Background(), em, chat.Prompt{Text: "delete pod-a", UserInput: "delete pod-a"})
		if !slices.Equal(em.seen, []string{stored}) {
			t.Fatalf("when the plan was sent: %q, want %q; frames %q", em.seen, stored, em.take())
		}
	})
	t.Run("supervisor", func(t *testing.T) {
		f := newFixture(t)
		list := supervised(f)
		f.model.push("supervisor", reply{calls: []llm.ToolCall{toolCall("s1", "k8s", `{"query":"delete pod-a"}`)}})
		f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("d1", "delete", `{"name":"pod-a"}`)}})
		s := f.open("c1", list...)
		em := &storeCheckingEmitter{st: f.store, thread: store.ChildThread("c1", "k8s")}
		s.Turn(context.Background(), em, chat.Prompt{Text: "delete pod-a", UserInput: "delete pod-a"})
		if !slices.Equal(em.seen, []string{stored}) {
			t.Fatalf("when the plan was sent: %q, want %q", em.seen, stored)
		}
		// The frames keep their order: the plan inside the child's block.
		frames := em.take()
		plan, end := slices.IndexFunc(frames, func(f string) bool { return strings.HasPrefix(f, "<confirmation-response>") }),
			slices.IndexFunc(frames, func(f string) bool { return strings.HasPrefix(f, "<processing-subagent-end>") })
		if plan < 0 || end < 0 || plan > end {
			t.Fatalf("frames %q: the plan must come before the subagent's end", frames)
		}
	})
}

// SYSTEM_PROMPT replaces the supervisor's instructions; the list of agents
// still follows, and a child keeps its own system prompt.
func TestSupervisorPromptFromTheAdministrator(t *testing.T) {
	for _, custom := range []string{"", "You are Liz, the cluster's concierge."} {
		f := newFixture(t)
		f.opts.SupervisorPrompt = custom
		list := supervised(f)
		f.model.push("supervisor", reply{text: "docs"})
		f.model.push("agent", reply{text: "Read the manual."})
		s := f.open("c1", list...)
		turn(context.Background(), s, "how do I?")
		sup, child := f.model.requests("supervisor"), f.model.requests("agent")
		if len(sup) == 0 || len(child) == 0 {
			t.Fatalf("requests: %d supervisor, %d agent", len(sup), len(child))
		}
		sys := sup[0].Messages[0]
		if sys.Role != llm.RoleSystem || !strings.Contains(sys.Content, "- k8s (k8s): k8s things") || !strings.Contains(sys.Content, "- docs (docs): docs things") {
			t.Fatalf("supervisor system message %+v: want the list of agents", sys)
		}
		if custom != "" && (!strings.HasPrefix(sys.Content, custom) || strings.Contains(sys.Content, "You are a supervisor")) {
			t.Fatalf("with SYSTEM_PROMPT the supervisor reads %q", sys.Content)
		}
		if custom == "" && !strings.HasPrefix(sys.Content, "You are a supervisor") {
			t.Fatalf("default supervisor prompt %q", sys.Content)
		}
		if c := child[0].Messages[0]; c.Content != "You are docs" {
			t.Fatalf("child system message %q, want its own", c.Content)
		}
	}
}
