package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/llm/provider"
)

// ProviderName is the gen_ai.provider.name of an ACTIVE_LLM value: the
// semantic conventions' well-known names where one exists.
func ProviderName(activeLLM string) string {
	switch activeLLM {
	case "openai", "generic-openai":
		return "openai"
	case "gemini":
		return "gcp.gemini"
	case "bedrock":
		return "aws.bedrock"
	case "":
		return "scripted"
	}
	return activeLLM
}

// Model wraps m: each Stream is a `chat <model>` client span and counts in
// the model metrics. provider is a gen_ai.provider.name (ProviderName);
// defaultModel names the model when a request does not.
func (t *Telemetry) Model(m llm.Model, providerName, defaultModel string) llm.Model {
	return &model{t: t, next: m, provider: providerName, model: defaultModel}
}

type model struct {
	t        *Telemetry
	next     llm.Model
	provider string
	model    string
}

// ConfigError forwards the wrapped model's configuration error (an
// llm.Unavailable model must still be recognised through the wrapper).
func (m *model) ConfigError() error {
	if c, ok := m.next.(interface{ ConfigError() error }); ok {
		return c.ConfigError()
	}
	return nil
}

// Stream implements llm.Model.
func (m *model) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		name := req.Model
		if name == "" {
			name = m.model
		}
		attrs := []attribute.KeyValue{
			attribute.String(attrOperation, "chat"), attribute.String(attrProvider, m.provider),
			attribute.String(attrRequestModel, name), attribute.String(attrPurpose, req.Purpose),
		}
		if m.t.capture {
			attrs = append(attrs, attribute.String(attrInput, requestJSON(req.Messages)))
		}
		sctx, span := m.t.tracer.Start(parent(ctx), "chat "+name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
		agent := agentOf(ctx, req.Purpose)
		start := m.t.now()
		var (
			usage   llm.Usage
			text    strings.Builder
			calls   int
			outcome = OutcomeOK
		)
		defer func() {
			if outcome == OutcomeOK && ctx.Err() != nil {
				outcome = OutcomeCanceled
			}
			m.t.modelRequests.WithLabelValues(m.provider, outcome).Inc()
			m.t.modelDuration.WithLabelValues(m.provider).Observe(m.t.since(start))
			m.t.modelTokens.WithLabelValues(agent, "input").Add(float64(usage.InputTokens))
			m.t.modelTokens.WithLabelValues(agent, "output").Add(float64(usage.OutputTokens))
			span.SetAttributes(attribute.Int(attrInputTokens, usage.InputTokens), attribute.Int(attrOutputTokens, usage.OutputTokens),
				attribute.String(attrOutcome, outcome), attribute.Int("ai_agent.tool_calls", calls))
			if m.t.capture {
				span.SetAttributes(attribute.String(attrOutput, messagesJSON("assistant", text.String())))
			}
			span.End()
		}()
		for ev, err := range m.next.Stream(sctx, req) {
			if err != nil {
				outcome = OutcomeError
				if ctx.Err() != nil {
					outcome = OutcomeCanceled
				}
				// The error's class only: a provider's message may quote
				// the request.
				span.SetStatus(codes.Error, errorClass(err))
				span.SetAttributes(attribute.String(attrErrorType, errorClass(err)))
			}
			switch {
			case ev.Usage != nil:
				usage.InputTokens += ev.Usage.InputTokens
				usage.OutputTokens += ev.Usage.OutputTokens
			case ev.ToolCall != nil:
				calls++
			case m.t.capture:
				text.WriteString(ev.Text)
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

// errorClass is a bounded description of an error for error.type.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	if ae, ok := errors.AsType[*provider.APIError](err); ok {
		return "http_" + strconv.Itoa(ae.Status)
	}
	switch {
	case errors.Is(err, provider.ErrStalled):
		return "stalled"
	case errors.Is(err, provider.ErrInterrupted):
		return "interrupted"
	case errors.Is(err, provider.ErrProvider):
		return "provider"
	}
	return "_OTHER"
}

func requestJSON(msgs []llm.Message) string {
	type part struct {
		Type    string `json:"type"`
		Content string `json:"content,omitempty"`
	}
	type msg struct {
		Role  string `json:"role"`
		Parts []part `json:"parts"`
	}
	out := make([]msg, 0, len(msgs))
	for _, m := range msgs {
		p := []part{{Type: "text", Content: m.Content}}
		for _, c := range m.ToolCalls {
			p = append(p, part{Type: "tool_call", Content: c.Name + " " + string(c.Arguments)})
		}
		out = append(out, msg{Role: m.Role, Parts: p})
	}
	b, _ := json.Marshal(out)
	return string(b)
}
