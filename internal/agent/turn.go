package agent

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

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
		s.r.o.Logger.Info("sign-in failed", "chat", s.chatID, "agent", usable[0].Name, "error", err)
		_ = em.Send(ctx, chat.AuthErrorFrame(authErrorSentence(usable[0].Name, err)))
	}
}

// Turn implements chat.Handler: one prompt, wrapped in <message> ...
// </message> whatever happens.
func (s *Session) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	defer em.Send(ctx, chat.MessageClose)
	ts := &turnState{em: em}
	s.unsaved = false
	out := s.turn(ctx, ts, p)
	label := out.label()
	switch out.kind {
	case answered:
		s.selectUITools(ctx, ts, p)
	case paused:
		s.pend = out.pend
	case stopped:
		s.r.o.Logger.Info("turn stopped", "chat", s.chatID, "cause", out.err)
	case failed:
		s.r.o.Logger.Warn("turn failed", "chat", s.chatID, "error", out.err)
		msg := out.err.Error()
		if errors.Is(out.err, ErrStore) {
			msg = storeUnavailable
		}
		_ = em.Send(ctx, chat.ErrorFrame(msg))
	case authFailed:
		s.r.o.Logger.Info("turn ended: sign-in failed", "chat", s.chatID, "error", out.err)
	}
	if s.unsaved && out.kind != failed {
		// The user saw the answer; say that a reopened chat will not.
		_ = em.Send(ctx, chat.ErrorFrame(notSaved))
		label = TurnFailed
	}
	ReportOutcome(ctx, label)
}

func (s *Session) turn(ctx context.Context, ts *turnState, p chat.Prompt) outcome {
	input := p.UserInput
	if input == "" {
		input = p.Text
	}
	user := store.Message{
		Message:   llm.Message{Role: llm.RoleUser, Content: p.Text},
		UserInput: input, Context: p.ContextMap(), Labels: p.Labels, Tags: p.Tags,
		RequestID: uuid.NewString(), CreatedAt: s.r.o.Now().UTC(),
	}
	// The route: one usable agent, the one the user picked, else the
	// supervisor (nil). A paused call resumes on its own run whatever it is.
	usable := s.usableAgents()
	var route *agentState
	switch {
	case len(usable) == 1:
		route = usable[0]
	case p.Agent != "" && s.byName[p.Agent] != nil && s.byName[p.Agent].usable():
		route = s.byName[p.Agent]
	case p.Agent != "":
		s.r.o.Logger.Info("unknown agent in prompt, routing instead", "agent", p.Agent)
	}
	if route != nil {
		observerOf(ctx).Routed(route.Name)
	} else {
		observerOf(ctx).Routed("")
	}
	if !s.pendingChecked {
		pd, err := s.findPending(ctx)
		if err != nil {
			return fail(err)
		}
		s.pend, s.pendingChecked = pd, true
	}
	if pd := s.pend; pd != nil {
		s.pend = nil
		return s.resume(ctx, ts, pd, user)
	}
	switch {
	case route == nil:
		return s.supervise(ctx, ts, user)
	case len(usable) == 1:
		user.Agent = route.Name
		return s.direct(ctx, ts, run{thread: s.chatID, st: route, stream: true}, user)
	default:
		return s.manual(ctx, ts, route, user)
	}
}

// run is who runs a loop on which thread: an agent, or the supervisor
// (st nil); streamed to the browser or not (a supervisor's child).
type run struct {
	thread string
	st     *agentState
	stream bool
	// parent is the supervisor's pause that a resumed child's answer
	// completes.
	parent *pending
}

// agent names the run's agent in stored records ("" for the supervisor).
func (r run) agent() string {
	if r.st == nil {
		return ""
	}
	return r.st.Name
}

// spec is a run's loop over history and input.
func (s *Session) spec(ts *turnState, r run, history, input []llm.Message) loopSpec {
	if r.st == nil {
		return s.supervisorSpec(ts, history, input)
	}
	return s.agentSpec(ts, r.st, history, input, r.stream)
}

// exec is the tool executor of a run.
func (s *Session) exec(ts *turnState, r run) toolExec {
	if r.st == nil {
		return s.delegateExec(ts)
	}
	return s.mcpExec(ts, r.st)
}

