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
			s.Turn(agent.WithOutcome(ctx, func(o agent.TurnOutcome) {
				if em.last() == chat.MessageClose {
					t.Error("outcome reported after </message>")
				}
				got = append(got, o)
			}), em, chat.Prompt{Text: "go", UserInput: "go"})
			if len(got) != 1 || got[0] != tc.want || !slices.Contains(agent.TurnOutcomes, got[0]) {
				t.Fatalf("outcomes %q, want [%q]; frames %q", got, tc.want, em.take())
			}
		})
	}
}
