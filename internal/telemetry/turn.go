package telemetry

import (
	"context"
	"encoding/json"
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
	t    *Telemetry
	turn trace.Span

	mu sync.Mutex
	// stack holds the open delegations (a supervisor's `execute_tool
	// <agent>`), innermost last.
	stack []delegation
	// name is the agent the turn runs (the supervisor's until routed).
	name string
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
// context down to the child's loop, and tells of the delegation through
// the Observer (scope.Delegated).
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
	return &turnHandler{t: t, next: h, chatID: c.ChatID, user: userHash(c.UserID)}
}

type turnHandler struct {
	t      *Telemetry
	next   chat.Handler
	chatID string
	user   string
}

// Open implements chat.Handler (the eager sign-in is traced by its
// oauth.signin span).
func (h *turnHandler) Open(ctx context.Context, em chat.Emitter) { h.next.Open(ctx, em) }

// Turn implements chat.Handler. The span is named once package agent
// routes the turn (scope.Routed); the supervisor's until then.
func (h *turnHandler) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "invoke_agent"), attribute.String(attrAgentName, agentSupervisor),
		attribute.String(attrConversation, h.chatID),
	}
	if h.user != "" {
		attrs = append(attrs, attribute.String(attrUser, h.user))
	}
	if h.t.capture {
		attrs = append(attrs, attribute.String(attrInput, messagesJSON("user", p.Text)))
	}
	ctx, span := h.t.tracer.Start(ctx, "invoke_agent "+agentSupervisor, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	sc := &scope{t: h.t, turn: span, name: agentSupervisor, agent: agentUnknown}
	ctx = agent.WithObserver(context.WithValue(ctx, scopeKey{}, sc), sc)
	start := h.t.now()
	var once sync.Once
	// The turn is counted when </message> goes out (so a client that saw
	// it also sees the metrics), or when Turn returns without sending it.
	finish := func() {
		once.Do(func() {
			outcome := string(sc.outcome(ctx))
			sc.endDelegations(outcome)
			name := sc.routedName()
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
	h.next.Turn(ctx, &emitter{next: em, finish: finish}, p)
	finish()
}

// Routed implements agent.Observer: the turn's span and metrics are named
// after the agent it runs, and its model calls labelled with it.
func (sc *scope) Routed(name string) {
	if name == "" {
		return // the supervisor routes: its name, as started
	}
	sc.mu.Lock()
	sc.name, sc.agent = name, name
	sc.mu.Unlock()
	sc.turn.SetName("invoke_agent " + name)
	sc.turn.SetAttributes(attribute.String(attrAgentName, name))
}

// Picked implements agent.Observer: the supervisor's pick labels the turn's
// model calls made outside a delegation.
func (sc *scope) Picked(name string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.stack) == 0 {
		sc.agent = name
	}
}

// Delegated implements agent.Observer: an execute_tool span for the
// delegation, the parent of the child's model and tool spans.
func (sc *scope) Delegated(name, query string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	pctx := trace.ContextWithSpan(context.Background(), sc.turn)
	if n := len(sc.stack); n > 0 {
		pctx = sc.stack[n-1].ctx
	}
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "execute_tool"), attribute.String(attrToolName, name),
		attribute.String(attrToolType, "function"), attribute.String(attrAgentName, name),
	}
	if sc.t.capture {
		args, _ := json.Marshal(map[string]string{"name": name, "query": query}) // the <processing-subagent-start> body
		attrs = append(attrs, attribute.String(attrToolArgs, string(args)))
	}
	ctx, span := sc.t.tracer.Start(pctx, "execute_tool "+name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	sc.stack = append(sc.stack, delegation{agent: name, span: span, ctx: ctx})
}

// DelegationEnded implements agent.Observer.
func (sc *scope) DelegationEnded(string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if n := len(sc.stack); n > 0 {
		d := sc.stack[n-1]
		sc.stack = sc.stack[:n-1]
		d.span.SetAttributes(attribute.String(attrOutcome, OutcomeOK))
		d.span.End()
	}
}

func (sc *scope) routedName() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.name
}

// TurnEnded implements agent.Observer: the outcome package agent reports.
func (sc *scope) TurnEnded(o agent.TurnOutcome) {
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

// emitter ends the turn's span when its </message> goes out.
type emitter struct {
	next   chat.Emitter
	finish func()
}

func (e *emitter) Ask(ctx context.Context, frame string, replies ...string) (string, error) {
	return e.next.Ask(ctx, frame, replies...)
}

func (e *emitter) Send(ctx context.Context, frame string) error {
	if frame == chat.MessageClose {
		e.finish()
	}
	return e.next.Send(ctx, frame)
}

// messagesJSON is a one-message gen_ai.input/output.messages value.
func messagesJSON(role, text string) string {
	b, _ := json.Marshal([]map[string]any{{"role": role, "parts": []map[string]string{{"type": "text", "content": text}}}})
	return string(b)
}
