//go:build proxywip

// Work in progress (see the branch report): every subtest fails at the
// first WebSocket read (the chat closes at once); not yet diagnosed.

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm/llmmock"
	"github.com/rancher/ai-agent/internal/logging/logtest"
	"github.com/rancher/ai-agent/internal/outbound/proxytest"
)

// runServeWith is runServeAt with serve's injected dependencies.
func runServeWith(t testing.TB, deps serveDeps, args []string, getenv func(string) string) (string, *logtest.Buffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &logtest.Buffer{}
	done := make(chan error, 1)
	args = append([]string{"--metrics-listen", "", "--listen", "127.0.0.1:0"}, args...)
	go func() { done <- serveWith(ctx, deps, args, getenv, out, out) }()
	addr := waitFor(t, out, regexp.MustCompile(`"msg":"ai-agent listening","addr":"([0-9.:]+)"`))
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return addr, out, stop
}

// asTest rewrites a loopback URL's host to name (resolved to 127.0.0.1 by
// proxytest.Resolver), so that Go sends it through a proxy.
func asTest(t *testing.T, raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = name + ":" + u.Port()
	return u.String()
}

// TestProxyCarriesEveryClient runs serve with HTTP_PROXY and HTTPS_PROXY
// pointing at a recording proxy, the model (each provider's real client in
// mock mode), the MCP server, Rancher and the OTLP collector addressed by
// names that resolve to loopback, and one turn with a tool call: the proxy
// forwards every one of those requests. With the MCP server's name in
// NO_PROXY the same turn reaches it directly.
func TestProxyCarriesEveryClient(t *testing.T) {
	for _, provider := range []string{"ollama", "openai", "generic-openai", "gemini", "bedrock"} {
		for _, noProxy := range []string{"", "mcp.test"} {
			t.Run(provider+"/no_proxy="+noProxy, func(t *testing.T) {
				p := proxytest.Start(t, nil)
				mcpSrv := httptest.NewServer(demo.Handler())
				t.Cleanup(mcpSrv.Close)
				mock := llmmock.New()
				mockSrv := httptest.NewServer(mock)
				t.Cleanup(mockSrv.Close)
				rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprint(w, `{"data":[{"id":"u-1"}]}`)
				}))
				t.Cleanup(rancher.Close)
				otlp := startOTLP(t)
				cfg := filepath.Join(t.TempDir(), "agents.yaml")
				os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: cluster, namespace: cattle-ai-agent-system}
spec:
  displayName: Cluster
  description: The cluster agent
  systemPrompt: You answer about the cluster.
  mcpURL: %s/mcp
  authenticationType: NONE
`, asTest(t, mcpSrv.URL, "mcp.test"))), 0o600)
				env := map[string]string{
					"RANCHER_URL": asTest(t, rancher.URL, "rancher.test"), "ACTIVE_LLM": provider, "STORAGE": "memory",
					strings.ToUpper(strings.ReplaceAll(provider, "-", "_")) + "_MODEL": "x",
					"LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": asTest(t, mockSrv.URL, "model.test"),
					"OTEL_EXPORTER_OTLP_ENDPOINT": asTest(t, otlp.URL, "otlp.test"),
					"http_proxy":                  p.URL.String(), "HTTPS_PROXY": p.URL.String(), "no_proxy": noProxy,
				}
				addr, _, stop := runServeWith(t, serveDeps{resolve: proxytest.Resolver}, []string{"--config", cfg}, func(k string) string { return env[k] })
				if err := mock.Push([]byte(`{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["It is 3."]}}`)); err != nil {
					t.Fatal(err)
				}
				c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
				c.Read()
				if frames := strings.Join(c.Ask(`{"prompt":"1+2?","context":{}}`), ""); !strings.Contains(frames, "It is 3.") {
					t.Fatalf("turn: %q", frames)
				}
				if calls := mock.Calls(); len(calls) != 2 || !strings.Contains(string(calls[1].Body), toolResult) {
					t.Fatalf("model calls %d, want 2 with the tool result", len(calls))
				}
				c.WS.Close(websocket.StatusNormalClosure, "")
				stop() // flushes the spans
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := p.WaitFor(ctx, "POST http://otlp.test:"); err != nil {
					t.Fatal(err)
				}
				log := p.Log()
				t.Logf("proxy log:\n%s", strings.Join(log, "\n"))
				for _, want := range []string{"GET http://rancher.test:", "POST http://model.test:"} {
					if !slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, want) }) {
						t.Errorf("the proxy did not forward %q", want)
					}
				}
				sawMCP := slices.ContainsFunc(log, func(l string) bool { return strings.Contains(l, "mcp.test") })
				if noProxy == "" && !sawMCP {
					t.Error("the proxy did not forward the MCP session")
				}
				if noProxy != "" && sawMCP {
					t.Error("an MCP request in NO_PROXY went through the proxy")
				}
			})
		}
	}
}
