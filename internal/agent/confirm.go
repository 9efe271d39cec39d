package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// Human validation: a tool named in the agent's humanValidationTools does
// not run at once. Its <tool>Plan twin (hidden from the model) says what it
// would do; the user sees that as <confirmation-response> and the turn
// ends, paused. A tool that changes things on a BASIC, HEADER or OAUTH2
// agent's server waits the same way (approve.go), its call shown as the
// plan. The pause is a record in the thread, so it survives a restart and
// a reopened chat shows it again (Open); the next prompt answers it: "yes"
// runs the tool, anything else cancels that one call. The calls after it
// in the same model reply run (or ask in turn) each under its own id, and
// the conversation goes on; a cancel of the last call ends the turn with
// the Python agent's reply.

// Replies of the Python agent, kept word for word.
const (
	cancelToolReply = "tool execution cancelled by the user"
	cancelTurnReply = "Previous tool canceled by the user."
)

// needsConfirmation reports whether an agent's tool needs the user's decision.
func needsConfirmation(st *agentState, tool string) bool {
	return slices.Contains(st.Spec.HumanValidationTools, tool) || asksFirst(st, tool)
}

// askConfirmation runs the plan of a tool call. It returns the pause, whose
// plan settle shows, or an error result for the model when no plan can be
// made.
func (s *Session) askConfirmation(ctx context.Context, ts *turnState, st *agentState, call llm.ToolCall) (llm.Message, *pause) {
	if !slices.Contains(st.Spec.HumanValidationTools, call.Name) {
		return llm.Message{}, &pause{plan: callPlan(st, call)}
	}
	res, err := s.r.o.Tools.Call(ctx, st.Agent, st.cred, call.Name+"Plan", call.Arguments)
	if err != nil || res.IsError || !json.Valid([]byte(strings.TrimSpace(res.Raw))) {
		return llm.Message{Content: fmt.Sprintf("Error: could not prepare %s for confirmation.", call.Name), IsError: true}, nil
	}
	// The plan is shown once the pause is stored (settle): a chat reopened
	// on another socket as soon as the user sees it must find the pause.
	return llm.Message{}, &pause{plan: json.RawMessage(strings.TrimSpace(res.Raw))}
}

// pending is a paused run found in a thread or made by this turn. A
// child's pause reached through a supervisor's tool call has the
// supervisor's pause as parent: the child finishes first, and its answer
// completes the parent's call.
type pending struct {
	run
	calls []llm.ToolCall
	// plan is what the user was shown for calls[0] (set when read from
	// the store, to show it again).
	plan json.RawMessage
}

// lastPause returns the open pause record ending a thread, if any.
func (s *Session) lastPause(ctx context.Context, thread string) ([]llm.ToolCall, json.RawMessage, error) {
	m, ok, err := s.r.o.Store.LastMessage(ctx, thread)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if !ok {
		return nil, nil, nil
	}
	if m.Role == store.RoleConfirmation && m.Confirmation != nil && !m.Confirmation.Answered && len(m.Confirmation.Pending) > 0 {
		return m.Confirmation.Pending, m.Confirmation.Plan, nil
	}
	return nil, nil, nil
}

// findPending looks for a paused tool call in the chat (a pause survives a
// restart): the main thread of a single agent, else each agent's thread
// and, above it, a supervisor's paused call to that agent.
func (s *Session) findPending(ctx context.Context) (*pending, error) {
	usable := s.usableAgents()
	if len(usable) == 1 {
		calls, plan, err := s.lastPause(ctx, s.chatID)
		if err != nil {
			return nil, err
		}
		if calls != nil {
			return &pending{run: run{thread: s.chatID, st: usable[0], stream: true}, calls: calls, plan: plan}, nil
		}
	}
	for _, st := range usable {
		thread := store.ChildThread(s.chatID, st.Name)
		calls, plan, err := s.lastPause(ctx, thread)
		if err != nil {
			return nil, err
		}
		if calls == nil {
			continue
		}
		pd := &pending{run: run{thread: thread, st: st, stream: true}, calls: calls, plan: plan}
		if len(usable) > 1 {
			up, _, err := s.lastPause(ctx, s.chatID)
			if err != nil {
				return nil, err
			}
			if up != nil && up[0].Name == st.Name {
				pd.stream, pd.parent = false, &pending{run: run{thread: s.chatID, stream: true}, calls: up}
			}
		}
		return pd, nil
	}
	return nil, nil
}

