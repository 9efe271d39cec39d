package agent

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// errSkip ends a turn without an error frame (the user canceled a sign-in).
var errSkip = errors.New("turn skipped")

// Open implements chat.Handler: the eager sign-in of a single agent that
// needs OAuth2, right after <chat-metadata>.
func (s *Session) Open(ctx context.Context, em chat.Emitter) {
	usable := s.usableAgents()
	if len(usable) != 1 || !usable[0].needsAuth || s.r.o.Auth == nil {
		return
	}
	_ = em.Send(ctx, chat.MessageOpen)
	defer em.Send(ctx, chat.MessageClose)
	if err := s.authenticate(ctx, em, usable[0], usable[0].challenge); err != nil && !errors.Is(err, ErrAuthCanceled) && ctx.Err() == nil {
		_ = em.Send(ctx, chat.AuthErrorFrame(err.Error()))
	}
}

// Turn implements chat.Handler: one prompt, wrapped in <message> ...
// </message> whatever happens.
func (s *Session) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	defer em.Send(ctx, chat.MessageClose)
	ts := &turnState{em: em}
	err := s.turn(ctx, ts, p)
	if err == nil {
		s.selectUITools(ctx, ts, p)
	}
	switch {
	case err == nil, errors.Is(err, errSkip):
	case errors.Is(err, chat.ErrStopped), errors.Is(err, chat.ErrClientGone):
		s.r.o.Logger.Info("turn stopped", "chat", s.chatID, "cause", err)
	default:
		s.r.o.Logger.Warn("turn failed", "chat", s.chatID, "error", err)
		_ = em.Send(ctx, chat.ErrorFrame(err.Error()))
	}
}

func (s *Session) turn(ctx context.Context, ts *turnState, p chat.Prompt) error {
	input := p.UserInput
	if input == "" {
		input = p.Text
	}
	user := store.Message{
		Message:   llm.Message{Role: llm.RoleUser, Content: p.Text},
		UserInput: input, Context: p.ContextMap(), Labels: p.Labels, Tags: p.Tags,
		RequestID: uuid.NewString(), CreatedAt: s.r.o.Now().UTC(),
	}
	if !s.pendingChecked {
		pd, err := s.findPending(ctx)
		if err != nil {
			return err
		}
		s.pend, s.pendingChecked = pd, true
	}
	if pd := s.pend; pd != nil {
		s.pend = nil
		return s.resume(ctx, ts, pd, user)
	}
	usable := s.usableAgents()
	switch {
	case len(usable) == 1:
		user.Agent = usable[0].Name
		return s.direct(ctx, ts, usable[0], s.chatID, user, true)
	case p.Agent != "" && s.byName[p.Agent] != nil && s.byName[p.Agent].usable():
		return s.manual(ctx, ts, s.byName[p.Agent], user)
	default:
		if p.Agent != "" {
			s.r.o.Logger.Info("unknown agent in prompt, routing instead", "agent", p.Agent)
		}
		return s.supervise(ctx, ts, user)
	}
}

// direct runs one agent on a thread, streaming its answer when stream is
// set, and stores the user message and everything the loop added.
func (s *Session) direct(ctx context.Context, ts *turnState, st *agentState, thread string, user store.Message, stream bool) error {
	if err := s.ensureSignedIn(ctx, ts, st); err != nil {
		return err
	}
	_, err := s.runAgent(ctx, ts, st, thread, user, stream)
	return err
}

// ensureSignedIn runs the lazy sign-in of an agent the user chose. A cancel
// skips the turn; a failure is reported as <auth-error> and skips it too.
func (s *Session) ensureSignedIn(ctx context.Context, ts *turnState, st *agentState) error {
	if !st.needsAuth {
		return nil
	}
	err := s.authenticate(ctx, ts.em, st, st.challenge)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrAuthCanceled), ctx.Err() != nil:
		return errSkip
	default:
		_ = ts.em.Send(ctx, chat.AuthErrorFrame(err.Error()))
		return errSkip
	}
}

