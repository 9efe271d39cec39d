package telemetry

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		endpoint string
		auth     string
		err      string
	}{
		{name: "off without endpoint", env: map[string]string{"OTEL_SERVICE_NAME": "x"}},
		{name: "generic endpoint gets /v1/traces", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, endpoint: "http://collector:4318/v1/traces"},
		{name: "traces endpoint as is", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/otlp/traces"}, endpoint: "https://b/otlp/traces"},
		{name: "langfuse", env: map[string]string{"LANGFUSE_HOST": "https://cloud.langfuse.com/", "LANGFUSE_PUBLIC_KEY": "pk-lf-1", "LANGFUSE_SECRET_KEY": "sk-lf-2"},
			endpoint: "https://cloud.langfuse.com/api/public/otel/v1/traces", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("pk-lf-1:sk-lf-2"))},
		{name: "langfuse needs all three", env: map[string]string{"LANGFUSE_HOST": "https://h", "LANGFUSE_PUBLIC_KEY": "pk"}},
		{name: "OTLP wins over langfuse", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "LANGFUSE_HOST": "https://h", "LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk"}, endpoint: "http://c:4318/v1/traces"},
		{name: "disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{name: "grpc refused", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, err: "only http/protobuf"},
		{name: "bad endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, err: "want an http(s) URL"},
		{name: "bad headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, err: "OTEL_EXPORTER_OTLP_HEADERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(envOf(tc.env))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint != tc.endpoint || c.Headers["Authorization"] != tc.auth {
				t.Fatalf("endpoint %q auth %q", c.Endpoint, c.Headers["Authorization"])
			}
			if strings.Contains(c.Redacted(), "sk-lf") {
				t.Fatal("secret in Redacted")
			}
		})
	}
	c, err := ConfigFromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b,x=y", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod", "OTEL_GENAI_CAPTURE_CONTENT": "true"}))
	if err != nil || c.Headers["api-key"] != "a b" || c.Attributes["deployment.environment"] != "prod" || !c.CaptureContent || c.ServiceName != DefaultServiceName {
		t.Fatalf("%+v %v", c, err)
	}
}
