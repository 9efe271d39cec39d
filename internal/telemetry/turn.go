package telemetry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/server"
)

// GenAI semantic-convention attribute keys used here.
const (
	attrOperation    = "gen_ai.operation.name"
	attrProvider     = "gen_ai.provider.name"
	attrRequestModel = "gen_ai.request.model"
	attrInputTokens  = "gen_ai.usage.input_tokens"
	attrOutputTokens = "gen_ai.usage.output_tokens"
	attrToolName     = "gen_ai.tool.name"
	attrToolType     = "gen_ai.tool.type"
	attrAgentName    = "gen_ai.agent.name"
	attrConversation = "gen_ai.conversation.id"
	attrInput        = "gen_ai.input.messages"
	attrOutput       = "gen_ai.output.messages"
	attrToolArgs     = "gen_ai.tool.call.arguments"
	attrToolResult   = "gen_ai.tool.call.result"
	attrErrorType    = "error.type"
	attrUser         = "enduser.pseudo.id"
	attrOutcome      = "ai_agent.outcome"
	attrPurpose      = "ai_agent.purpose"
)

// scope is one turn as the decorators see it, found through the context.
// Turns of one connection run one at a time and a turn calls the model and
// its tools one at a time, so the stack changes only between those calls.
type scope struct {
	turn trace.Span

	mu sync.Mutex
	// stack holds the open delegations (a supervisor's `execute_tool
	// <agent>`), innermost last.
	stack []delegation
	// agent labels the model calls of the turn that are not the supervisor's.
	agent string
	// ended is the turn's outcome as package agent reported it ("" until then).
	ended agent.TurnOutcome
}

type delegation struct {
	agent string
	span  trace.Span
	ctx   context.Context
}

type scopeKey struct{}

func scopeOf(ctx context.Context) *scope {
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	return sc
}

// parent is the context a model, tool or OAuth span starts from. A call
// whose context still carries the turn span itself runs inside the
// innermost open delegation, if any: package agent passes the turn's
// context down to the child's loop, and the delegation is known only from
// its frames.
func parent(ctx context.Context) context.Context {
	sc := scopeOf(ctx)
	if sc == nil {
		return ctx
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.stack) == 0 || trace.SpanFromContext(ctx).SpanContext().SpanID() != sc.turn.SpanContext().SpanID() {
		return ctx
	}
	return trace.ContextWithSpan(ctx, sc.stack[len(sc.stack)-1].span)
}

// agentOf labels a model call: the supervisor's own calls, the delegated
// child's, or the turn's agent.
func agentOf(ctx context.Context, purpose string) string {
	sc := scopeOf(ctx)
	if sc == nil {
		return agentUnknown
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if n := len(sc.stack); n > 0 && purpose != agentSupervisor {
		return sc.stack[n-1].agent
	}
	if purpose == agentSupervisor {
		return agentSupervisor
	}
	return sc.agent
}

// Connected counts an open WebSocket; the returned function uncounts it.
func (t *Telemetry) Connected() func() {
	t.websockets.Inc()
	var once sync.Once
	return func() { once.Do(t.websockets.Dec) }
}

// Handler wraps the handler of one chat connection with the turn span and
// metrics.
func (t *Telemetry) Handler(h chat.Handler, c server.ConnInfo) chat.Handler {
	var active []string
	for _, a := range c.Agents {
		if a.Status == chat.StatusActive {
			active = append(active, a.Name)
		}
	}
	return &turnHandler{t: t, next: h, chatID: c.ChatID, user: userHash(c.UserID), active: active}
}

type turnHandler struct {
	t      *Telemetry
	next   chat.Handler
	chatID string
	user   string
	active []string
}

// Open implements chat.Handler (the eager sign-in is traced by its
// oauth.signin span).
func (h *turnHandler) Open(ctx context.Context, em chat.Emitter) { h.next.Open(ctx, em) }

// Turn implements chat.Handler.
func (h *turnHandler) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	name := agentSupervisor
	switch {
	case len(h.active) == 1:
		name = h.active[0]
	case p.Agent != "" && slices.Contains(h.active, p.Agent):
		name = p.Agent
	}
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "invoke_agent"), attribute.String(attrAgentName, name),
		attribute.String(attrConversation, h.chatID),
	}
	if h.user != "" {
		attrs = append(attrs, attribute.String(attrUser, h.user))
	}
	if h.t.capture {
		attrs = append(attrs, attribute.String(attrInput, messagesJSON("user", p.Text)))
	}
	ctx, span := h.t.tracer.Start(ctx, "invoke_agent "+name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	sc := &scope{turn: span, agent: name}
	ctx = agent.WithOutcome(context.WithValue(ctx, scopeKey{}, sc), sc.end)
	if name == agentSupervisor {
		sc.agent = agentUnknown
	}
	start := h.t.now()
	var once sync.Once
	// The turn is counted when </message> goes out (so a client that saw
	// it also sees the metrics), or when Turn returns without sending it.
	finish := func() {
		once.Do(func() {
			outcome := string(sc.outcome(ctx))
			sc.endDelegations(outcome)
			h.t.turns.WithLabelValues(name, outcome).Inc()
			h.t.turnDuration.WithLabelValues(name).Observe(h.t.since(start))
			span.SetAttributes(attribute.String(attrOutcome, outcome))
			if outcome == string(agent.TurnFailed) || outcome == string(agent.TurnAuthFailed) {
				span.SetStatus(codes.Error, outcome)
				span.SetAttributes(attribute.String(attrErrorType, outcome))
			}
			span.End()
		})
	}
	h.next.Turn(ctx, &emitter{next: em, t: h.t, sc: sc, finish: finish}, p)
	finish()
}

