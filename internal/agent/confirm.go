package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// pending is a paused turn found in a thread.
type pending struct {
	thread string
	st     *agentState
	calls  []llm.ToolCall
	stream bool
}

// findPending looks for a paused tool call in the chat: the main thread,
// then each agent's child thread.
func (s *Session) findPending(ctx context.Context) (*pending, error) {
	threads := []struct {
		id string
		st *agentState
	}{}
	usable := s.usableAgents()
	if len(usable) == 1 {
		threads = append(threads, struct {
			id string
			st *agentState
		}{s.chatID, usable[0]})
	}
	for _, st := range usable {
		threads = append(threads, struct {
			id string
			st *agentState
		}{store.ChildThread(s.chatID, st.Name), st})
	}
	for _, t := range threads {
		msgs, err := s.r.o.Store.Messages(ctx, t.id)
		if err != nil {
			return nil, err
		}
		if n := len(msgs); n > 0 && msgs[n-1].Role == store.RoleConfirmation && msgs[n-1].Confirmation != nil &&
			!msgs[n-1].Confirmation.Answered && len(msgs[n-1].Confirmation.Pending) > 0 {
			return &pending{thread: t.id, st: t.st, calls: msgs[n-1].Confirmation.Pending, stream: true}, nil
		}
	}
	return nil, nil
}

// resume answers a paused tool call with the user's prompt and goes on.
func (s *Session) resume(ctx context.Context, ts *turnState, pd *pending, user store.Message) error {
	yes := strings.EqualFold(strings.TrimSpace(user.UserInput), "yes")
	now := s.r.o.Now().UTC()
	answer := store.Message{Message: llm.Message{Role: store.RoleConfirmation}, Agent: pd.st.Name,
		RequestID: user.RequestID, CreatedAt: now, Confirmation: &store.Confirmation{Answered: true, Confirmed: yes}}
	if err := s.r.o.Store.Append(context.WithoutCancel(ctx), pd.thread, answer); err != nil {
		return err
	}
	if !yes {
		msgs := make([]store.Message, 0, len(pd.calls)+1)
		for i, c := range pd.calls {
			reason := cancelToolReply
			if i > 0 {
				reason = "Tool call not run: the previous one was canceled by the user."
			}
			msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Content: reason, IsError: true},
				Agent: pd.st.Name, RequestID: user.RequestID, CreatedAt: now})
		}
		msgs = append(msgs, store.Message{Message: llm.Message{Role: llm.RoleAssistant, Content: cancelTurnReply},
			Agent: pd.st.Name, RequestID: user.RequestID, CreatedAt: now})
		_ = ts.em.Send(ctx, cancelTurnReply)
		return s.r.o.Store.Append(context.WithoutCancel(ctx), pd.thread, msgs...)
	}
	// Run the confirmed call (and those after it, which may pause again),
	// then let the model go on from the results.
	exec := s.mcpExec(ts, pd.st)
	var results []llm.Message
	for i, c := range pd.calls {
		var out llm.Message
		if i == 0 {
			out = s.runTool(ctx, ts, pd.st, c)
		} else {
			out = exec(ctx, c)
		}
		if out.Role == rolePause {
			return s.savePause(pd.thread, pd.st.Name, user.RequestID, results, pd.calls[i:], ts)
		}
		out.Role, out.ToolCallID = llm.RoleTool, c.ID
		results = append(results, out)
	}
	saved := make([]store.Message, len(results))
	for i, r := range results {
		saved[i] = store.Message{Message: r, Agent: pd.st.Name, RequestID: user.RequestID, CreatedAt: now}
	}
	if err := s.r.o.Store.Append(context.WithoutCancel(ctx), pd.thread, saved...); err != nil {
		return err
	}
	history, err := s.history(ctx, pd.thread)
	if err != nil {
		return err
	}
	res, err := s.runLoop(ctx, loopSpec{
		Purpose: "agent", Model: modelOf(pd.st), System: pd.st.Spec.SystemPrompt, Tools: modelTools(pd.st),
		History: history, Sink: streamSink{ts.em}, Exec: s.mcpExec(ts, pd.st),
	})
	s.saveLoop(pd.thread, pd.st.Name, user.RequestID, res, ts)
	ts.final = res.Final
	return err
}

// savePause stores what ran and the pause record.
func (s *Session) savePause(thread, agent, requestID string, done []llm.Message, calls []llm.ToolCall, ts *turnState) error {
	now := s.r.o.Now().UTC()
	msgs := make([]store.Message, 0, len(done)+1)
	for _, m := range done {
		msgs = append(msgs, store.Message{Message: m, Agent: agent, RequestID: requestID, CreatedAt: now})
	}
	msgs = append(msgs, store.Message{Message: llm.Message{Role: store.RoleConfirmation}, Agent: agent, RequestID: requestID,
		CreatedAt: now, Confirmation: &store.Confirmation{Plan: ts.pause.plan, Pending: calls}})
	return s.r.o.Store.Append(context.Background(), thread, msgs...)
}
