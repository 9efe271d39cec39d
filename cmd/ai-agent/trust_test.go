package main

import (
	"bytes"
	"context"
	"encoding/base64"
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

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/rancher/ranchertest"
	"github.com/rancher/ai-agent/internal/store"
)

// trustRancher is a fake Rancher: session (cookie or bearer) tok-<name> is
// user u-<name>; SelfSubjectAccessReviews posted as the user are checked
// by ranchertest and allowed for admins. It counts the reviews.
func trustRancher(t *testing.T, admins ...string) (string, *atomic.Int32) {
	t.Helper()
	var reviews atomic.Int32
	ssar := ranchertest.SelfSubjectAccessReviews(t, func(u string) bool { return slices.Contains(admins, u) })
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == rancher.SelfSubjectAccessPath {
			reviews.Add(1)
			ssar(w, r)
			return
		}
		c, err := r.Cookie("R_SESS")
		if r.URL.Path != "/v3/users" || err != nil || !strings.HasPrefix(c.Value, "tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"data":[{"id":"u-%s"}]}`, strings.TrimPrefix(c.Value, "tok-"))
	}))
	t.Cleanup(rs.Close)
	return rs.URL, &reviews
}

// loopbackNotes runs the demo's notes MCP server and its authorization
// server on loopback, as an in-cluster MCP server would be on a private
// address; it records the redirect URIs of every registration.
func loopbackNotes(t *testing.T) (mcpURL, metadataURL string, registered func() [][]string) {
	t.Helper()
	var mu sync.Mutex
	var regs [][]string
	asSrv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + asSrv.Listener.Addr().String()
	as := demo.NewAuthServer(issuer, 10*time.Minute)
	h := as.Handler()
	asSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/register" {
			body, _ := io.ReadAll(r.Body)
			var req struct {
				RedirectURIs []string `json:"redirect_uris"`
			}
			_ = json.Unmarshal(body, &req)
			mu.Lock()
			regs = append(regs, req.RedirectURIs)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	})
	asSrv.Start()
	t.Cleanup(asSrv.Close)
	notes := httptest.NewUnstartedServer(nil)
	base := "http://" + notes.Listener.Addr().String()
	notes.Config.Handler = demo.NotesHandler(as, base)
	notes.Start()
	t.Cleanup(notes.Close)
	return base + "/mcp", issuer + "/.well-known/oauth-authorization-server", func() [][]string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(regs)
	}
}

