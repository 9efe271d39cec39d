package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/logging/logtest"
	"github.com/rancher/ai-agent/internal/oauth"
)

// TestWebSocketOrigin: a handshake from a page of another origin is
// refused with 403 before any frame; the real UI's (Rancher's origin,
// through the proxy prefix, X-Forwarded-Host set by Rancher) and a client
// without Origin get their chat.
func TestWebSocketOrigin(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	for _, h := range []http.Header{
		{"Origin": {"https://evil.example"}},
		{"Origin": {"null"}},
		{"Origin": {"http://rancher.example.com"}}, // another scheme is another origin
		{"Origin": {rancherOrigin}, "Sec-Fetch-Site": {"cross-site"}},
	} {
		h.Set("Cookie", "R_SESS=tok-alice")
		c, resp, err := e.dialHeader("/v1/ws/messages", h)
		if err == nil {
			t.Fatalf("handshake with %v accepted; first frame %q", h, c.Read())
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("handshake with %v: %v, %v; want 403", h, resp, err)
		}
	}
	if n, _ := e.store.ListChats(context.Background(), "u-alice", true); len(n) != 0 {
		t.Fatalf("a refused handshake opened chats: %v", n)
	}
	ui := http.Header{"Origin": {rancherOrigin}, "Cookie": {"R_SESS=tok-alice"},
		"X-Forwarded-Host": {"rancher.example.com"}, "Sec-Fetch-Site": {"same-origin"}}
	c, _, err := e.dialHeader(httpapi.ProxyPrefix+"/v1/ws/messages", ui)
	if err != nil {
		t.Fatalf("the UI's handshake: %v", err)
	}
	if md := c.Metadata(); md["chatId"] == "" {
		t.Fatalf("metadata %v", md)
	}
	if md := e.dial("/v1/ws/messages", "tok-alice").Metadata(); md["chatId"] == "" { // no Origin: not a browser
		t.Fatalf("metadata %v", md)
	}
}

