package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm/llmmock"
	"github.com/rancher/ai-agent/internal/logging/logtest"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
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

// namedMCP is the demo MCP server for clients that address it by a name
// resolving to loopback: go-sdk's DNS-rebinding protection refuses a
// non-loopback Host on a loopback listener (403), which a real server
// reached by its name never sees.
func namedMCP(t *testing.T) *httptest.Server {
	s := demo.NewMCPServer()
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true}))
	t.Cleanup(srv.Close)
	return srv
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
				mcpSrv := namedMCP(t)
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
				writeFile(t, cfg, fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: cluster, namespace: cattle-ai-agent-system}
spec:
  displayName: Cluster
  description: The cluster agent
  systemPrompt: You answer about the cluster.
  mcpURL: %s/mcp
  authenticationType: NONE
`, asTest(t, mcpSrv.URL, "mcp.test")))
				env := map[string]string{
					"RANCHER_URL": asTest(t, rancher.URL, "rancher.test"), "ACTIVE_LLM": provider, "STORAGE": "memory",
					strings.ToUpper(strings.ReplaceAll(provider, "-", "_")) + "_MODEL": "x",
					"LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": asTest(t, mockSrv.URL, "model.test"),
					"OTEL_EXPORTER_OTLP_ENDPOINT": asTest(t, otlp.URL, "otlp.test"),
					"http_proxy":                  p.URL.String(), "HTTPS_PROXY": p.URL.String(), "no_proxy": noProxy,
				}
				addr, out, stop := runServeWith(t, serveDeps{resolve: proxytest.Resolver}, []string{"--config", cfg}, func(k string) string { return env[k] })
				if err := mock.Push([]byte(`{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["It is 3."]}}`)); err != nil {
					t.Fatal(err)
				}
				c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("serve output:\n%s", out.String())
					}
				})
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

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hits counts the requests of a test server.
func hits(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// TestProxyTurnWithToolCallAndRefresh runs serve behind a recording proxy
// (HTTP_PROXY) with NO_PROXY=".svc.test" for the in-cluster targets, and
// two agents: gh, an OAUTH2 agent whose authorization server (auth.test)
// and MCP server (mcp.test) are outside, and cluster, an MCP server inside
// (cluster-mcp.svc.test), as is Rancher (rancher.svc.test). The model is
// OpenAI's client against the mock at model.test. After a sign-in turn the
// access token expires; the next turn delegates to gh (a tool call that
// refreshes the token) and to cluster (a tool call). The proxy forwards
// that turn's model calls, the refresh and gh's MCP calls, and nothing for
// a .svc.test host, which the agent reached directly; signing out sends
// the revocations through it too. The proxy's record of the turn and of
// the sign-out (method, host, path: never a query or a body) is logged.
func TestProxyTurnWithToolCallAndRefresh(t *testing.T) {
	p := proxytest.Start(t, nil)
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Host: "auth.test", Scopes: []string{"mcp:read"}, AccessTokenTTL: 2 * time.Second, RotateRefreshTokens: true})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{Host: "mcp.test", RequiredScopes: []string{"mcp:read"}})
	var clusterHits, rancherHits atomic.Int64
	s := demo.NewMCPServer()
	clusterMCP := httptest.NewServer(hits(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true}), &clusterHits))
	t.Cleanup(clusterMCP.Close)
	rancher := httptest.NewServer(hits(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("R_SESS"); err != nil || c.Value != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"u-alice"}]}`)
	}), &rancherHits))
	t.Cleanup(rancher.Close)
	mock := llmmock.New()
	mockSrv := httptest.NewServer(mock)
	t.Cleanup(mockSrv.Close)

	cfg := ghConfig(t, pm.URL, asTest(t, clusterMCP.URL, "cluster-mcp.svc.test")+"/mcp")
	addr := repFreeAddr(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{
		"RANCHER_URL": asTest(t, rancher.URL, "rancher.svc.test"), "ACTIVE_LLM": "openai", "OPENAI_MODEL": "x",
		"LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": asTest(t, mockSrv.URL, "model.test"), "STORAGE": "memory",
		"OAUTH_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		"OAUTH_REDIRECT_URI":   "http://" + addr + "/v1/api/oauth2/callback",
		"HTTP_PROXY":           p.URL.String(), "https_proxy": p.URL.String(), "NO_PROXY": "127.0.0.1,localhost,.svc.test",
	}
	clock := &testClock{}
	_, out, stop := runServeWith(t, serveDeps{now: clock.Now, resolve: proxytest.Resolver}, []string{"--config", cfg, "--listen", addr}, func(k string) string { return env[k] })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve output:\n%s\nproxy log:\n%s", out.String(), strings.Join(p.Log(), "\n"))
		}
	})
	pushAll := func(bodies ...string) {
		t.Helper()
		for _, b := range bodies {
			if err := mock.Push([]byte(b)); err != nil {
				t.Fatal(err)
			}
		}
	}

	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
	if st := agentStatus(c.Metadata()); st["gh"]["status"] != "active" || st["cluster"]["status"] != "active" {
		t.Fatalf("agents %v", st)
	}
	// Turn 1: the supervisor delegates to gh, which needs a sign-in.
	pushAll(`{"mcpTool":{"name":"gh","args":{"query":"whoami"}}}`,
		`{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["You are alice."]}}`,
		`{"text":{"chunks":["gh says: alice."]}}`)
	c.Send(`{"prompt":"who am I?","context":{}}`)
	frames := c.UntilPrefix("<authentication>")
	var auth struct{ URL string }
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(frames[len(frames)-1], "<authentication>"), "</authentication>")), &auth); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := as.Approve(ctx, auth.URL, "alice")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb.String(), nil)
	req.AddCookie(&http.Cookie{Name: "R_SESS", Value: "tok"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %v %v", resp, err)
	}
	resp.Body.Close()
	c.Send("authentication_confirmed")
	if all := strings.Join(c.UntilPrefix("</message>"), ""); !strings.Contains(all, "gh says: alice.") {
		t.Fatalf("turn 1: %q", all)
	}
	signIn := p.Log()
	for _, want := range []string{"GET http://mcp.test:", "GET http://auth.test:", "POST http://auth.test:"} {
		if !slices.ContainsFunc(signIn, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("sign-in: the proxy did not forward %q", want)
		}
	}

	// Turn 2, past the access token's expiry: gh's tool call refreshes
	// it; cluster's tool call goes to the in-cluster server.
	clock.Advance(2500 * time.Millisecond)
	refreshes, clusterBefore, modelBefore, ghCalls := as.TokenRequests().RefreshToken, clusterHits.Load(), len(mock.Calls()), len(pm.Calls())
	pushAll(`{"mcpTool":{"name":"gh","args":{"query":"echo hi"}}}`,
		`{"mcpTool":{"name":"echo","args":{"text":"hi"}},"text":{"chunks":["gh echoed hi."]}}`,
		`{"mcpTool":{"name":"cluster","args":{"query":"1+2"}}}`,
		`{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["It is 3."]}}`,
		`{"text":{"chunks":["Both done."]}}`)
	if all := strings.Join(c.Ask(`{"prompt":"echo hi, then add 1 and 2","context":{}}`), ""); !strings.Contains(all, "Both done.") || strings.Contains(all, "<error>") {
		t.Fatalf("turn 2: %q", all)
	}
	turn := p.Log()[len(signIn):]
	t.Logf("proxy log of turn 2 (HTTP_PROXY set, NO_PROXY=%s):\n%s", env["NO_PROXY"], strings.Join(turn, "\n"))
	if n := as.TokenRequests().RefreshToken - refreshes; n != 1 {
		t.Errorf("refresh token requests in turn 2 = %d, want 1", n)
	}
	// Five scripted answers, and whatever else the agent asks the model
	// (a chat title): every call went through the proxy.
	modelCalls := len(mock.Calls()) - modelBefore
	if modelCalls < 5 {
		t.Errorf("model calls in turn 2 = %d, want at least 5", modelCalls)
	}
	if calls := pm.Calls(); len(calls) != ghCalls+1 || calls[len(calls)-1] != "alice" {
		t.Errorf("gh's tool calls %q, want one more by alice", calls)
	}
	if clusterHits.Load() == clusterBefore {
		t.Error("the in-cluster MCP server got no request in turn 2")
	}
	count := func(prefix string) int {
		n := 0
		for _, l := range turn {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	modelURL, _ := url.Parse(env["LLM_MOCK_URL"])
	tokenURL, _ := url.Parse(as.TokenEndpoint)
	mcpURL, _ := url.Parse(pm.URL)
	if n := count("POST http://" + modelURL.Host + "/"); n != modelCalls {
		t.Errorf("the proxy forwarded %d model calls, the model got %d", n, modelCalls)
	}
	if n := count("POST http://" + tokenURL.Host + tokenURL.Path); n != 1 {
		t.Errorf("the proxy forwarded %d token requests, want 1 (the refresh)", n)
	}
	if n := count("POST http://" + mcpURL.Host + mcpURL.Path); n == 0 {
		t.Error("the proxy forwarded no MCP request to gh's server")
	}
	if l := p.Log(); slices.ContainsFunc(l, func(l string) bool { return strings.Contains(l, ".svc.test") }) {
		t.Errorf("a NO_PROXY host went through the proxy: %q", l)
	}
	if rancherHits.Load() == 0 {
		t.Error("Rancher (in NO_PROXY) was never asked")
	}

	// Signing out revokes the tokens at the authorization server, through
	// the proxy too (RFC 7009).
	before := len(p.Log())
	sreq, _ := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+addr+"/v1/api/oauth2/connections/gh", nil)
	sreq.AddCookie(&http.Cookie{Name: "R_SESS", Value: "tok"})
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	sresp.Body.Close()
	revURL, _ := url.Parse(as.RevocationEndpoint)
	signOut := p.Log()[before:]
	t.Logf("proxy log of the sign-out:\n%s", strings.Join(signOut, "\n"))
	if sresp.StatusCode != http.StatusOK || !slices.Contains(signOut, "POST http://"+revURL.Host+revURL.Path) {
		t.Errorf("sign-out = %d; the proxy did not forward the revocation to %s", sresp.StatusCode, revURL.Host+revURL.Path)
	}
	for _, l := range p.Log() {
		if strings.ContainsAny(l, "?#") {
			t.Errorf("proxy record with a query: %q", l)
		}
	}
	c.WS.Close(websocket.StatusNormalClosure, "")
	stop()
}
