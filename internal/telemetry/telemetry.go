package telemetry

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation is the tracer name (the instrumentation scope).
const instrumentation = "github.com/rancher/ai-agent/internal/telemetry"

// Options configure New.
type Options struct {
	// Registry receives the metrics; nil makes a new one (see Registry).
	Registry *prometheus.Registry
	// Tracer provides the spans; nil traces nothing.
	Tracer trace.TracerProvider
	// CaptureContent records prompts, answers, tool arguments and results
	// on spans (OTEL_GENAI_CAPTURE_CONTENT=true). Off by default.
	CaptureContent bool
	// Now is the clock of the duration metrics; default time.Now.
	Now func() time.Time
}

// Telemetry holds the metrics and the tracer the decorators report to.
type Telemetry struct {
	reg     *prometheus.Registry
	tracer  trace.Tracer
	capture bool
	now     func() time.Time

	turns         *prometheus.CounterVec
	turnDuration  *prometheus.HistogramVec
	modelRequests *prometheus.CounterVec
	modelDuration *prometheus.HistogramVec
	modelTokens   *prometheus.CounterVec
	toolCalls     *prometheus.CounterVec
	toolDuration  *prometheus.HistogramVec
	signins       *prometheus.CounterVec
	refreshes     *prometheus.CounterVec
	oauthEvents   *prometheus.CounterVec
	websockets    prometheus.Gauge
}

// Outcome label values of the model and tool series. Agent names come
// from configuration (bounded by the number of agents); provider names from
// ACTIVE_LLM. The turn series' outcome is the typed agent.TurnOutcome that
// package agent reports for each turn: ok, paused, error, auth_error,
// stopped, disconnected or canceled (agent.TurnOutcomes).
const (
	OutcomeOK           = "ok"
	OutcomeError        = "error"
	OutcomeToolError    = "tool_error"
	OutcomeUnauthorized = "unauthorized"
	OutcomeCanceled     = "canceled"

	// agentUnknown labels a model call made outside any turn.
	agentUnknown = "none"
	// agentSupervisor labels the supervisor's own model calls.
	agentSupervisor = "supervisor"
)

// New registers the metrics (and the Go and process collectors) on
// o.Registry.
func New(o Options) *Telemetry {
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := &Telemetry{reg: o.Registry, tracer: o.Tracer.Tracer(instrumentation), capture: o.CaptureContent, now: o.Now}
	// Model calls take seconds to minutes; tool calls milliseconds to a
	// minute; turns up to several minutes (a sign-in waits for the user).
	slow := []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320}
	fast := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	t.turns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_turns_total", Help: "Chat turns (prompts answered), by agent and outcome.",
	}, []string{"agent", "outcome"})
	t.turnDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ai_agent_turn_duration_seconds", Help: "Duration of a chat turn, from the prompt to </message>.", Buckets: slow,
	}, []string{"agent"})
	t.modelRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_model_requests_total", Help: "Model (LLM) calls, by provider and outcome.",
	}, []string{"provider", "outcome"})
	t.modelDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ai_agent_model_request_duration_seconds", Help: "Duration of a model call, until its stream ends.", Buckets: slow,
	}, []string{"provider"})
	t.modelTokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_model_tokens_total", Help: "Tokens reported by the model, by agent and type (input, output).",
	}, []string{"agent", "type"})
	t.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_tool_calls_total", Help: "MCP tool calls, by agent and outcome.",
	}, []string{"agent", "outcome"})
	t.toolDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ai_agent_tool_call_duration_seconds", Help: "Duration of an MCP tool call.", Buckets: fast,
	}, []string{"agent"})
	t.signins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_oauth_signins_total", Help: "OAuth sign-ins through the chat, by agent and outcome.",
	}, []string{"agent", "outcome"})
	t.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_oauth_refreshes_total", Help: "OAuth token refreshes, by agent and outcome.",
	}, []string{"agent", "outcome"})
	t.oauthEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_agent_oauth_events_total", Help: "Audited OAuth events (signin, refresh, revocation, admin_revocation), by event and result.",
	}, []string{"event", "result"})
	t.websockets = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ai_agent_websocket_connections", Help: "Open chat WebSocket connections.",
	})
	o.Registry.MustRegister(t.turns, t.turnDuration, t.modelRequests, t.modelDuration, t.modelTokens,
		t.toolCalls, t.toolDuration, t.signins, t.refreshes, t.oauthEvents, t.websockets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return t
}

// Registry is where the metrics are registered.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// MetricsHandler serves the registry in the Prometheus exposition format.
// Mount it on its own listener (--metrics-listen), never on the user port.
func (t *Telemetry) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{Registry: t.reg}))
	return mux
}

func (t *Telemetry) since(start time.Time) float64 { return t.now().Sub(start).Seconds() }

// userHash is the pseudonymous user id put on spans: the first 16 hex
// digits of SHA-256 of the Rancher user id.
func userHash(userID string) string {
	if userID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("ai-agent-user\x00" + userID))
	return hex.EncodeToString(sum[:8])
}
