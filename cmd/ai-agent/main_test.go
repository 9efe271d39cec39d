package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// waitFor waits until re matches out (re-checked on each write to it) and
// returns the first group.
func waitFor(t testing.TB, out *logtest.Buffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		text, grew := out.Next()
		if m := re.FindStringSubmatch(text); m != nil {
			return m[1]
		}
		select {
		case <-grew:
		case <-deadline.C:
			t.Fatalf("no match for %s in output:\n%s", re, out.String())
			return ""
		}
	}
}

// dialWS opens a chat WebSocket at url as a browser with cookie ("" for
// none).
func dialWS(t testing.TB, url, cookie string) *chattest.Client {
	t.Helper()
	return chattest.Dial(t, url, chattest.Cookie(cookie))
}

func TestDemoRunsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr logtest.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--listen", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr)
	}()
	addr := waitFor(t, &stdout, regexp.MustCompile(`Open http://([0-9.:]+)/`))

	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "chat.js") {
		t.Fatalf("page: %s", page)
	}

	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "")
	if f := c.Read(); !strings.HasPrefix(f, `<chat-metadata>{"chatId":`) ||
		!strings.Contains(f, `"agents":[{"name":"cluster","status":"active"},{"name":"notes","status":"active"}]`) {
		t.Fatalf("metadata: %s", f)
	}
	frames := c.Ask(`{"prompt":"list the pods in default","context":{}}`)
	all := strings.Join(frames, "")
	if !strings.Contains(all, `<mcp-response>[{"cluster":"local","kind":"Pod","name":["web-7d4b9c-abcde","web-7d4b9c-fghij","db-0"]`) ||
		!strings.Contains(all, "CrashLoopBackOff") {
		t.Fatalf("frames: %q", frames)
	}
	frames = c.Ask(`{"prompt":"show me the logs of db-0","context":{}}`)
	if all := strings.Join(frames, ""); !strings.Contains(all, "permission denied") {
		t.Fatalf("frames: %q", frames)
	}
	demoSignIn(t, c, "alice")
	frames = c.Ask(`{"prompt":"remember to check db-0","context":{}}`)
	if all := strings.Join(frames, ""); !strings.Contains(all, `Kept the note "to check db-0" for alice.`) {
		t.Fatalf("frames: %q", frames)
	}
	frames = c.Ask(`{"prompt":"who am I?","context":{}}`)
	if all := strings.Join(frames, ""); !strings.Contains(all, "signed in to the notes server as alice") {
		t.Fatalf("frames: %q", frames)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop")
	}
}

func TestServeWithConfigFile(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("R_SESS"); err != nil || c.Value != "tok" {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"u-1"}]}`)
	}))
	defer rancher.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agents.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata:
  name: cluster
  namespace: cattle-ai-agent-system
spec:
  displayName: Cluster
  description: The demo cluster
  systemPrompt: You answer about the cluster.
  mcpURL: %s/mcp
  authenticationType: NONE
`, mcpSrv.URL)), 0o600)
	// RBAC_ENABLED=false: every user may name the Ollama URL below.
	env := map[string]string{"RANCHER_URL": rancher.URL, "ACTIVE_LLM": "scripted", "LOG_LEVEL": "debug", "STORAGE": "memory", "RBAC_ENABLED": "false"}
	getenv := func(k string) string { return env[k] }

	addr, out, stop := runServe(t, []string{"--config", cfg}, getenv)

	push := `{"mcpTool":{"name":"add","args":{"a":2,"b":3}},"text":{"chunks":["Two plus three ","is five."]}}`
	resp, err := http.Post("http://"+addr+"/v1/control/push", "application/json", strings.NewReader(push))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("push: %v %v", resp, err)
	}
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok")
	if f := c.Read(); !strings.Contains(f, `"agents":[{"name":"cluster","status":"active"}]`) {
		t.Fatalf("metadata %s", f)
	}
	frames := c.Ask(`{"prompt":"2+3?","context":{}}`)
	want := []string{"<message>", "Two plus three ", "is five.", "</message>"}
	if strings.Join(frames, "|") != strings.Join(want, "|") {
		t.Fatalf("frames %q", frames)
	}
	// The model catalog is behind the user check; the Ollama URL is user
	// input, so a cloud-metadata address is refused, whoever asks.
	get := func(path, cookie string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/v1/api/llm/openai/models", ""); code != 401 || !strings.Contains(body, `"detail"`) {
		t.Fatalf("anonymous models: %d %s", code, body)
	}
	if code, body := get("/v1/api/llm/openai/models", "R_SESS=tok"); code != 200 || !strings.Contains(body, `"gpt-4o"`) {
		t.Fatalf("models: %d %s", code, body)
	}
	if code, _ := get("/v1/api/llm/ollama/models?url=http://169.254.169.254", "R_SESS=tok"); code != 502 {
		t.Fatalf("metadata address: %d", code)
	}
	// Logs are JSON and never carry the session token.
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON: %s", line)
		}
	}
	if strings.Contains(out.String(), "R_SESS=tok") {
		t.Fatal("session token logged")
	}
	stop()
}

func TestServeRejectsBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata:\n  name: x\nspec:\n  displayName: X\n  authenticationType: OAUTH\n"), 0o600)
	var out logtest.Buffer
	err := serve(context.Background(), []string{"--config", cfg}, func(k string) string {
		return map[string]string{"ACTIVE_LLM": "scripted", "RANCHER_URL": "http://r"}[k]
	}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "document 1") || !strings.Contains(err.Error(), "spec.authenticationType") {
		t.Fatalf("err = %v", err)
	}
	err = serve(context.Background(), []string{"--config", cfg}, func(string) string { return "" }, &out, &out)
	if err == nil {
		t.Fatal("no error without ACTIVE_LLM")
	}
}

// demoSignIn asks for the notes, which needs a sign-in: it approves on the
// demo authorization server's page as user and lets the callback page land.
func demoSignIn(t *testing.T, c *chattest.Client, user string) {
	t.Helper()
	if err := c.WS.Write(context.Background(), websocket.MessageText, []byte(`{"prompt":"show my notes","context":{}}`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<message>", `<agent-metadata>{"agentName":"notes","selectionMode":"auto"}</agent-metadata>`} {
		if f := c.Read(); f != want {
			t.Fatalf("frame %q, want %q", f, want)
		}
	}
	f := c.Read()
	var req struct{ Type, URL, Agent string }
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(f, "<authentication>"), "</authentication>")), &req); err != nil || req.Agent != "notes" {
		t.Fatalf("frame %q", f)
	}
	page, err := http.Get(req.URL)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("authorization page: %v %v", page, err)
	}
	page.Body.Close()
	u, _ := url.Parse(req.URL)
	form := u.Query()
	form.Set("user", user)
	form.Set("decision", "allow")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(u.Scheme+"://"+u.Host+"/authorize", form)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: %v %v", resp, err)
	}
	resp.Body.Close()
	cb, err := http.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(cb.Body)
	cb.Body.Close()
	if cb.StatusCode != 200 || !strings.Contains(string(body), "oauth_success") {
		t.Fatalf("callback: %d %s", cb.StatusCode, body)
	}
	if err := c.WS.Write(context.Background(), websocket.MessageText, []byte("authentication_confirmed")); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for f := c.Read(); ; f = c.Read() {
		rest = append(rest, f)
		if f == "</message>" {
			break
		}
	}
	if all := strings.Join(rest, ""); !strings.Contains(all, user+" has no notes yet.") {
		t.Fatalf("after sign-in: %q", rest)
	}
}

func TestServeWithBadLLMSettingsReportsThemInChat(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	cfg := filepath.Join(t.TempDir(), "agents.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata:\n  name: c\nspec:\n  displayName: C\n  mcpURL: %s/mcp\n", mcpSrv.URL)), 0o600)
	users := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data":[{"id":"u-1"}]}`) }))
	defer users.Close()
	env := map[string]string{"RANCHER_API_TOKEN": "tok", "RANCHER_URL": users.URL, "ACTIVE_LLM": "gemini", "STORAGE": "memory"}
	addr, out, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return env[k] })
	if !strings.Contains(out.String(), `"msg":"the LLM is not configured: every chat will report it"`) {
		t.Fatalf("no error logged at start:\n%s", out.String())
	}
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "")
	if f := c.Read(); !strings.HasPrefix(f, `<chat-error>{"message":"LLM Model not configured.`) || !strings.Contains(f, "GEMINI_MODEL") {
		t.Fatalf("frame %q", f)
	}
	stop()
}

// runServe starts `ai-agent serve` in-process on a loopback port with args
// and the environment getenv, and returns its address, its log and a stop
// function that checks it shuts down cleanly (also run at cleanup).
func runServe(t testing.TB, args []string, getenv func(string) string) (string, *logtest.Buffer, func()) {
	t.Helper()
	return runServeAt(t, nil, args, getenv)
}

// runServeAt is runServe with now as the clock of OAuth token lifetimes.
func runServeAt(t testing.TB, now func() time.Time, args []string, getenv func(string) string) (string, *logtest.Buffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &logtest.Buffer{}
	done := make(chan error, 1)
	if !slices.Contains(args, "--metrics-listen") {
		args = append([]string{"--metrics-listen", "127.0.0.1:0"}, args...)
	}
	if !slices.Contains(args, "--listen") {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	go func() { done <- serveAt(ctx, now, args, getenv, out, out) }()
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

// testClock is the wall clock plus an offset that a test moves forward, so
// that a token expires or stops being fresh without waiting.
type testClock struct{ ahead atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *testClock) Advance(d time.Duration) { c.ahead.Add(int64(d)) }