// end records the outcome package agent reports (agent.WithOutcome).
func (sc *scope) end(o agent.TurnOutcome) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.ended = o
}

// outcome is the turn's typed outcome (agent.TurnOutcome, a bounded set).
// A handler that did not report one broke the chat.Handler contract: the
// turn counts as failed, or canceled when its context ended.
func (sc *scope) outcome(ctx context.Context) agent.TurnOutcome {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case sc.ended != "":
		return sc.ended
	case ctx.Err() != nil:
		return agent.TurnCanceled
	}
	return agent.TurnFailed
}

func (sc *scope) endDelegations(outcome string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for i := len(sc.stack) - 1; i >= 0; i-- {
		sc.stack[i].span.SetAttributes(attribute.String(attrOutcome, outcome))
		sc.stack[i].span.End()
	}
	sc.stack = nil
}

// emitter watches the frames of a turn: delegations, picks, errors.
type emitter struct {
	next   chat.Emitter
	t      *Telemetry
	sc     *scope
	finish func()
}

func (e *emitter) Ask(ctx context.Context, frame string, replies ...string) (string, error) {
	return e.next.Ask(ctx, frame, replies...)
}

func (e *emitter) Send(ctx context.Context, frame string) error {
	switch {
	case frame == chat.MessageClose:
		e.finish()
	case strings.HasPrefix(frame, "<") && !strings.HasPrefix(frame, "</"):
		e.observe(frame)
	}
	return e.next.Send(ctx, frame)
}

func (e *emitter) observe(frame string) {
	name, body, ok := splitTag(frame)
	if !ok {
		return
	}
	sc := e.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch name {
	case "agent-metadata":
		var m struct {
			AgentName string `json:"agentName"`
		}
		if json.Unmarshal([]byte(body), &m) == nil && m.AgentName != "" && len(sc.stack) == 0 {
			sc.agent = m.AgentName
		}
	case "processing-subagent-start":
		agent := subagentName(body)
		pctx := trace.ContextWithSpan(context.Background(), sc.turn)
		if n := len(sc.stack); n > 0 {
			pctx = sc.stack[n-1].ctx
		}
		attrs := []attribute.KeyValue{
			attribute.String(attrOperation, "execute_tool"), attribute.String(attrToolName, agent),
			attribute.String(attrToolType, "function"), attribute.String(attrAgentName, agent),
		}
		if e.t.capture {
			attrs = append(attrs, attribute.String(attrToolArgs, body))
		}
		ctx, span := e.t.tracer.Start(pctx, "execute_tool "+agent, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
		sc.stack = append(sc.stack, delegation{agent: agent, span: span, ctx: ctx})
	case "processing-subagent-end":
		if n := len(sc.stack); n > 0 {
			d := sc.stack[n-1]
			sc.stack = sc.stack[:n-1]
			d.span.SetAttributes(attribute.String(attrOutcome, OutcomeOK))
			d.span.End()
		}
	}
}

// splitTag splits <name>body</name>.
func splitTag(frame string) (name, body string, ok bool) {
	end := strings.IndexByte(frame, '>')
	if end < 2 {
		return "", "", false
	}
	name = frame[1:end]
	rest, ok := strings.CutSuffix(frame[end+1:], "</"+name+">")
	return name, rest, ok
}

func subagentName(body string) string {
	var m struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	return m.Name
}

// messagesJSON is a one-message gen_ai.input/output.messages value.
func messagesJSON(role, text string) string {
	b, _ := json.Marshal([]map[string]any{{"role": role, "parts": []map[string]string{{"type": "text", "content": text}}}})
	return string(b)
}
