package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
)

// recommendAfter is how many consecutive picks of one agent make the
// supervisor recommend it.
const recommendAfter = 3

// supervise routes a prompt between several agents. The supervisor model's
// tools are the agents (each takes `query`); a child runs on its own thread
// with its tokens not streamed, and its answer comes back as the tool
// result. A supervisor answer that is exactly an agent's name hands the
// prompt to that agent, whose answer is then streamed (this is how the
// rancher-ai-llm-mock scripts routing).
func (s *Session) supervise(ctx context.Context, ts *turnState, user store.Message) outcome {
	out := s.start(ctx, ts, run{thread: s.chatID, stream: true}, user)
	if out.kind != handedOff {
		return out
	}
	st := s.byName[out.agent]
	s.pick(ctx, ts.em, st.Name)
	if out, ok := s.signIn(ctx, ts, st); !ok {
		s.saveSummary(st.Name, user, outcome{})
		return out
	}
	child := user
	child.Agent = st.Name
	out = s.start(ctx, ts, run{thread: store.ChildThread(s.chatID, st.Name), st: st, stream: true}, child)
	s.saveSummary(st.Name, user, out)
	return out
}

// supervisorSpec is the supervisor's loop over history and input.
func (s *Session) supervisorSpec(ts *turnState, history, input []llm.Message) loopSpec {
	usable := s.usableAgents()
	names := make([]string, len(usable))
	for i, st := range usable {
		names[i] = st.Name
	}
	return loopSpec{
		Purpose: "supervisor", System: supervisorPrompt(s.r.o.SupervisorPrompt, usable), Tools: agentTools(usable),
		History: history, Input: input, Sink: &holdbackSink{em: ts.em, names: names, n: s.r.o.ModelText.Stream()}, Exec: s.delegateExec(ts),
	}
}

// delegateExec runs a supervisor tool call: the named child answers query.
func (s *Session) delegateExec(ts *turnState) toolExec {
	return func(ctx context.Context, call llm.ToolCall) (llm.Message, *pause) {
		st := s.byName[call.Name]
		if st == nil || !st.usable() {
			return llm.Message{Content: fmt.Sprintf("Error: agent %q does not exist.", call.Name), IsError: true}, nil
		}
		var args struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(call.Arguments, &args); err != nil || strings.TrimSpace(args.Query) == "" {
			return llm.Message{Content: `Error: the argument "query" is required.`, IsError: true}, nil
		}
		s.pick(ctx, ts.em, st.Name)
		if st.needsAuth {
			// Lazy sign-in: the run waits here, then goes on with this call.
			if err := s.authenticate(ctx, ts.em, st, st.challenge); err != nil {
				return llm.Message{Content: fmt.Sprintf("The '%s' agent is not available: %v", st.Name, err), IsError: true}, nil
			}
		}
		obs := observerOf(ctx)
		obs.Delegated(st.Name, args.Query)
		_ = ts.em.Send(ctx, chat.SubagentStartFrame(st.Name, args.Query))
		in := store.Message{
			Message: llm.Message{Role: llm.RoleUser, Content: args.Query}, UserInput: args.Query,
			Agent: st.Name, CreatedAt: s.r.o.Now().UTC(),
		}
		out := s.start(ctx, ts, run{thread: store.ChildThread(s.chatID, st.Name), st: st}, in)
		_ = ts.em.Send(ctx, chat.SubagentEndFrame(st.Name, args.Query))
		obs.DelegationEnded(st.Name)
		switch {
		case out.kind == paused:
			// The child waits for the user's decision; so does this call.
			return llm.Message{}, &pause{plan: out.pause.plan, child: out.pend}
		case out.kind == answered && out.final == "":
			return llm.Message{Content: "No response from agent."}, nil
		case out.kind == answered:
			return llm.Message{Content: out.final}, nil
		case ctx.Err() != nil:
			return stoppedResults([]llm.ToolCall{call}, context.Cause(ctx))[0], nil
		default:
			return llm.Message{Content: fmt.Sprintf("The '%s' agent failed: %v", st.Name, out.err), IsError: true}, nil
		}
	}
}

