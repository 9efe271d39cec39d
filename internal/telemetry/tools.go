package telemetry

import (
	"context"
	"encoding/json"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// Tools wraps p: each Call is an `execute_tool <tool>` span and counts in
// the tool metrics. Listing tools is not traced.
func (t *Telemetry) Tools(p agent.ToolProvider) agent.ToolProvider { return &tools{t: t, next: p} }

type tools struct {
	t    *Telemetry
	next agent.ToolProvider
}

func (p *tools) Tools(ctx context.Context, a agentconfig.Agent, cred mcp.Credentials) ([]mcp.Tool, error) {
	return p.next.Tools(ctx, a, cred)
}

func (p *tools) Call(ctx context.Context, a agentconfig.Agent, cred mcp.Credentials, name string, args json.RawMessage) (mcp.Result, error) {
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "execute_tool"), attribute.String(attrToolName, name),
		attribute.String(attrToolType, "extension"), attribute.String(attrAgentName, a.Name),
	}
	if p.t.capture {
		attrs = append(attrs, attribute.String(attrToolArgs, string(args)))
	}
	sctx, span := p.t.tracer.Start(parent(ctx), "execute_tool "+name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	defer span.End()
	start := p.t.now()
	res, err := p.next.Call(sctx, a, cred, name, args)
	outcome := OutcomeOK
	switch {
	case err != nil && ctx.Err() != nil:
		outcome = OutcomeCanceled
	case errors.Is(err, mcp.ErrUnauthorized), errors.Is(err, mcp.ErrForbidden):
		outcome = OutcomeUnauthorized
	case err != nil:
		outcome = OutcomeError
	case res.IsError:
		outcome = OutcomeToolError
	}
	p.t.toolCalls.WithLabelValues(a.Name, outcome).Inc()
	p.t.toolDuration.WithLabelValues(a.Name).Observe(p.t.since(start))
	span.SetAttributes(attribute.String(attrOutcome, outcome))
	if outcome != OutcomeOK {
		span.SetStatus(codes.Error, outcome)
		span.SetAttributes(attribute.String(attrErrorType, outcome))
	}
	if p.t.capture && err == nil {
		span.SetAttributes(attribute.String(attrToolResult, res.ForModel))
	}
	return res, err
}
