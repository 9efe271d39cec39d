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
// ends, paused. The pause is a record in the thread, so it survives a
// restart; the next prompt answers it: "yes" runs the tool and the same
// conversation goes on, anything else cancels it.

// Replies of the Python agent, kept word for word.
const (
	cancelToolReply = "tool execution cancelled by the user"
	cancelTurnReply = "Previous tool canceled by the user."
)

// rolePause is what a tool executor returns to pause the loop.
const rolePause = "pause"

// pause is a tool call waiting for the user's decision.
type pause struct {
	plan json.RawMessage
}

// needsConfirmation reports whether an agent's tool needs the user's decision.
func needsConfirmation(st *agentState, tool string) bool {
	return slices.Contains(st.Spec.HumanValidationTools, tool)
}

// askConfirmation runs the plan of a tool call and shows it. It returns the
// pause, or an error result for the model when no plan can be made.
func (s *Session) askConfirmation(ctx context.Context, ts *turnState, st *agentState, call llm.ToolCall) (llm.Message, *pause) {
	res, err := s.r.o.Tools.Call(ctx, st.Agent, st.cred, call.Name+"Plan", call.Arguments)
	if err != nil || res.IsError || !json.Valid([]byte(strings.TrimSpace(res.Raw))) {
		return llm.Message{Content: fmt.Sprintf("Error: could not prepare %s for confirmation.", call.Name), IsError: true}, nil
	}
	plan := json.RawMessage(strings.TrimSpace(res.Raw))
	_ = ts.em.Send(ctx, chat.Tag("confirmation-response", plan))
	return llm.Message{Role: rolePause}, &pause{plan: plan}
}

// pending is a paused turn found in a thread. A child's pause reached
// through a supervisor's tool call has the supervisor's pause as parent:
// the child finishes first, and its answer completes the parent's call.
type pending struct {
	thread string
	st     *agentState // nil for the supervisor
	calls  []llm.ToolCall
	stream bool
	parent *pending
}

// lastPause returns the open pause record ending a thread, if any.
func (s *Session) lastPause(ctx context.Context, thread string) ([]llm.ToolCall, error) {
	m, ok, err := s.r.o.Store.LastMessage(ctx, thread)
	if err != nil || !ok {
		return nil, err
	}
	if m.Role == store.RoleConfirmation && m.Confirmation != nil && !m.Confirmation.Answered && len(m.Confirmation.Pending) > 0 {
		return m.Confirmation.Pending, nil
	}
	return nil, nil
}

// findPending looks for a paused tool call in the chat (a pause survives a
// restart): the main thread of a single agent, else each agent's thread
// and, above it, a supervisor's paused call to that agent.
func (s *Session) findPending(ctx context.Context) (*pending, error) {
	usable := s.usableAgents()
	if len(usable) == 1 {
		calls, err := s.lastPause(ctx, s.chatID)
		if err != nil || calls != nil {
			return &pending{thread: s.chatID, st: usable[0], calls: calls, stream: true}, err
		}
	}
	for _, st := range usable {
		thread := store.ChildThread(s.chatID, st.Name)
		calls, err := s.lastPause(ctx, thread)
		if err != nil {
			return nil, err
		}
		if calls == nil {
			continue
		}
		pd := &pending{thread: thread, st: st, calls: calls, stream: true}
		if len(usable) > 1 {
			up, err := s.lastPause(ctx, s.chatID)
			if err != nil {
				return nil, err
			}
			if up != nil && up[0].Name == st.Name {
				pd.stream, pd.parent = false, &pending{thread: s.chatID, calls: up, stream: true}
			}
		}
		return pd, nil
	}
	return nil, nil
}

// resume answers a paused tool call with the user's prompt and goes on.
func (s *Session) resume(ctx context.Context, ts *turnState, pd *pending, user store.Message) error {
	yes := strings.EqualFold(strings.TrimSpace(user.UserInput), "yes")
	if err := s.record(ctx, pd.thread, agentOf(pd), user.RequestID, &store.Confirmation{Answered: true, Confirmed: yes}); err != nil {
		return err
	}
	final, err := s.resumeAgent(ctx, ts, pd, user, yes)
	if err != nil || pd.parent == nil || s.pend != nil {
		return err
	}
	if pd.parent.st == nil {
		return s.resumeSupervisor(ctx, ts, pd.parent, user, final, yes)
	}
	return nil
}

func agentOf(pd *pending) string {
	if pd.st == nil {
		return ""
	}
	return pd.st.Name
}

// record appends a confirmation record to a thread.
func (s *Session) record(ctx context.Context, thread, agent, requestID string, c *store.Confirmation) error {
	return s.r.o.Store.Append(context.WithoutCancel(ctx), thread, store.Message{Message: llm.Message{Role: store.RoleConfirmation},
		Agent: agent, RequestID: requestID, CreatedAt: s.r.o.Now().UTC(), Confirmation: c})
}