// do sends one request with headers and returns status and body.
func do(t *testing.T, method, u, body string, h map[string]string) (int, string) {
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

// TestCSRF: state-changing calls need a JSON body and refuse another
// site's page; the UI's own calls (JSON, Rancher's origin, same-origin)
// still work.
func TestCSRF(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.chatTurns("c-1", "keep me")
	u := e.http.URL + "/v1/api/chats/c-1"
	for _, c := range []struct {
		method string
		h      map[string]string
		want   int
	}{
		{"PUT", map[string]string{"Content-Type": "text/plain"}, 415},
		{"PUT", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"PUT", map[string]string{}, 415},
		{"PUT", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403},
		{"PUT", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"DELETE", map[string]string{"Origin": "https://evil.example"}, 403},
		{"DELETE", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	} {
		c.h["Cookie"] = "R_SESS=tok-alice"
		code, body := do(t, c.method, u, `{"name":"pwned"}`, c.h)
		var d struct{ Detail string }
		if code != c.want || json.Unmarshal([]byte(body), &d) != nil || d.Detail == "" {
			t.Errorf("%s %v = %d %s, want %d {detail}", c.method, c.h, code, body, c.want)
		}
	}
	var chat struct{ Name string }
	e.apiJSON("GET", "/v1/api/chats/c-1", "tok-alice", "", 200, &chat)
	if chat.Name != "keep me" {
		t.Fatalf("a refused request changed the chat: %q", chat.Name)
	}
	// The UI: same origin as Rancher, through the proxy prefix.
	ui := map[string]string{"Cookie": "R_SESS=tok-alice", "Origin": rancherOrigin, "Sec-Fetch-Site": "same-origin",
		"Content-Type": "application/json; charset=utf-8"}
	if code, body := do(t, "PUT", e.http.URL+httpapi.ProxyPrefix+"/v1/api/chats/c-1", `{"name":"Renamed"}`, ui); code != 200 || !strings.Contains(body, `"Renamed"`) {
		t.Fatalf("the UI's rename: %d %s", code, body)
	}
	e.model.Push(call("suggestions", `{"suggestion1":"a"}`))
	if code, _ := do(t, "POST", e.http.URL+"/v1/api/complete/ui-tools", `{"prompt":"x","context":[],"tools":{"name":"rancher-ai-ui","tools":["suggestions"]}}`,
		map[string]string{"Cookie": "R_SESS=tok-alice", "Content-Type": "text/plain"}); code != 415 {
		t.Fatalf("a text/plain completion: %d", code)
	}
	delete(ui, "Content-Type")
	if code, _ := do(t, "DELETE", e.http.URL+httpapi.ProxyPrefix+"/v1/api/chats/c-1", "", ui); code != 200 && code != 204 {
		t.Fatalf("the UI's delete: %d", code)
	}
	// Probes and the callback are not browser-guarded.
	if code, _ := do(t, "GET", e.http.URL+"/v1/api/health", "", map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 200 {
		t.Fatalf("health: %d", code)
	}
}

// TestFetchRoutesNeedConfigure: only users Rancher lets update
// AIAgentConfigs make the agent fetch a URL; the answer is cached per user.
func TestFetchRoutesNeedConfigure(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	get := func(token, path string, h map[string]string) (int, string) {
		if h == nil {
			h = map[string]string{}
		}
		if token != "" {
			h["Cookie"] = "R_SESS=" + token
		}
		return do(t, "GET", oe.http.URL+path, "", h)
	}
	post := func(token, path, body string) (int, string) {
		return do(t, "POST", oe.http.URL+path, body, map[string]string{"Cookie": "R_SESS=" + token, "Content-Type": "application/json"})
	}
	meta := "/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(oe.mcp.URL)
	legacyMeta := "/oauth/metadata?mcp_url=" + url.QueryEscape(oe.mcp.URL)
	legacyReg := "/oauth/dynamic-registration?metadata_endpoint=" + url.QueryEscape(oe.as.MetadataURL)
	reg := `{"metadataEndpoint":"` + oe.as.MetadataURL + `"}`
	want := `{"metadataEndpoint":"` + oe.as.MetadataURL + `","scopesSupported":["mcp:read"]}`

	before := oe.reviews.Load()
	for range 3 { // an administrator discovers the loopback MCP server; one review serves all
		if code, body := get("tok-alice", meta, nil); code != 200 || body != want {
			t.Fatalf("alice: %d %s", code, body)
		}
	}
	if code, body := get("tok-alice", legacyMeta, nil); code != 200 || body != want {
		t.Fatalf("alice, seed form: %d %s", code, body)
	}
	if n := oe.reviews.Load() - before; n != 1 {
		t.Fatalf("%d access reviews for one user, want 1 (cached)", n)
	}
	if code, body := post("tok-alice", "/v1/api/oauth2/dynamic-registration", reg); code != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("alice registers: %d %s", code, body)
	}
	if code, body := get("tok-alice", legacyReg, nil); code != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("alice registers, seed form: %d %s", code, body)
	}
	for _, token := range []string{"tok-bob", "tok-down"} { // no; and Rancher cannot answer
		for _, c := range []func() (int, string){
			func() (int, string) { return get(token, meta, nil) },
			func() (int, string) { return get(token, legacyMeta, nil) },
			func() (int, string) { return get(token, legacyReg, nil) },
			func() (int, string) { return post(token, "/v1/api/oauth2/dynamic-registration", reg) },
		} {
			code, body := c()
			var d struct{ Detail string }
			if code != 403 || json.Unmarshal([]byte(body), &d) != nil || d.Detail == "" {
				t.Fatalf("%s: %d %s, want 403 {detail}", token, code, body)
			}
		}
	}
	if code, _ := get("", meta, nil); code != 401 {
		t.Fatalf("anonymous: %d", code)
	}
	// Link-local and metadata addresses stay refused, administrators included.
	if code, body := get("tok-alice", "/v1/api/oauth2/metadata?mcpUrl="+url.QueryEscape("http://169.254.169.254/latest/mcp"), nil); code != 200 || body != "null" {
		t.Fatalf("metadata address: %d %s", code, body)
	}
	// The seed's GET registration works for curl but not as another site's navigation.
	if code, _ := get("tok-alice", legacyReg, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Fatalf("cross-site navigation to the seed's registration: %d", code)
	}
}

// TestNoScanOracle: whatever makes discovery or registration fail (a
// closed port, 404, not JSON, too large, a timeout, a blocked address), the
// caller gets the same bytes; the reason is in the log only.
func TestNoScanOracle(t *testing.T) {
	logs := &logtest.Buffer{}
	oe := newOAuthEnv(t, oauthOpts{outbound: 300 * time.Millisecond, log: slog.New(slog.NewJSONHandler(logs, nil))})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	release := make(chan struct{})
	targets := map[string]string{
		"closed port": closedURL,
		"404":         serve(http.NotFound),
		"not JSON": serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>hello</html>")
		}),
		"too large": serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(bytes.Repeat([]byte(" "), 2<<20))
		}),
		"timeout": serve(func(w http.ResponseWriter, r *http.Request) {
			select { // answers only after the client gave up
			case <-r.Context().Done():
			case <-release:
			}
		}),
		"blocked address": "http://169.254.169.254",
	}
	t.Cleanup(func() { close(release) }) // before the servers' Close, which waits for handlers
	bodies := map[string]map[string]string{}
	for kind, base := range targets {
		for name, c := range map[string][3]string{
			"metadata":          {"GET", "/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(base+"/mcp"), ""},
			"seed metadata":     {"GET", "/oauth/metadata?mcp_url=" + url.QueryEscape(base+"/mcp"), ""},
			"registration":      {"POST", "/v1/api/oauth2/dynamic-registration", `{"metadataEndpoint":"` + base + `/.well-known/oauth-authorization-server"}`},
			"seed registration": {"GET", "/oauth/dynamic-registration?metadata_endpoint=" + url.QueryEscape(base+"/.well-known/oauth-authorization-server"), ""},
		} {
			code, body := do(t, c[0], oe.http.URL+c[1], c[2], map[string]string{"Cookie": "R_SESS=tok-alice", "Content-Type": "application/json"})
			if bodies[name] == nil {
				bodies[name] = map[string]string{}
			}
			bodies[name][kind] = strings.TrimSpace(http.StatusText(code) + " " + body)
		}
	}
	for name, byKind := range bodies {
		var first, firstKind string
		for kind, b := range byKind {
			if first == "" {
				first, firstKind = b, kind
			}
			if b != first {
				t.Errorf("%s: %s answers %q but %s answers %q", name, kind, b, firstKind, first)
			}
		}
	}
	if got := bodies["metadata"]["404"]; got != "OK null" {
		t.Fatalf("failed discovery answers %q, want 200 null", got)
	}
	if got := bodies["registration"]["404"]; !strings.HasPrefix(got, "Bad Request {\"detail\":") {
		t.Fatalf("failed registration answers %q", got)
	}
	// The log tells the administrator what happened.
	for _, reason := range []string{"the server cannot be reached", "no metadata document found", "the response is too large", "the address is not allowed"} {
		if !strings.Contains(logs.String(), `"reason":"`+reason+`"`) {
			t.Errorf("log has no reason %q:\n%s", reason, logs.String())
		}
	}
	// A working authorization server still registers.
	code, body := do(t, "POST", oe.http.URL+"/v1/api/oauth2/dynamic-registration", `{"metadataEndpoint":"`+oe.as.MetadataURL+`"}`,
		map[string]string{"Cookie": "R_SESS=tok-alice", "Content-Type": "application/json"})
	if code != 200 || !strings.Contains(body, `"clientId"`) {
		t.Fatalf("registration: %d %s", code, body)
	}
}