// clusterConfig writes a config file with one NONE agent on the demo MCP server.
func clusterConfig(t *testing.T) string {
	t.Helper()
	mcpSrv := httptest.NewServer(demo.Handler())
	t.Cleanup(mcpSrv.Close)
	cfg := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata:\n  name: cluster\nspec:\n  displayName: Cluster\n  mcpURL: %s/mcp\n", mcpSrv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// call sends one request like curl or a browser would (headers h) and
// returns the status and the trimmed body.
func call(t *testing.T, method, u, body string, h map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func wantDetail(t *testing.T, what string, code int, body string, want int) {
	t.Helper()
	var d struct{ Detail string }
	if code != want || json.Unmarshal([]byte(body), &d) != nil || d.Detail == "" {
		t.Fatalf("%s: %d %s, want %d {detail}", what, code, body, want)
	}
}

func oauthKeyEnv() string { return base64.StdEncoding.EncodeToString(oauth.GenerateKey()) }

// TestServeTrustBoundary runs `ai-agent serve` outside a cluster the way
// the README says and tries the attacks of the trust-boundary issue next
// to the legitimate uses.
func TestServeTrustBoundary(t *testing.T) {
	rancherURL, reviews := trustRancher(t, "u-admin")
	mcpURL, metadataURL, registered := loopbackNotes(t)
	vars := map[string]string{"RANCHER_URL": rancherURL, "ACTIVE_LLM": "scripted", "STORAGE": "memory",
		"OAUTH_ENCRYPTION_KEY": oauthKeyEnv(), "ALLOWED_ORIGINS": "https://dev.example.com",
		"OAUTH_CLIENT_METADATA_URL": "https://agent.example.com/client.json"}
	addr, out, stop := runServe(t, []string{"--config", clusterConfig(t)}, func(k string) string { return vars[k] })
	base := "http://" + addr
	if !strings.Contains(out.String(), `"storage":"memory","storageType":"in-memory"`) {
		t.Fatalf("the log does not name the engine:\n%s", out.String())
	}

	// 1. Cross-site WebSocket.
	dial := func(origin, path string) (*chattest.Client, *http.Response, error) {
		h := http.Header{"Cookie": {"R_SESS=tok-viewer"}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return chattest.DialErr(t, "ws://"+addr+path, h)
	}
	if c, resp, err := dial("https://evil.example", "/v1/ws/messages"); err == nil || resp == nil || resp.StatusCode != 403 {
		if c != nil {
			c.WS.CloseNow()
		}
		t.Fatalf("cross-site handshake: %v %v", resp, err)
	}
	for _, o := range []string{rancherURL, "https://dev.example.com", ""} { // the UI through Rancher; ALLOWED_ORIGINS; not a browser
		c, _, err := dial(o, httpapi.ProxyPrefix+"/v1/ws/messages")
		if err != nil {
			t.Fatalf("handshake with Origin %q: %v", o, err)
		}
		if f := c.Read(); !strings.HasPrefix(f, "<chat-metadata>") {
			t.Fatalf("Origin %q: %s", o, f)
		}
		c.WS.CloseNow()
	}

	// 2. Who may make the agent fetch a URL: an administrator discovers a
	// loopback MCP server; a viewer is refused; one review per user.
	get := func(token, path string, h map[string]string) (int, string) {
		if h == nil {
			h = map[string]string{}
		}
		h["Cookie"] = "R_SESS=" + token
		return call(t, "GET", base+path, "", h)
	}
	discover := "/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(mcpURL)
	want := `{"metadataEndpoint":"` + metadataURL + `","scopesSupported":["notes:read","notes:write"]}`
	before := reviews.Load()
	for range 2 {
		if code, body := get("tok-admin", discover, nil); code != 200 || body != want {
			t.Fatalf("admin discovery: %d %s", code, body)
		}
	}
	code, body := get("tok-viewer", discover, nil)
	wantDetail(t, "viewer discovery", code, body, 403)
	if n := reviews.Load() - before; n != 2 {
		t.Fatalf("%d access reviews for two users, want 2", n)
	}
	code, body = get("tok-viewer", "/oauth/metadata?mcp_url="+url.QueryEscape(mcpURL), nil)
	wantDetail(t, "viewer seed discovery", code, body, 403)
	code, body = get("tok-viewer", "/v1/api/llm/ollama/models?url="+url.QueryEscape("http://127.0.0.1:1"), nil)
	wantDetail(t, "viewer model list at a URL", code, body, 403)
	code, body = get("tok-viewer", "/v1/api/llm/bedrock/models?region=x&bearerToken=y", nil)
	wantDetail(t, "viewer model list with credentials", code, body, 403)
	if code, body := get("tok-viewer", "/v1/api/llm/openai/models", nil); code != 200 || !strings.Contains(body, "gpt") {
		t.Fatalf("viewer's fixed model list: %d %s", code, body)
	}
	if code, _ := get("tok-admin", "/v1/api/llm/ollama/models?url="+url.QueryEscape("http://127.0.0.1:1"), nil); code != 502 {
		t.Fatalf("admin model list at a closed port: %d, want 502", code)
	}
	if code, body := get("tok-admin", "/v1/api/oauth2/metadata?mcpUrl="+url.QueryEscape("http://169.254.169.254/mcp"), nil); code != 200 || body != "null" {
		t.Fatalf("admin discovery of a metadata address: %d %s", code, body)
	}

	// 4. CSRF.
	post := func(path, body string, h map[string]string) (int, string) {
		h["Cookie"] = "R_SESS=tok-admin"
		return call(t, "POST", base+path, body, h)
	}
	reg := `{"metadataEndpoint":"` + metadataURL + `"}`
	code, body = post("/v1/api/oauth2/dynamic-registration", reg, map[string]string{"Content-Type": "text/plain"})
	wantDetail(t, "text/plain registration", code, body, 415)
	code, body = post("/v1/api/oauth2/dynamic-registration", reg, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"})
	wantDetail(t, "cross-origin registration", code, body, 403)
	code, body = post("/v1/api/oauth2/refresh", `{"agent":"x"}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantDetail(t, "form-encoded refresh", code, body, 415)
	code, body = get("tok-admin", "/oauth/dynamic-registration?metadata_endpoint="+url.QueryEscape(metadataURL), map[string]string{"Sec-Fetch-Site": "cross-site"})
	wantDetail(t, "cross-site navigation to the seed's registration", code, body, 403)
	if n := len(registered()); n != 0 {
		t.Fatalf("refused requests registered %d clients", n)
	}

	// 5. The redirect URI comes from configuration; a forged host is ignored,
	// one that names an allowed origin is used.
	cb := httpapi.ProxyPrefix + "/v1/api/oauth2/callback"
	code, body = post("/v1/api/oauth2/dynamic-registration", reg, map[string]string{"Content-Type": "application/json",
		"Origin": rancherURL, "Sec-Fetch-Site": "same-origin", "X-Forwarded-Host": "evil.example"})
	if code != 200 || !strings.Contains(body, `"clientId":"demo-`) {
		t.Fatalf("the UI's registration: %d %s", code, body)
	}
	if got := registered(); len(got) != 1 || !slices.Equal(got[0], []string{rancherURL + cb}) {
		t.Fatalf("registered redirect URIs %v, want [%s]", got, rancherURL+cb)
	}
	for host, want := range map[string]string{"evil.example": rancherURL + cb, "dev.example.com": "https://dev.example.com" + cb} {
		code, body := call(t, "GET", base+"/v1/api/oauth2/client-metadata.json", "", map[string]string{"X-Forwarded-Host": host})
		var doc struct {
			RedirectURIs []string `json:"redirect_uris"`
		}
		if code != 200 || json.Unmarshal([]byte(body), &doc) != nil || !slices.Equal(doc.RedirectURIs, []string{want}) {
			t.Fatalf("client metadata for host %s: %d %s, want redirect_uris [%s]", host, code, body, want)
		}
	}
	stop()
}

// TestServeSeedCurl: the seed's curl commands, with RANCHER_API_TOKEN as
// the caller, work for an administrator's token only (or with
// RBAC_ENABLED=false).
func TestServeSeedCurl(t *testing.T) {
	rancherURL, _ := trustRancher(t, "u-admin")
	mcpURL, metadataURL, _ := loopbackNotes(t)
	cfg := clusterConfig(t)
	for _, c := range []struct {
		token, rbac string
		want        int
	}{{"tok-admin", "", 200}, {"tok-viewer", "", 403}, {"tok-viewer", "false", 200}} {
		vars := map[string]string{"RANCHER_URL": rancherURL, "RANCHER_API_TOKEN": c.token, "RBAC_ENABLED": c.rbac,
			"ACTIVE_LLM": "scripted", "STORAGE": "memory", "OAUTH_ENCRYPTION_KEY": oauthKeyEnv()}
		addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return vars[k] })
		// curl "http://localhost:8000/oauth/metadata?mcp_url=..."
		code, body := call(t, "GET", "http://"+addr+"/oauth/metadata?mcp_url="+url.QueryEscape(mcpURL), "", nil)
		if code != c.want || (c.want == 200 && !strings.Contains(body, metadataURL)) {
			t.Fatalf("%s (RBAC_ENABLED=%q) metadata: %d %s, want %d", c.token, c.rbac, code, body, c.want)
		}
		// curl "http://localhost:8000/oauth/dynamic-registration?metadata_endpoint=..."
		code, body = call(t, "GET", "http://"+addr+"/oauth/dynamic-registration?metadata_endpoint="+url.QueryEscape(metadataURL), "", nil)
		if code != c.want || (c.want == 200 && !strings.Contains(body, `"clientId":"demo-`)) {
			t.Fatalf("%s (RBAC_ENABLED=%q) registration: %d %s, want %d", c.token, c.rbac, code, body, c.want)
		}
		stop()
	}
}

// TestServeDefaultSQLitePath: without SQLITE_PATH the file lives in the
// user's state directory, never a shared temp dir; the log names the
// engine while the UI keeps its storageType.
func TestServeDefaultSQLitePath(t *testing.T) {
	rancherURL, _ := trustRancher(t)
	cfg := clusterConfig(t)
	home, state := t.TempDir(), t.TempDir()
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"HOME": home}, filepath.Join(home, ".local", "state", "ai-agent", "ai-agent.db")},
		{map[string]string{"HOME": home, "XDG_STATE_HOME": state}, filepath.Join(state, "ai-agent", "ai-agent.db")},
	} {
		c.vars["RANCHER_URL"], c.vars["ACTIVE_LLM"] = rancherURL, "scripted"
		addr, out, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return c.vars[k] })
		if !strings.Contains(out.String(), `"msg":"storage: sqlite","path":"`+c.want+`"`) ||
			!strings.Contains(out.String(), `"storage":"sqlite","storageType":"in-memory"`) {
			t.Fatalf("log:\n%s", out.String())
		}
		if _, err := os.Stat(c.want); err != nil {
			t.Fatalf("database file: %v", err)
		}
		if fi, err := os.Stat(filepath.Dir(c.want)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("database directory: %v %v", fi.Mode(), err)
		}
		if code, body := call(t, "GET", "http://"+addr+"/v1/api/settings", "", map[string]string{"Cookie": "R_SESS=tok-a"}); code != 200 || body != `{"storageType":"in-memory"}` {
			t.Fatalf("settings: %d %s", code, body)
		}
		stop()
	}
	err := serve(context.Background(), []string{"--config", cfg, "--listen", "127.0.0.1:0"}, func(k string) string {
		return map[string]string{"RANCHER_URL": rancherURL, "ACTIVE_LLM": "scripted"}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SQLITE_PATH") {
		t.Fatalf("no HOME and no SQLITE_PATH: %v", err)
	}
}