// resumeAgent answers an agent's paused call; it returns the agent's final
// answer (the cancel reply when the user said no).
func (s *Session) resumeAgent(ctx context.Context, ts *turnState, pd *pending, user store.Message, yes bool) (string, error) {
	now := s.r.o.Now().UTC()
	if !yes {
		msgs := cancelResults(pd.calls, pd.st.Name, user.RequestID, now)
		msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleAssistant, Content: cancelTurnReply},
			Agent: pd.st.Name, RequestID: user.RequestID, CreatedAt: now})
		if pd.stream {
			_ = ts.em.Send(ctx, cancelTurnReply)
		}
		return cancelTurnReply, s.r.o.Store.Append(context.WithoutCancel(ctx), pd.thread, msgs...)
	}
	// Run the confirmed call (and those after it, which may pause again),
	// then let the model go on from the results.
	exec := s.mcpExec(ts, pd.st)
	var results []llm.Message
	for i, c := range pd.calls {
		var out llm.Message
		if i == 0 {
			out = s.runTool(ctx, ts, pd.st, c) // the confirmed one
		} else {
			out = exec(ctx, c)
		}
		if out.Role == rolePause {
			return "", s.pauseAgent(pending{thread: pd.thread, st: pd.st, calls: pd.calls[i:], stream: pd.stream, parent: pd.parent}, user.RequestID, results, ts)
		}
		out.Role, out.ToolCallID = llm.RoleTool, c.ID
		results = append(results, out)
	}
	s.store(pd.thread, toStore(results, pd.st.Name, user.RequestID, now))
	history, err := s.history(ctx, pd.thread)
	if err != nil {
		return "", err
	}
	ts.delegated = pd.parent != nil
	res, err := s.runLoop(ctx, s.agentSpec(ts, pd.st, history, nil, pd.stream))
	ts.delegated = false
	s.saveLoop(pd.thread, pd.st.Name, user.RequestID, res, ts)
	if res.Paused != nil {
		return "", s.pauseAgent(pending{thread: pd.thread, st: pd.st, calls: res.Paused, stream: pd.stream, parent: pd.parent}, user.RequestID, nil, ts)
	}
	if pd.stream {
		ts.final = res.Final
	}
	return res.Final, err
}

// resumeSupervisor completes a supervisor's paused call to a child with the
// child's answer and lets the supervisor go on.
func (s *Session) resumeSupervisor(ctx context.Context, ts *turnState, pd *pending, user store.Message, childFinal string, yes bool) error {
	now := s.r.o.Now().UTC()
	if err := s.record(ctx, pd.thread, "", user.RequestID, &store.Confirmation{Answered: true, Confirmed: yes}); err != nil {
		return err
	}
	if !yes {
		msgs := cancelResults(pd.calls, "", user.RequestID, now)
		msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleAssistant, Content: cancelTurnReply},
			RequestID: user.RequestID, CreatedAt: now})
		_ = ts.em.Send(ctx, cancelTurnReply)
		return s.r.o.Store.Append(context.WithoutCancel(ctx), pd.thread, msgs...)
	}
	results := []llm.Message{{Role: llm.RoleTool, ToolCallID: pd.calls[0].ID, Content: childFinal}}
	exec := s.delegateExec(ts)
	for i, c := range pd.calls[1:] {
		out := exec(ctx, c)
		if out.Role == rolePause {
			s.pausedAbove(pd.calls[1+i:])
			return s.savePause(pd.thread, "", user.RequestID, results, pd.calls[1+i:], ts)
		}
		out.Role, out.ToolCallID = llm.RoleTool, c.ID
		results = append(results, out)
	}
	s.store(pd.thread, toStore(results, "", user.RequestID, now))
	history, err := s.history(ctx, pd.thread)
	if err != nil {
		return err
	}
	res, err := s.runLoop(ctx, s.supervisorSpec(ts, history, nil))
	s.saveLoop(pd.thread, "", user.RequestID, res, ts)
	if res.Paused != nil {
		s.pausedAbove(res.Paused)
		return s.savePause(pd.thread, "", user.RequestID, nil, res.Paused, ts)
	}
	ts.final = res.Final
	return err
}

// pausedAbove records that the supervisor's calls wait on the child pause
// just made.
func (s *Session) pausedAbove(calls []llm.ToolCall) {
	if s.pend != nil {
		s.pend.stream = false
		s.pend.parent = &pending{thread: s.chatID, calls: calls, stream: true}
	}
}

func cancelResults(calls []llm.ToolCall, agent, requestID string, now time.Time) []store.Message {
	msgs := make([]store.Message, 0, len(calls))
	for i, c := range calls {
		reason := cancelToolReply
		if i > 0 {
			reason = "Tool call not run: the previous one was canceled by the user."
		}
		msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Content: reason, IsError: true},
			Agent: agent, RequestID: requestID, CreatedAt: now})
	}
	return msgs
}

func toStore(ms []llm.Message, agent, requestID string, now time.Time) []store.Message {
	out := make([]store.Message, len(ms))
	for i, m := range ms {
		out[i] = store.Message{Message: m, Agent: agent, RequestID: requestID, CreatedAt: now}
	}
	return out
}

// pauseAgent stores an agent's pause (after the results in done) and
// remembers it for the next prompt.
func (s *Session) pauseAgent(pd pending, requestID string, done []llm.Message, ts *turnState) error {
	if err := s.savePause(pd.thread, pd.st.Name, requestID, done, pd.calls, ts); err != nil {
		return err
	}
	s.pend = &pd
	return nil
}

// savePause stores what ran and the pause record.
func (s *Session) savePause(thread, agent, requestID string, done []llm.Message, calls []llm.ToolCall, ts *turnState) error {
	now := s.r.o.Now().UTC()
	msgs := toStore(done, agent, requestID, now)
	msgs = append(msgs, store.Message{Message: llm.Message{Role: store.RoleConfirmation}, Agent: agent, RequestID: requestID,
		CreatedAt: now, Confirmation: &store.Confirmation{Plan: ts.pause.plan, Pending: calls}})
	return s.r.o.Store.Append(context.Background(), thread, msgs...)
}