// TestRedirectURIFromConfiguration: without OAUTH_REDIRECT_URI, a forged
// X-Forwarded-Host does not choose where the code goes (Rancher's URL is
// used); a host that names an allowed origin gets that origin's callback,
// and the sign-in completes there. Registrations for a redirect URI no
// longer in use are swept.
func TestRedirectURIFromConfiguration(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{derivedRedirect: true})
	b := oe.browser(t, "alice")
	forged, _, err := oe.dialHeader("/v1/ws/messages", http.Header{"Cookie": {b.cookieHeader()}, "X-Forwarded-Host": {"evil.example"}})
	if err != nil {
		t.Fatal(err)
	}
	forged.Metadata()
	readOpen(t, forged)
	u, _ := authRequest(t, forged.Read()) // one agent: it asks to sign in at once
	rancherCB := rancherOrigin + httpapi.ProxyPrefix + "/v1/api/oauth2/callback"
	if got := mustQuery(t, u).Get("redirect_uri"); got != rancherCB {
		t.Fatalf("redirect_uri with a forged host = %q, want %q", got, rancherCB)
	}
	forged.WS.CloseNow()

	c := b.dial("/v1/ws/messages") // Host is the server's own address, an allowed origin
	c.Metadata()
	readOpen(t, c)
	frame := c.Read()
	u, _ = authRequest(t, frame)
	ownCB := oe.http.URL + httpapi.ProxyPrefix + "/v1/api/oauth2/callback"
	if got := mustQuery(t, u).Get("redirect_uri"); got != ownCB {
		t.Fatalf("redirect_uri = %q, want %q", got, ownCB)
	}
	b.completeSignIn(c, frame)
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after sign-in got %q", f)
	}
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("You are alice."))
	c.Send(prompt("who am I?"))
	equalFrames(t, c.Turn(), []string{"<message>", "You are alice.", "</message>"})
	ctx := context.Background()
	for _, cb := range []string{rancherCB, ownCB} {
		if _, err := oe.vault.GetClient(ctx, oe.as.Issuer, cb); err != nil {
			t.Fatalf("registration for %s: %v", cb, err)
		}
	}
	// The same store under a configuration that uses only OAUTH_REDIRECT_URI=rancherCB.
	svc, err := oauth.NewService(oauth.ServiceOptions{Vault: oe.vault, Sealer: oe.sealer,
		Agents: sourceFunc(func() []agentconfig.Agent { return *oe.source }), Endpoint: oe.tools.EndpointURL, RedirectURI: rancherCB})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SweepClients(ctx); err != nil || n != 1 {
		t.Fatalf("SweepClients = %d, %v; want 1", n, err)
	}
	if _, err := oe.vault.GetClient(ctx, oe.as.Issuer, ownCB); err == nil {
		t.Fatal("the registration for a redirect URI no longer in use survived")
	}
	if _, err := oe.vault.GetClient(ctx, oe.as.Issuer, rancherCB); err != nil {
		t.Fatalf("the registration in use was swept: %v", err)
	}
}
