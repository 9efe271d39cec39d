package agent_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
)

// TestTurnOutcomeReported: every turn reports exactly one typed outcome,
// from the set TurnOutcomes, before its </message>.
func TestTurnOutcomeReported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fixture, ctx context.Context, cancel context.CancelCauseFunc)
		agent func() []string // human-validation tools
		want  agent.TurnOutcome
	}{
		{name: "answered", want: agent.TurnAnswered, setup: func(f *fixture, _ context.Context, _ context.CancelCauseFunc) {
			f.model.push("agent", reply{text: "hi"})
		}},
		{name: "model failed", want: agent.TurnFailed, setup: func(f *fixture, _ context.Context, _ context.CancelCauseFunc) {
			f.model.push("agent", reply{err: errors.New("boom")})
		}},
		{name: "paused", want: agent.TurnPaused, setup: func(f *fixture, _ context.Context, _ context.CancelCauseFunc) {
			f.tools.fns["add"], f.tools.fns["addPlan"] = text("9"), text(`[{"type":"create"}]`)
			f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("c", "add", `{}`)}})
		}, agent: func() []string { return []string{"add"} }},
		{name: "stopped", want: agent.TurnStopped, setup: func(f *fixture, _ context.Context, cancel context.CancelCauseFunc) {
			f.model.onCall = func(llm.Request) { cancel(chat.ErrStopped) }
			f.model.push("agent", reply{text: "never seen"})
		}},
		{name: "disconnected", want: agent.TurnDisconnected, setup: func(f *fixture, _ context.Context, cancel context.CancelCauseFunc) {
			f.model.onCall = func(llm.Request) { cancel(chat.ErrClientGone) }
			f.model.push("agent", reply{text: "never seen"})
		}},
		{name: "shutdown", want: agent.TurnFailed, setup: func(f *fixture, _ context.Context, cancel context.CancelCauseFunc) {
			f.model.onCall = func(llm.Request) { cancel(chat.ErrShutdown) }
			f.model.push("agent", reply{text: "never seen"})
		}},
		{name: "sign-in failed", want: agent.TurnAuthFailed, setup: func(f *fixture, _ context.Context, _ context.CancelCauseFunc) {
			f.tools.locked, f.auth.err = true, errors.New("token endpoint: HTTP 500")
		}},
		{name: "sign-in dismissed", want: agent.TurnStopped, setup: func(f *fixture, _ context.Context, _ context.CancelCauseFunc) {
			f.tools.locked, f.auth.err = true, agent.ErrAuthCanceled
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			f.tools.fns["noop"] = text("")
			tc.setup(f, ctx, cancel)
			a := mkAgent("math")
			if tc.agent != nil {
				a.Spec.HumanValidationTools = tc.agent()
			}
			a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
			s := f.open("c1", a)
			var got []agent.TurnOutcome
			em := &emitter{}
			obs := &recordingObserver{ended: func(o agent.TurnOutcome) {
				if em.last() == chat.MessageClose {
					t.Error("outcome reported after </message>")
				}
				got = append(got, o)
			}}
			s.Turn(agent.WithObserver(ctx, obs), em, chat.Prompt{Text: "go", UserInput: "go"})
			if len(got) != 1 || got[0] != tc.want || !slices.Contains(agent.TurnOutcomes, got[0]) {
				t.Fatalf("outcomes %q, want [%q]; frames %q", got, tc.want, em.take())
			}
			if !slices.Equal(obs.routed, []string{"math"}) {
				t.Fatalf("routed %q, want [math]: the one agent", obs.routed)
			}
		})
	}
}

// recordingObserver records what package agent reports of a turn.
type recordingObserver struct {
	ended     func(agent.TurnOutcome)
	routed    []string
	picked    []string
	delegated []string // "agent: query", then "end agent"
}

func (o *recordingObserver) Routed(a string)               { o.routed = append(o.routed, a) }
func (o *recordingObserver) Picked(a string)               { o.picked = append(o.picked, a) }
func (o *recordingObserver) TurnEnded(x agent.TurnOutcome) { o.ended(x) }
func (o *recordingObserver) Delegated(a, q string) {
	o.delegated = append(o.delegated, a+": "+q)
}
func (o *recordingObserver) DelegationEnded(a string) { o.delegated = append(o.delegated, "end "+a) }

// TestObserverSeesTheSupervisorsDecisions: a supervised turn reports its
// route (the supervisor), the pick, the delegation with its query and its
// end, and one outcome, where package agent decides them.
func TestObserverSeesTheSupervisorsDecisions(t *testing.T) {
	f := newFixture(t)
	f.tools.fns["list"] = text("pod-a")
	f.model.push("supervisor", reply{calls: []llm.ToolCall{toolCall("s1", "k8s", `{"query":"list pods"}`)}})
	f.model.push("agent", reply{text: "pod-a"})
	f.model.push("supervisor", reply{text: "There is pod-a."})
	s := f.open("c1", mkAgent("k8s"), mkAgent("docs"))
	var ended []agent.TurnOutcome
	obs := &recordingObserver{ended: func(o agent.TurnOutcome) { ended = append(ended, o) }}
	s.Turn(agent.WithObserver(context.Background(), obs), &emitter{}, chat.Prompt{Text: "list pods", UserInput: "list pods"})
	if !slices.Equal(obs.routed, []string{""}) || !slices.Equal(obs.picked, []string{"k8s"}) ||
		!slices.Equal(obs.delegated, []string{"k8s: list pods", "end k8s"}) || !slices.Equal(ended, []agent.TurnOutcome{agent.TurnAnswered}) {
		t.Fatalf("routed %q, picked %q, delegated %q, ended %q", obs.routed, obs.picked, obs.delegated, ended)
	}
}
