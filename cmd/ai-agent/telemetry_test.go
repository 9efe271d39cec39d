package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/store"
)

// otlpReceiver is an OTLP/HTTP traces endpoint that keeps every request
// body as received and the spans decoded from it.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	raw   [][]byte
	spans []*tracepb.Span
	attrs []map[string]string // resource attributes, one per span
}

func startOTLP(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
			http.NotFound(w, req)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("otlp: %v", err)
			return
		}
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &msg); err != nil {
			t.Errorf("otlp: decode: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.raw = append(r.raw, body, []byte(req.Header.Get("Authorization")))
		for _, rs := range msg.ResourceSpans {
			res := map[string]string{}
			for _, kv := range rs.GetResource().GetAttributes() {
				res[kv.Key] = kv.Value.GetStringValue()
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					r.spans = append(r.spans, sp)
					r.attrs = append(r.attrs, res)
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) snapshot() ([]*tracepb.Span, []map[string]string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans), slices.Clone(r.attrs), bytes.Join(r.raw, []byte{0})
}

func spanAttr(sp *tracepb.Span, key string) string {
	for _, kv := range sp.Attributes {
		if kv.Key != key {
			continue
		}
		if _, ok := kv.Value.Value.(*commonpb.AnyValue_IntValue); ok {
			return fmt.Sprint(kv.Value.GetIntValue())
		}
		return kv.Value.GetStringValue()
	}
	return ""
}

// spanTree draws the spans of one trace as an indented tree, children in
// start order: "name [key=value ...]".
func spanTree(spans []*tracepb.Span, root *tracepb.Span, keys ...string) string {
	children := map[string][]*tracepb.Span{}
	for _, sp := range spans {
		if bytes.Equal(sp.TraceId, root.TraceId) {
			children[hex.EncodeToString(sp.ParentSpanId)] = append(children[hex.EncodeToString(sp.ParentSpanId)], sp)
		}
	}
	var b strings.Builder
	var walk func(sp *tracepb.Span, depth int)
	walk = func(sp *tracepb.Span, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + sp.Name)
		var parts []string
		for _, k := range keys {
			if v := spanAttr(sp, k); v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		if len(parts) > 0 {
			b.WriteString(" [" + strings.Join(parts, " ") + "]")
		}
		b.WriteString("\n")
		kids := children[hex.EncodeToString(sp.SpanId)]
		sort.Slice(kids, func(i, j int) bool { return kids[i].StartTimeUnixNano < kids[j].StartTimeUnixNano })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

func push(t *testing.T, addr string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		resp, err := http.Post("http://"+addr+"/v1/control/push", "application/json", strings.NewReader(b))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("push %s: %v %v", b, resp, err)
		}
		resp.Body.Close()
	}
}

// TestTracesOfASupervisedTurn runs `serve` with two agents (one behind
// OAuth) and a real OTLP/HTTP receiver: after a sign-in turn, a supervised
// turn delegates to the OAuth agent, whose tool call refreshes the token.
// The exported span tree nests the child's model and tool spans under the
// supervisor's `execute_tool gh`, and no token, key or prompt text is in
// any exported byte.
func TestTracesOfASupervisedTurn(t *testing.T) {
	otlp := startOTLP(t)
	// A 2s access token: a use 2.5s (on the server's clock) after it was
	// obtained refreshes it.
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}, AccessTokenTTL: 2 * time.Second, RotateRefreshTokens: true})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}})
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	const rancherToken = "rancher-session-token-7f3a9c"
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"u-alice"}]}`)
	}))
	defer rancher.Close()
	dir := t.TempDir()
	cfg := ghConfig(t, pm.URL, mcpSrv.URL+"/mcp")
	keyBytes := make([]byte, 32)
	rand.Read(keyBytes)
	key := base64.StdEncoding.EncodeToString(keyBytes)
	dbPath := filepath.Join(dir, "agent.db")
	env := map[string]string{
		"RANCHER_URL": rancher.URL, "RANCHER_API_TOKEN": rancherToken, "ACTIVE_LLM": "scripted",
		"STORAGE": "sqlite", "SQLITE_PATH": dbPath, "OAUTH_ENCRYPTION_KEY": key,
		"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL, "OTEL_SERVICE_NAME": "ai-agent-e2e",
	}
	clock := &testClock{}
	addr, out, stop := runServeAt(t, clock.Now, []string{"--config", cfg}, func(k string) string { return env[k] })

	c := dialWS(t, "ws://"+addr+"/v1/ws/messages/traced", "")
	if f := c.Read(); !strings.Contains(f, `{"name":"gh","status":"active"}`) {
		t.Fatalf("metadata %s", f)
	}
	// Turn 1: the supervisor delegates to gh, which needs a sign-in.
	push(t, addr, `{"mcpTool":{"name":"gh","args":{"query":"whoami"}}}`,
		`{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["You are alice."]}}`,
		`{"text":{"chunks":["gh says: alice."]}}`)
	if err := c.WS.Write(context.Background(), websocket.MessageText, []byte(`{"prompt":"first question","context":{}}`)); err != nil {
		t.Fatal(err)
	}
	frames := c.UntilPrefix("<authentication>")
	var auth struct{ URL string }
	json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(frames[len(frames)-1], "<authentication>"), "</authentication>")), &auth)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := as.Approve(ctx, auth.URL, "alice")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	// The redirect URI is Rancher's (RANCHER_URL's origin)/<proxy prefix>/...;
	// Rancher's proxy would forward it to the agent, which serves the prefix.
	cb.Scheme, cb.Host = "http", addr
	resp, err := http.Get(cb.String())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("callback: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := c.WS.Write(context.Background(), websocket.MessageText, []byte("authentication_confirmed")); err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(c.UntilPrefix("</message>"), ""); !strings.Contains(all, "gh says: alice.") {
		t.Fatalf("turn 1: %q", all)
	}
	tokens := vaultTokens(t, dbPath, key, oauth.NewTokenKey("u-alice", "gh", as.Issuer))
	refreshesBefore := as.TokenRequests().RefreshToken

	// Past the token's expiry.
	clock.Advance(2500 * time.Millisecond)

	// Turn 2: delegation, tool call, silent refresh.
	const secretPrompt = "which user am I, confidentially?"
	push(t, addr, `{"mcpTool":{"name":"gh","args":{"query":"whoami-confidential-query"}}}`,
		`{"mcpTool":{"name":"echo","args":{"text":"tool-args-confidential"}},"text":{"chunks":["You are alice again."]}}`,
		`{"text":{"chunks":["gh says: alice again."]}}`)
	frames = c.Ask(fmt.Sprintf(`{"prompt":%q,"context":{}}`, secretPrompt))
	if all := strings.Join(frames, ""); !strings.Contains(all, "gh says: alice again.") || strings.Contains(all, "<error>") {
		t.Fatalf("turn 2: %q", frames)
	}
	if n := as.TokenRequests().RefreshToken - refreshesBefore; n != 1 {
		t.Fatalf("refresh token requests in turn 2 = %d, want 1", n)
	}
	tokens = append(tokens, vaultTokens(t, dbPath, key, oauth.NewTokenKey("u-alice", "gh", as.Issuer))...)
	maddr := waitFor(t, out, regexp.MustCompile(`"msg":"metrics listening","addr":"([0-9.:]+)"`))
	mresp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`ai_agent_oauth_signins_total{agent="gh",outcome="ok"} 1`, `ai_agent_oauth_refreshes_total{agent="gh",outcome="ok"}`,
		`ai_agent_turns_total{agent="supervisor",outcome="ok"} 2`, `ai_agent_tool_calls_total{agent="gh",outcome="ok"} 2`,
		`ai_agent_model_tokens_total{agent="gh",type="input"}`, `ai_agent_model_tokens_total{agent="supervisor",type="output"}`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("no %q in /metrics", want)
		}
	}
	t.Logf("metrics after the supervised turns:\n%s", grepLines(string(metrics), "ai_agent_"))
	c.WS.Close(websocket.StatusNormalClosure, "")
	stop() // flushes the batch of spans

	spans, res, raw := otlp.snapshot()
	if len(spans) == 0 {
		t.Fatalf("no spans exported; log:\n%s", out.String())
	}
	if res[0]["service.name"] != "ai-agent-e2e" {
		t.Fatalf("resource %v", res[0])
	}
	var turns []*tracepb.Span
	for _, sp := range spans {
		if sp.Name == "invoke_agent supervisor" {
			turns = append(turns, sp)
		}
	}
	if len(turns) != 2 {
		t.Fatalf("%d turn spans, want 2", len(turns))
	}
	sort.Slice(turns, func(i, j int) bool { return turns[i].StartTimeUnixNano < turns[j].StartTimeUnixNano })
	keys := []string{"gen_ai.provider.name", "gen_ai.request.model", "gen_ai.tool.name", "ai_agent.outcome", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"}
	tree1 := spanTree(spans, turns[0], "gen_ai.tool.name", "ai_agent.outcome")
	tree2 := spanTree(spans, turns[1], keys...)
	t.Logf("turn 1:\n%s\nturn 2:\n%s", tree1, tree2)
	shape := func(tree string) string {
		return regexp.MustCompile(` \[[^\]]*\]`).ReplaceAllString(tree, "")
	}
	// The lazy sign-in runs before <processing-subagent-start>: it is the
	// turn's child, not the delegation's.
	want1 := `invoke_agent supervisor
  chat scripted
  oauth.signin
  execute_tool gh
    chat scripted
    execute_tool whoami
    chat scripted
  chat scripted
