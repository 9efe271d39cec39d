package telemetry

import (
	"context"
	"testing"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/server"
)

// reporting is a chat.Handler whose turns end with the outcome it is given
// (none: it reports nothing), after frames that say otherwise.
type reporting struct{ outcome agent.TurnOutcome }

func (reporting) Open(context.Context, chat.Emitter) {}

func (r reporting) Turn(ctx context.Context, em chat.Emitter, _ chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	// Frames are not what the metric counts: an <error> in a turn that
	// reports another outcome does not make it "error".
	_ = em.Send(ctx, chat.ErrorFrame("shown, but not the outcome"))
	if r.outcome != "" {
		agent.ReportOutcome(ctx, r.outcome)
	}
	_ = em.Send(ctx, chat.MessageClose)
}

type discard struct{}

func (discard) Send(context.Context, string) error { return nil }
func (discard) Ask(context.Context, string, ...string) (string, error) {
	return "", nil
}

// turnCounts are the ai_agent_turns_total series by outcome.
func turnCounts(t *testing.T, tel *Telemetry) map[string]float64 {
	t.Helper()
	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "ai_agent_turns_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestTurnOutcomeLabel: ai_agent_turns_total's outcome is the typed
// outcome the handler reports (every agent.TurnOutcomes value), not what
// its frames look like, and a turn that reports none counts as an error.
func TestTurnOutcomeLabel(t *testing.T) {
	tel := New(Options{})
	info := server.ConnInfo{ChatID: "c", UserID: "u", Agents: []chat.AgentStatus{{Name: "math", Status: chat.StatusActive}}}
	for _, o := range agent.TurnOutcomes {
		tel.Handler(reporting{outcome: o}, info).Turn(context.Background(), discard{}, chat.Prompt{Text: "x"})
	}
	tel.Handler(reporting{}, info).Turn(context.Background(), discard{}, chat.Prompt{Text: "x"})
	got := turnCounts(t, tel)
	want := map[string]float64{}
	for _, o := range agent.TurnOutcomes {
		want[string(o)] = 1
	}
	want[string(agent.TurnFailed)] = 2 // one reported, one not
	if len(got) != len(want) {
		t.Errorf("turn series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("turns{outcome=%q} = %v, want %v", k, got[k], v)
		}
	}
}
