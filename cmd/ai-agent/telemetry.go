package main

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/telemetry"
)

// startTelemetry builds the metrics registry and the tracer provider from
// the environment and serves /metrics on metricsAddr (empty: no listener).
// stop flushes the spans and closes the listener.
func startTelemetry(ctx context.Context, cfg telemetry.ExportConfig, metricsAddr string, log *slog.Logger) (*telemetry.Telemetry, func(), error) {
	tp, err := telemetry.NewTracerProvider(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	o := telemetry.Options{Registry: prometheus.NewRegistry(), CaptureContent: cfg.CaptureContent}
	if tp != nil {
		o.Tracer = tp
		log.Info("tracing on", "endpoint", cfg.Redacted(), "service", cfg.ServiceName, "langfuse", cfg.Langfuse, "captureContent", cfg.CaptureContent)
	}
	tel := telemetry.New(o)
	var hs *http.Server
	errc := make(chan error, 1)
	if metricsAddr != "" {
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			if tp != nil {
				_ = tp.Shutdown(ctx)
			}
			return nil, nil, listenError("--metrics-listen", metricsAddr, err)
		}
		hs = &http.Server{Handler: tel.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- hs.Serve(ln) }()
		log.Info("metrics listening", "addr", ln.Addr().String())
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if hs != nil {
			_ = hs.Shutdown(sctx)
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("metrics server", "error", err)
			}
		}
		if tp != nil {
			if err := tp.Shutdown(sctx); err != nil {
				log.Warn("flushing traces failed", "error", err)
			}
		}
	}
	return tel, stop, nil
}

// observedModel wraps the model for telemetry, naming its provider and
// default model (configured: the provider's model setting, "" when none).
func observedModel(tel *telemetry.Telemetry, m llm.Model, activeLLM, configured string) llm.Model {
	if tel == nil {
		return m
	}
	name := cmp.Or(configured, activeLLM)
	if activeLLM == "scripted" || activeLLM == "" {
		name = "scripted"
	}
	return tel.Model(m, telemetry.ProviderName(activeLLM), name)
}