// pick records a routing choice and sends <agent-metadata>.
func (s *Session) pick(ctx context.Context, em chat.Emitter, name string) {
	s.mu.Lock()
	if s.lastPick == name {
		s.pickCount++
	} else {
		s.lastPick, s.pickCount = name, 1
	}
	rec := ""
	if s.pickCount >= recommendAfter {
		rec = name
	}
	s.mu.Unlock()
	observerOf(ctx).Picked(name)
	_ = em.Send(ctx, chat.AgentMetadataFrame(name, rec))
}

func agentTools(usable []*agentState) []llm.Tool {
	out := make([]llm.Tool, 0, len(usable))
	for _, st := range usable {
		desc := st.Spec.Description
		if desc == "" {
			desc = st.Spec.DisplayName
		}
		out = append(out, llm.Tool{
			Name: st.Name, Description: desc,
			InputSchema: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"The request for this agent, with every detail it needs."}},"required":["query"]}`),
		})
	}
	return out
}

// defaultSupervisorInstructions are the supervisor's instructions unless
// the administrator set SYSTEM_PROMPT.
const defaultSupervisorInstructions = "You are a supervisor that routes the user's requests to specialised agents. " +
	"Call the tool of the agent that fits the request, passing the full request as `query`, " +
	"then answer the user from the agent's result. Answer directly only for greetings or questions no agent covers."

// supervisorPrompt is the supervisor's system prompt: instructions (the
// administrator's SYSTEM_PROMPT, else ours), then the list of agents,
// which routing needs whatever the instructions say.
func supervisorPrompt(instructions string, usable []*agentState) string {
	var b strings.Builder
	b.WriteString(cmp.Or(strings.TrimSpace(instructions), defaultSupervisorInstructions))
	b.WriteString("\n\nAgents:\n")
	for _, st := range usable {
		fmt.Fprintf(&b, "- %s (%s): %s\n", st.Name, st.Spec.DisplayName, st.Spec.Description)
	}
	return b.String()
}

// holdbackSink streams the supervisor's text, except that it holds deltas
// back while the answer so far could still be an agent's name, so that a
// routing answer is never shown. Held deltas are sent unchanged, one frame
// each (neutralized, as streamSink does), as soon as the text can no
// longer be a name.
type holdbackSink struct {
	em      chat.Emitter
	n       *modeltext.Stream
	names   []string
	held    []string
	acc     strings.Builder
	flushed bool
}

func (h *holdbackSink) write(ctx context.Context, d string) error {
	if h.flushed {
		return sendText(ctx, h.em, h.n.Write(d))
	}
	h.held = append(h.held, d)
	h.acc.WriteString(d)
	if !h.couldBeName(strings.TrimSpace(h.acc.String())) {
		return h.flush(ctx)
	}
	return nil
}

func (h *holdbackSink) end(ctx context.Context, toolCalls bool) (string, error) {
	defer func() { h.held, h.flushed = nil, false; h.acc.Reset() }()
	if !h.flushed && !toolCalls {
		if name := h.nameOf(strings.TrimSpace(h.acc.String())); name != "" {
			return name, nil
		}
	}
	if err := h.flush(ctx); err != nil {
		return "", err
	}
	return "", sendText(ctx, h.em, h.n.Flush())
}

func (h *holdbackSink) flush(ctx context.Context) error {
	h.flushed = true
	for _, d := range h.held {
		if err := sendText(ctx, h.em, h.n.Write(d)); err != nil {
			return err
		}
	}
	h.held = nil
	return nil
}

func (h *holdbackSink) couldBeName(t string) bool {
	for _, n := range h.names {
		if len(t) <= len(n) && strings.EqualFold(n[:len(t)], t) {
			return true
		}
	}
	return false
}

func (h *holdbackSink) nameOf(t string) string {
	for _, n := range h.names {
		if strings.EqualFold(n, t) {
			return n
		}
	}
	return ""
}