// TestServeSweepsOldRegistrations: client registrations stored for a
// redirect URI that the configuration no longer uses are removed at start;
// the one in use stays.
func TestServeSweepsOldRegistrations(t *testing.T) {
	rancherURL, _ := trustRancher(t)
	path := filepath.Join(t.TempDir(), "ai.db")
	key := oauth.GenerateKey()
	current := "https://rancher.example.com" + httpapi.ProxyPrefix + "/v1/api/oauth2/callback"
	withVault := func(fn func(v *oauth.Vault)) {
		st, err := store.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sealer, err := oauth.NewSealer(key)
		if err != nil {
			t.Fatal(err)
		}
		fn(oauth.NewVault(st, sealer, nil))
	}
	withVault(func(v *oauth.Vault) {
		for _, cb := range []string{current, "https://evil.example" + httpapi.ProxyPrefix + "/v1/api/oauth2/callback"} {
			if err := v.PutClient(context.Background(), cb, oauthproto.ClientInfo{ClientID: "c", Issuer: "https://as.example"}); err != nil {
				t.Fatal(err)
			}
		}
	})
	vars := map[string]string{"RANCHER_URL": rancherURL, "ACTIVE_LLM": "scripted", "SQLITE_PATH": path,
		"OAUTH_REDIRECT_URI": current, "OAUTH_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key)}
	_, out, stop := runServe(t, []string{"--config", clusterConfig(t)}, func(k string) string { return vars[k] })
	waitFor(t, out, regexpSwept)
	stop()
	withVault(func(v *oauth.Vault) {
		if _, err := v.GetClient(context.Background(), "https://as.example", current); err != nil {
			t.Fatalf("the registration in use: %v", err)
		}
		if _, err := v.GetClient(context.Background(), "https://as.example", "https://evil.example"+httpapi.ProxyPrefix+"/v1/api/oauth2/callback"); err == nil {
			t.Fatal("the registration for a redirect URI no longer in use survived")
		}
	})
}

var regexpSwept = regexp.MustCompile(`"msg":"oauth client registrations removed[^"]*","removed":(1)`)
