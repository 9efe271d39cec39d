package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rancher/ai-agent/internal/oauth"
)

// OAuth is the observer of sign-ins and refreshes (oauth.ServiceOptions.Observer).
func (t *Telemetry) OAuth() oauth.Observer { return oauthObserver{t} }

type oauthObserver struct{ t *Telemetry }

// Begin implements oauth.Observer: an `oauth.signin` or `oauth.refresh`
// span; the outcome also counts in ai_agent_oauth_signins_total or
// ai_agent_oauth_refreshes_total.
func (o oauthObserver) Begin(ctx context.Context, op, agent string) (context.Context, func(outcome string)) {
	ctx, span := o.t.tracer.Start(parent(ctx), "oauth."+op, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String(attrAgentName, agent)))
	var counter *prometheus.CounterVec
	switch op {
	case oauth.OpSignIn:
		counter = o.t.signins
	case oauth.OpRefresh:
		counter = o.t.refreshes
	}
	return ctx, func(outcome string) {
		if counter != nil {
			counter.WithLabelValues(agent, outcome).Inc()
		}
		span.SetAttributes(attribute.String(attrOutcome, outcome))
		if outcome != oauth.OutcomeOK {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

// Audit implements oauth.Auditor: every audited event (sign-in, refresh,
// revocation, administrative revocation) counts in
// ai_agent_oauth_events_total{event,result}. Its span is Begin's.
func (o oauthObserver) Audit(_ context.Context, e oauth.AuditEvent) {
	o.t.oauthEvents.WithLabelValues(e.Event, e.Result).Inc()
}