// resume answers a paused tool call with the user's prompt and goes on.
// Going up a chain of pauses, each run resumes the same way: its first
// call is answered (the confirmed tool runs; for a supervisor, the
// child's answer is the result), the calls after it run, then its loop
// goes on.
func (s *Session) resume(ctx context.Context, ts *turnState, pd *pending, user store.Message) outcome {
	yes := strings.EqualFold(strings.TrimSpace(user.UserInput), "yes")
	confirmed := pd
	first := func(ctx context.Context) llm.Message { return s.runTool(ctx, ts, confirmed.st, confirmed.calls[0]) }
	for {
		out, canceled := s.resumeRun(ctx, ts, pd, user.RequestID, yes, first)
		if pd.parent == nil && pd.thread != s.chatID {
			// A child run that the user reached directly: its decision and
			// outcome go in the main thread's history too.
			if err := s.record(ctx, s.chatID, pd.agent(), user.RequestID, &store.Confirmation{Answered: true, Confirmed: yes}); err != nil {
				s.r.o.Logger.Error("saving the decision in the main thread failed", "chat", s.chatID, "error", err)
			} else if m := s.mirror(pd.agent(), user.RequestID, out); len(m) > 0 {
				s.store(s.chatID, m)
			}
		}
		if out.kind == paused && pd.parent != nil && out.pause != nil {
			// The child asks about its next call: the supervisor's call
			// still waits on it, now showing the new question.
			s.repause(ctx, pd.parent, user.RequestID, yes, out.pause.plan)
		}
		if out.kind != answered || pd.parent == nil {
			return out
		}
		final := out.final
		first = func(context.Context) llm.Message { return llm.Message{Content: final} }
		// The child's answer completes the supervisor's call, unless the
		// child's turn ended on the user's cancel.
		yes = !canceled
		pd = pd.parent
	}
}

// repause records, on a supervisor's thread, the decision on its child's
// previous question and its pause again with the child's new one.
func (s *Session) repause(ctx context.Context, up *pending, requestID string, yes bool, plan json.RawMessage) {
	err := s.record(ctx, up.thread, up.agent(), requestID, &store.Confirmation{Answered: true, Confirmed: yes})
	if err == nil {
		err = s.savePause(up.thread, up.agent(), requestID, nil, &pause{plan: plan, calls: up.calls})
	}
	if err != nil {
		s.r.o.Logger.Error("saving the supervisor's pause failed", "chat", s.chatID, "error", err)
		s.unsaved = true
	}
}

// resumeRun records the decision on pd's thread, answers the first call
// (run, or canceled), runs the calls after it (each may ask in turn) and
// goes on. canceled reports that the run ended on the user's cancel: the
// declined call was the last one, and the turn ends with the cancel reply
// without a model call.
func (s *Session) resumeRun(ctx context.Context, ts *turnState, pd *pending, requestID string, yes bool, first func(context.Context) llm.Message) (outcome, bool) {
	if err := s.record(ctx, pd.thread, pd.agent(), requestID, &store.Confirmation{Answered: true, Confirmed: yes}); err != nil {
		return fail(err), false
	}
	exec := s.exec(ts, pd.run)
	results := make([]llm.Message, 0, len(pd.calls))
	for i, c := range pd.calls {
		var out llm.Message
		var p *pause
		switch {
		case i > 0:
			out, p = exec(ctx, c)
		case yes:
			out = first(ctx)
		default:
			out = llm.Message{Content: cancelToolReply, IsError: true}
		}
		if p != nil {
			p.calls = pd.calls[i:]
			return s.settle(ctx, pd.run, requestID, results, outcome{kind: paused, pause: p}, ts), false
		}
		out.Role, out.ToolCallID = llm.RoleTool, c.ID
		results = append(results, out)
	}
	if !yes && len(pd.calls) == 1 {
		return s.cancel(ctx, ts, pd, requestID, results), true
	}
	s.store(pd.thread, toStore(results, pd.agent(), requestID, s.r.o.Now().UTC()))
	history, err := s.history(ctx, pd.thread)
	if err != nil {
		return fail(err), false
	}
	history = s.summarize(ctx, pd.run, history, requestID)
	res := s.runLoop(ctx, s.spec(ts, pd.run, history, nil))
	s.saveLoop(pd.thread, pd.agent(), requestID, res, ts)
	return s.settle(ctx, pd.run, requestID, nil, res.out, ts), false
}