// runAgent runs an agent's loop on a thread and stores the result.
func (s *Session) runAgent(ctx context.Context, ts *turnState, st *agentState, thread string, user store.Message, stream bool) (loopResult, error) {
	history, err := s.history(ctx, thread)
	if err != nil {
		return loopResult{}, err
	}
	res, err := s.runLoop(ctx, s.agentSpec(ts, st, history, []llm.Message{user.Message}, stream))
	s.save(thread, st.Name, user, res, ts)
	if res.Paused != nil {
		if err := s.pauseAgent(pending{thread: thread, st: st, calls: res.Paused, stream: stream}, user.RequestID, nil, ts); err != nil {
			return res, err
		}
	}
	if stream {
		ts.final = res.Final
	}
	return res, err
}

// agentSpec is an agent's loop over history and input, streamed to the
// browser or not (a supervisor's child).
func (s *Session) agentSpec(ts *turnState, st *agentState, history, input []llm.Message, stream bool) loopSpec {
	var sink textSink = discardSink{}
	if stream {
		sink = streamSink{ts.em}
	}
	return loopSpec{
		Purpose: "agent", Model: modelOf(st), System: st.Spec.SystemPrompt, Tools: modelTools(st),
		History: history, Input: input, Sink: sink, Exec: s.mcpExec(ts, st),
	}
}

// manual runs the agent the user picked, on its child thread; the main
// thread records the question and the answer.
func (s *Session) manual(ctx context.Context, ts *turnState, st *agentState, user store.Message) error {
	user.Agent = st.Name
	if err := s.ensureSignedIn(ctx, ts, st); err != nil {
		return err
	}
	res, err := s.runAgent(ctx, ts, st, store.ChildThread(s.chatID, st.Name), user, true)
	s.saveSummary(st.Name, user, res.Final)
	return err
}

func modelOf(st *agentState) string {
	if st.Spec.LLMModelEnabled && st.Spec.LLMModel != nil {
		return *st.Spec.LLMModel
	}
	return ""
}

// history loads a thread as model messages.
func (s *Session) history(ctx context.Context, thread string) ([]llm.Message, error) {
	msgs, err := s.r.o.Store.Messages(ctx, thread)
	if err != nil {
		return nil, err
	}
	out := make([]llm.Message, 0, len(msgs))
	for _, m := range msgs {
		if m.Role == store.RoleConfirmation || m.Role == store.RoleUITools {
			continue // records for the user's history, not the model's conversation
		}
		out = append(out, m.Message)
	}
	return out, nil
}

// save stores the user message and a loop's messages. It runs even when
// the turn was stopped, so it does not use the turn's context.
func (s *Session) save(thread, agent string, user store.Message, res loopResult, ts *turnState) {
	s.store(thread, append([]store.Message{user}, s.loopMessages(agent, user.RequestID, res, ts)...))
}

// saveLoop stores a loop's messages (a resumed turn has no user message).
func (s *Session) saveLoop(thread, agent, requestID string, res loopResult, ts *turnState) {
	s.store(thread, s.loopMessages(agent, requestID, res, ts))
}

func (s *Session) store(thread string, msgs []store.Message) {
	if err := s.r.o.Store.Append(context.Background(), thread, msgs...); err != nil {
		s.r.o.Logger.Error("saving messages failed", "thread", thread, "error", err)
	}
}

// loopMessages converts a loop's new messages for the store; the final
// answer carries the turn's usage and uiContext.
func (s *Session) loopMessages(agent, requestID string, res loopResult, ts *turnState) []store.Message {
	msgs := make([]store.Message, 0, len(res.New))
	now := s.r.o.Now().UTC()
	for i, m := range res.New {
		sm := store.Message{Message: m, Agent: agent, RequestID: requestID, CreatedAt: now}
		if i == len(res.New)-1 && m.Role == llm.RoleAssistant {
			u := res.Usage
			sm.Usage = &u
			sm.MCPResponses = ts.mcpResponses
		}
		msgs = append(msgs, sm)
	}
	return msgs
}

// saveSummary records a question and its final answer on the main thread.
func (s *Session) saveSummary(agent string, user store.Message, final string) {
	msgs := []store.Message{user}
	if final != "" {
		msgs = append(msgs, store.Message{
			Message: llm.Message{Role: llm.RoleAssistant, Content: final},
			Agent:   agent, RequestID: user.RequestID, CreatedAt: s.r.o.Now().UTC(),
		})
	}
	s.store(s.chatID, msgs)
}
