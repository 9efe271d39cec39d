package telemetry

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "rancher-ai-agent"

// ExportConfig is where spans go, read from the environment by ConfigFromEnv.
type ExportConfig struct {
	// Endpoint is the full OTLP/HTTP traces URL; empty turns tracing off.
	Endpoint string
	// Headers are sent with every export (Langfuse's Basic authorization,
	// OTEL_EXPORTER_OTLP_HEADERS). Never logged.
	Headers map[string]string
	// Timeout bounds one export.
	Timeout time.Duration
	// ServiceName is service.name; Attributes are the other resource
	// attributes (OTEL_RESOURCE_ATTRIBUTES).
	ServiceName string
	Attributes  map[string]string
	// CaptureContent is OTEL_GENAI_CAPTURE_CONTENT.
	CaptureContent bool
	// Langfuse is set when the endpoint came from LANGFUSE_* variables.
	Langfuse bool
	// Proxy chooses the proxy of each export (outbound.Network.ProxyFunc,
	// set by the wiring); nil: direct, the environment is not read again.
	Proxy func(*http.Request) (*url.URL, error)
}

// ConfigFromEnv reads the standard OpenTelemetry exporter variables
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT plus
// /v1/traces; OTEL_EXPORTER_OTLP[_TRACES]_HEADERS, _TIMEOUT, _PROTOCOL;
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED) and, when
// no OTLP endpoint is set, the Python agent's LANGFUSE_HOST,
// LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (all three): Langfuse's OTLP
// endpoint <host>/api/public/otel with Basic authentication.
func ConfigFromEnv(getenv func(string) string) (ExportConfig, error) {
	c := ExportConfig{ServiceName: strings.TrimSpace(getenv("OTEL_SERVICE_NAME")), Timeout: 10 * time.Second}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	var err error
	if c.CaptureContent, err = boolVar(getenv, "OTEL_GENAI_CAPTURE_CONTENT"); err != nil {
		return c, err
	}
	disabled, err := boolVar(getenv, "OTEL_SDK_DISABLED")
	if err != nil || disabled {
		return c, err
	}
	if p := first(getenv, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
		return c, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: only http/protobuf is supported", p)
	}
	if c.Attributes, err = keyValues(getenv("OTEL_RESOURCE_ATTRIBUTES")); err != nil {
		return c, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	headers, err := keyValues(first(getenv, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"))
	if err != nil {
		return c, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %w", err)
	}
	c.Headers = headers
	if v := first(getenv, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return c, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT=%q: want milliseconds", v)
		}
		c.Timeout = time.Duration(ms) * time.Millisecond
	}
	switch {
	case strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != "":
		c.Endpoint = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	case strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "":
		c.Endpoint = strings.TrimRight(strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), "/") + "/v1/traces"
	case getenv("LANGFUSE_HOST") != "" && getenv("LANGFUSE_PUBLIC_KEY") != "" && getenv("LANGFUSE_SECRET_KEY") != "":
		c.Endpoint = strings.TrimRight(strings.TrimSpace(getenv("LANGFUSE_HOST")), "/") + "/api/public/otel/v1/traces"
		if c.Headers == nil {
			c.Headers = map[string]string{}
		}
		c.Headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(getenv("LANGFUSE_PUBLIC_KEY")+":"+getenv("LANGFUSE_SECRET_KEY")))
		c.Langfuse = true
	default:
		return c, nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("OTLP traces endpoint: want an http(s) URL with a host")
	}
	return c, nil
}

// NewTracerProvider returns the provider that exports to c.Endpoint in
// batches, or nil when c.Endpoint is empty. Shut it down to flush.
func NewTracerProvider(ctx context.Context, c ExportConfig) (*sdktrace.TracerProvider, error) {
	if c.Endpoint == "" {
		return nil, nil
	}
	proxy := c.Proxy
	if proxy == nil {
		proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(c.Endpoint), otlptracehttp.WithTimeout(c.Timeout), otlptracehttp.WithProxy(proxy)}
	if len(c.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(c.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", c.ServiceName)}
	for k, v := range c.Attributes {
		if k != "service.name" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
	), nil
}

// Redacted describes c for logs: the endpoint without its query, never the
// headers.
func (c ExportConfig) Redacted() string {
	if c.Endpoint == "" {
		return "off"
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return "invalid"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// keyValues parses the W3C-baggage-like k=v,k=v lists of OTEL_* variables
// (values percent-decoded).
func keyValues(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d: want key=value", len(out)+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("key %q: bad percent-encoding", k)
		}
		out[k] = dv
	}
	return out, nil
}

func first(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

func boolVar(getenv func(string) string, name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(getenv(name))) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want true or false", name, getenv(name))
}