`
	// On a slow machine turn 1 may outlive its fresh token and refresh too.
	if got := regexp.MustCompile(`(?m)^ *oauth\.refresh\n`).ReplaceAllString(shape(tree1), ""); got != want1 {
		t.Errorf("turn 1 tree:\n%s\nwant:\n%s", got, want1)
	}
	want2 := `invoke_agent supervisor
  chat scripted
  execute_tool gh
    chat scripted
    execute_tool echo
      oauth.refresh
    chat scripted
  chat scripted
`
	if got := shape(tree2); got != want2 {
		t.Errorf("turn 2 tree:\n%s\nwant:\n%s", got, want2)
	}
	for _, want := range []string{"oauth.signin [ai_agent.outcome=ok]", "oauth.refresh [ai_agent.outcome=ok]", "execute_tool echo [gen_ai.tool.name=echo ai_agent.outcome=ok]"} {
		if !strings.Contains(tree1+tree2, want) {
			t.Errorf("no %q in the trees", want)
		}
	}
	for _, sp := range spans {
		switch {
		case strings.HasPrefix(sp.Name, "chat "):
			if spanAttr(sp, "gen_ai.operation.name") != "chat" || spanAttr(sp, "gen_ai.provider.name") != "scripted" ||
				spanAttr(sp, "gen_ai.request.model") != "scripted" || spanAttr(sp, "gen_ai.usage.input_tokens") == "0" ||
				sp.Kind != tracepb.Span_SPAN_KIND_CLIENT {
				t.Errorf("model span %s: %v", sp.Name, sp.Attributes)
			}
		case strings.HasPrefix(sp.Name, "invoke_agent "):
			if spanAttr(sp, "gen_ai.conversation.id") != "traced" || len(spanAttr(sp, "enduser.pseudo.id")) != 16 ||
				strings.Contains(spanAttr(sp, "enduser.pseudo.id"), "alice") {
				t.Errorf("turn span: %v", sp.Attributes)
			}
		case sp.Name == "oauth.refresh" || sp.Name == "oauth.signin":
			if spanAttr(sp, "ai_agent.outcome") != "ok" || spanAttr(sp, "gen_ai.agent.name") != "gh" {
				t.Errorf("%s: %v", sp.Name, sp.Attributes)
			}
		}
	}
	// Nothing secret in any exported byte (bodies and headers).
	secrets := append(tokens, rancherToken, key, secretPrompt, "whoami-confidential-query", "tool-args-confidential", "You are alice again.")
	for _, s := range secrets {
		if s != "" && bytes.Contains(raw, []byte(s)) {
			t.Errorf("exported spans contain a secret or content: %.12s…", s)
		}
	}
}

// grepLines keeps the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// storedTokens reads the tokens of k from the SQLite file of a running
// server, sealed with key (oauth.ErrNoToken when it holds none).
func storedTokens(t *testing.T, ctx context.Context, path, key string, k oauth.TokenKey) (oauth.TokenSet, error) {
	t.Helper()
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, _ := oauth.ParseKey(key)
	sealer, err := oauth.NewSealer(raw)
	if err != nil {
		t.Fatal(err)
	}
	return oauth.NewVault(st, sealer, nil).Get(ctx, k)
}

// vaultTokens reads the access and refresh token of k from the SQLite file
// of a running server.
func vaultTokens(t *testing.T, path, key string, k oauth.TokenKey) []string {
	t.Helper()
	ts, err := storedTokens(t, context.Background(), path, key, k)
	if err != nil || ts.AccessToken == "" || ts.RefreshToken == "" {
		t.Fatalf("vault: %v (access %t, refresh %t)", err, ts.AccessToken != "", ts.RefreshToken != "")
	}
	return []string{ts.AccessToken, ts.RefreshToken}
}

// TestMetricsAfterATurn scrapes --metrics-listen after a turn with a tool
// call: the series of the issue are there with bounded labels, the Go and
// process collectors too, and the user port (also behind the proxy prefix)
// does not serve them.
func TestMetricsAfterATurn(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"u-bob"}]}`)
	}))
	defer rancher.Close()
	cfg := filepath.Join(t.TempDir(), "agents.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: cluster}\nspec:\n  displayName: C\n  mcpURL: %s/mcp\n", mcpSrv.URL)), 0o600)
	env := map[string]string{"RANCHER_URL": rancher.URL, "RANCHER_API_TOKEN": "tok-metrics", "ACTIVE_LLM": "scripted", "STORAGE": "memory"}
	addr, out, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return env[k] })
	maddr := waitFor(t, out, regexp.MustCompile(`"msg":"metrics listening","addr":"([0-9.:]+)"`))

	push(t, addr, `{"mcpTool":{"name":"add","args":{"a":2,"b":3}},"text":{"chunks":["Five."]}}`)
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages/metrics-chat", "")
	c.Read()
	if frames := c.Ask(`{"prompt":"2+3?","context":{}}`); strings.Join(frames, "|") != "<message>|Five.|</message>" {
		t.Fatalf("frames %q", frames)
	}
	scrape := func() string {
		resp, err := http.Get("http://" + maddr + "/metrics")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("scrape: %v %v", resp, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	body := scrape()
	for _, want := range []string{
		`ai_agent_turns_total{agent="cluster",outcome="ok"} 1`,
		`ai_agent_turn_duration_seconds_count{agent="cluster"} 1`,
		`ai_agent_model_requests_total{outcome="ok",provider="scripted"} 2`,
		`ai_agent_model_request_duration_seconds_count{provider="scripted"} 2`,
		`ai_agent_model_tokens_total{agent="cluster",type="input"}`,
		`ai_agent_model_tokens_total{agent="cluster",type="output"}`,
		`ai_agent_tool_calls_total{agent="cluster",outcome="ok"} 1`,
		`ai_agent_tool_call_duration_seconds_count{agent="cluster"} 1`,
		`ai_agent_websocket_connections 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics", want)
		}
	}
	if m := regexp.MustCompile(`ai_agent_model_tokens_total\{agent="cluster",type="input"\} (\d+)`).FindStringSubmatch(body); m == nil || m[1] == "0" {
		t.Errorf("input tokens: %v", m)
	}
	for _, leak := range []string{"u-bob", "metrics-chat", "tok-metrics", `"a":2`} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics has %q", leak)
		}
	}
	c.WS.Close(websocket.StatusNormalClosure, "")
	// A bounded wait on a condition: the server notices the close when its
	// read fails, and the gauge is the only sign of it that `serve` shows.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(scrape(), "ai_agent_websocket_connections 0"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("websocket gauge not back to 0")
		}
	}
	for _, path := range []string{"/metrics", "/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy/metrics"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(b), "ai_agent_") {
			t.Errorf("user port serves %s: %d", path, resp.StatusCode)
		}
	}
	stop()
}