// direct runs one agent on a thread after its sign-in.
func (s *Session) direct(ctx context.Context, ts *turnState, r run, user store.Message) outcome {
	if out, ok := s.signIn(ctx, ts, r.st); !ok {
		s.store(r.thread, []store.Message{user}) // the prompt stays in history
		return out
	}
	return s.start(ctx, ts, r, user)
}

// signIn runs the lazy sign-in of an agent the user chose. A cancel stops
// the turn; a failure is reported as <auth-error> and stops it too.
func (s *Session) signIn(ctx context.Context, ts *turnState, st *agentState) (outcome, bool) {
	if !st.needsAuth {
		return outcome{}, true
	}
	err := s.authenticate(ctx, ts.em, st, st.challenge)
	switch {
	case err == nil:
		return outcome{}, true
	case errors.Is(err, ErrAuthCanceled), ctx.Err() != nil:
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return outcome{kind: stopped, err: err}, false
	}
	_ = ts.em.Send(ctx, chat.AuthErrorFrame(authErrorSentence(st.Name, err)))
	return outcome{kind: authFailed, err: err}, false
}

// start runs a prompt on a run's thread and stores the prompt and what the
// loop added. A hand-off stores nothing: the caller passes the prompt on.
func (s *Session) start(ctx context.Context, ts *turnState, r run, user store.Message) outcome {
	history, err := s.history(ctx, r.thread)
	if err != nil {
		return fail(err)
	}
	history = s.summarize(ctx, r, history, user.RequestID)
	res := s.runLoop(ctx, s.spec(ts, r, history, []llm.Message{user.Message}))
	if res.out.kind == handedOff {
		return res.out
	}
	s.save(r.thread, r.agent(), user, res, ts)
	return s.settle(ctx, r, user.RequestID, nil, res.out, ts)
}

// agentSpec is an agent's loop over history and input, streamed to the
// browser or not (a supervisor's child).
func (s *Session) agentSpec(ts *turnState, st *agentState, history, input []llm.Message, stream bool) loopSpec {
	var sink textSink = discardSink{}
	if stream {
		sink = streamSink{em: ts.em, n: s.r.o.ModelText.Stream()}
	}
	return loopSpec{
		Purpose: "agent", Model: modelOf(st), System: st.Spec.SystemPrompt, Tools: modelTools(st),
		History: history, Input: input, Sink: sink, Exec: s.mcpExec(ts, st),
	}
}

// manual runs the agent the user picked, on its child thread; the main
// thread records the question and the answer.
func (s *Session) manual(ctx context.Context, ts *turnState, st *agentState, user store.Message) outcome {
	user.Agent = st.Name
	if out, ok := s.signIn(ctx, ts, st); !ok {
		s.saveSummary(st.Name, user, outcome{}) // the prompt stays in history
		return out
	}
	out := s.start(ctx, ts, run{thread: store.ChildThread(s.chatID, st.Name), st: st, stream: true}, user)
	s.saveSummary(st.Name, user, out)
	return out
}

func modelOf(st *agentState) string {
	if st.Spec.LLMModelEnabled && st.Spec.LLMModel != nil {
		return *st.Spec.LLMModel
	}
	return ""
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
	if err := s.append(context.Background(), thread, msgs...); err != nil {
		s.r.o.Logger.Error("saving messages failed", "thread", thread, "error", err)
		s.unsaved = true
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

// saveSummary records a question and its outcome on the main thread (a
// run on a child's thread, reached by a hand-off or the user's pick).
func (s *Session) saveSummary(agent string, user store.Message, out outcome) {
	s.store(s.chatID, append([]store.Message{user}, s.mirror(agent, user.RequestID, out)...))
}

// mirror is what the main thread records, for the history, of a child
// run's outcome: its final answer, or the confirmation it waits on. The
// pending calls stay in the child's thread (a record without them is no
// pause: findPending never resumes it); the model skips the record.
func (s *Session) mirror(agent, requestID string, out outcome) []store.Message {
	now := s.r.o.Now().UTC()
	switch {
	case out.kind == answered && out.final != "":
		return []store.Message{{Message: llm.Message{Role: llm.RoleAssistant, Content: out.final},
			Agent: agent, RequestID: requestID, CreatedAt: now}}
	case out.kind == paused && out.pause != nil:
		return []store.Message{{Message: llm.Message{Role: store.RoleConfirmation}, Agent: agent, RequestID: requestID,
			CreatedAt: now, Confirmation: &store.Confirmation{Plan: out.pause.plan}}}
	}
	return nil
}