// cancel stores the results of a run whose last call the user declined
// and ends the run with the cancel reply (streamed when the run is), as
// the Python agent's cancel_human_validation does.
func (s *Session) cancel(ctx context.Context, ts *turnState, pd *pending, requestID string, results []llm.Message) outcome {
	now := s.r.o.Now().UTC()
	msgs := toStore(results, pd.agent(), requestID, now)
	msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleAssistant, Content: cancelTurnReply},
		Agent: pd.agent(), RequestID: requestID, CreatedAt: now})
	if pd.stream {
		_ = ts.em.Send(ctx, cancelTurnReply)
	}
	if err := s.append(context.WithoutCancel(ctx), pd.thread, msgs...); err != nil {
		return fail(err)
	}
	return answer(cancelTurnReply)
}

// record appends a confirmation record to a thread.
func (s *Session) record(ctx context.Context, thread, agent, requestID string, c *store.Confirmation) error {
	return s.append(context.WithoutCancel(ctx), thread, store.Message{Message: llm.Message{Role: store.RoleConfirmation},
		Agent: agent, RequestID: requestID, CreatedAt: s.r.o.Now().UTC(), Confirmation: c})
}

func toStore(ms []llm.Message, agent, requestID string, now time.Time) []store.Message {
	out := make([]store.Message, len(ms))
	for i, m := range ms {
		out[i] = store.Message{Message: m, Agent: agent, RequestID: requestID, CreatedAt: now}
	}
	return out
}

// settle finishes a run's outcome: a pause is stored (after the results in
// done) and becomes the pending call the next prompt answers, and the run
// whose own call waits shows its plan (<confirmation-response>) only then;
// a streamed answer is the turn's final answer.
func (s *Session) settle(ctx context.Context, r run, requestID string, done []llm.Message, out outcome, ts *turnState) outcome {
	switch out.kind {
	case paused:
		if err := s.savePause(r.thread, r.agent(), requestID, done, out.pause); err != nil {
			return fail(err)
		}
		if out.pause.child == nil {
			_ = ts.em.Send(ctx, chat.Tag("confirmation-response", out.pause.plan))
		}
		own := &pending{run: r, calls: out.pause.calls}
		out.pend = own
		if c := out.pause.child; c != nil {
			// The child waits for the user's decision; this call waits on it.
			c.parent, c.stream = own, false
			out.pend = c
		}
	case answered:
		if r.stream {
			ts.final = out.final
		}
	}
	return out
}

// savePause stores what ran and the pause record.
func (s *Session) savePause(thread, agent, requestID string, done []llm.Message, p *pause) error {
	now := s.r.o.Now().UTC()
	msgs := toStore(done, agent, requestID, now)
	msgs = append(msgs, store.Message{Message: llm.Message{Role: store.RoleConfirmation}, Agent: agent, RequestID: requestID,
		CreatedAt: now, Confirmation: &store.Confirmation{Plan: p.plan, Pending: p.calls}})
	return s.append(context.Background(), thread, msgs...)
}
