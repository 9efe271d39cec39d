package server_test

import (
	"context"
	"fmt"
	"github.com/rancher/ai-agent/internal/agents"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

func readOpen(t *testing.T, c *client) {
	t.Helper()
	if f := c.read(); f != "<message>" {
		t.Fatalf("frame = %q, want <message>", f)
	}
}

func TestOAuthEagerSignInSingleAgent(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}}, as: oauthtest.ASOptions{Scopes: []string{"mcp:read"}}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/eager")
	md := c.metadata()
	if got := md["agents"].([]any)[0].(map[string]any); got["name"] != "gh" || got["status"] != "active" {
		t.Fatalf("agents = %v", md["agents"])
	}
	readOpen(t, c)
	frame := c.read()
	authURL, agentName := authRequest(t, frame)
	q := mustQuery(t, authURL)
	if agentName != "gh" || q.Get("resource") != oe.mcp.URL || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || len(q.Get("state")) < 40 || !strings.Contains(q.Get("scope"), "mcp:read") {
		t.Fatalf("authorization URL %s", authURL)
	}
	resp, _ := b.signIn(authURL)
	checkCookies(t, resp)
	c.send("authentication_confirmed")
	if f := c.read(); f != "</message>" {
		t.Fatalf("after sign-in got %q", f)
	}
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("You are alice."))
	c.send(prompt("who am I?"))
	equalFrames(t, c.turn(), []string{"<message>", "You are alice.", "</message>"})
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("MCP calls by %v", got)
	}
	if got := oe.as.TokenRequests(); got.AuthorizationCode != 1 {
		t.Fatalf("token requests %+v", got)
	}
}

func TestOAuthLazyManualSelection(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{others: []agents.Agent{newAgent("math", ms.url())}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/manual")
	c.metadata()
	// Cancel: the turn is skipped, the model is never called.
	c.send(prompt("who am I?", `"agent":"gh"`))
	readOpen(t, c)
	authRequest(t, c.read())
	c.send("authentication_canceled")
	if f := c.read(); f != "</message>" {
		t.Fatalf("after cancel got %q", f)
	}
	if n := len(oe.model.Requests()); n != 0 {
		t.Fatalf("model called %d times after cancel", n)
	}
	// Sign in, then the same turn runs.
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("alice it is"))
	c.send(prompt("who am I?", `"agent":"gh"`))
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	equalFrames(t, c.turn(), []string{"alice it is", "</message>"})
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("calls %v", got)
	}
}

func TestOAuthLazySupervisorResumesPendingCall(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{others: []agents.Agent{newAgent("math", ms.url())}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/sup")
	c.metadata()
	oe.model.Push(call("gh", `{"query":"whoami"}`), call("whoami", `{}`), llm.TextEntry("alice"), llm.TextEntry("You are ", "alice."))
	c.send(prompt("who am I?"))
	readOpen(t, c)
	if f := c.read(); f != `<agent-metadata>{"agentName":"gh","selectionMode":"auto"}</agent-metadata>` {
		t.Fatal(f)
	}
	b.completeSignIn(c, c.read())
	equalFrames(t, c.turn(), []string{
		`<processing-subagent-start>{"name":"gh","query":"whoami"}</processing-subagent-start>`,
		`<processing-subagent-end>{"name":"gh","query":"whoami"}</processing-subagent-end>`,
		"You are ", "alice.", "</message>",
	})
	// Cancel on a second chat: the pending supervisor call gets an error result.
	oe.deleteTokens(t, "alice")
	b.clearOAuthCookies()
	c2 := b.dial("/v1/ws/messages/sup2")
	c2.metadata()
	oe.model.Push(call("gh", `{"query":"whoami"}`), llm.TextEntry("Not signed in."))
	c2.send(prompt("who am I?"))
	readOpen(t, c2)
	c2.read() // agent-metadata
	authRequest(t, c2.read())
	c2.send("authentication_canceled")
	equalFrames(t, c2.turn(), []string{"Not signed in.", "</message>"})
	reqs := oe.model.Requests()
	last := reqs[len(reqs)-1].Messages
	if tm := last[len(last)-1]; tm.Role != "tool" || !tm.IsError || !strings.Contains(tm.Content, "canceled") {
		t.Fatalf("pending call result = %+v", tm)
	}
}

func TestOAuthTimeoutAndCallbackChecks(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{signIn: 700 * time.Millisecond})
	alice, bob := oe.browser(t, "alice"), oe.browser(t, "bob")
	c := alice.dial("/v1/ws/messages/to")
	c.metadata()
	readOpen(t, c)
	authURL, _ := authRequest(t, c.read())
	equalFrames(t, c.turn(), []string{`<auth-error>{"message":"sign-in did not complete: no answer from the browser in 700ms"}</auth-error>`, "</message>"})

	// The flow stays bound to alice: bob's session is refused, the state is used up.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cb, err := oe.as.Approve(ctx, authURL, "alice")
	if err != nil {
		t.Fatal(err)
	}
	resp, page := bob.callback(cb)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(page, "oauth_success") || strings.Contains(page, cb.Query().Get("code")) {
		t.Fatalf("bob's callback: %d %s", resp.StatusCode, page)
	}
	resp, page = alice.callback(cb)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "oauth_success") {
		t.Fatalf("replayed state: %d %s", resp.StatusCode, page)
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 0 {
		t.Fatalf("code redeemed %d times", n)
	}
}

func TestOAuthTwoUsersNeverShareTokens(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	for _, user := range []string{"alice", "bob"} {
		b := oe.browser(t, user)
		c := b.dial("/v1/ws/messages/" + user)
		c.metadata()
		readOpen(t, c)
		b.completeSignIn(c, c.read())
		c.read() // </message>
		oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
		c.send(prompt("who"))
		c.turn()
	}
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("calls %v", got)
	}
	// One registration (DCR) shared by both users, two different tokens.
	ta, tb := oe.tokensOf(t, "alice"), oe.tokensOf(t, "bob")
	ca, _ := oauthtest.ParseUnverifiedClaims(ta.AccessToken)
	cb, _ := oauthtest.ParseUnverifiedClaims(tb.AccessToken)
	if ca.ClientID == "" || ca.ClientID != cb.ClientID || ca.Subject != "alice" || cb.Subject != "bob" || ta.AccessToken == tb.AccessToken {
		t.Fatalf("alice %+v, bob %+v", ca, cb)
	}
}

func TestOAuthSilentRefreshIsSingleFlight(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{RotateRefreshTokens: true}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/sf")
	c.metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	c.read()
	oldRT := oe.refreshTokenOf(t, "alice")

	// The service's clock jumps past expiry: fifty concurrent calls refresh once.
	oe.setSkew(2 * time.Hour)
	a := oe.agent("gh")
	cred, err := oe.svc.Credentials(context.Background(), a, identityOf("alice"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			res, err := oe.tools.Call(context.Background(), a, cred, "whoami", nil)
			if err == nil && res.ForModel != "alice" {
				err = fmt.Errorf("whoami = %q", res.ForModel)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := oe.as.TokenRequests().RefreshToken; got != 1 {
		t.Fatalf("refresh requests = %d, want 1", got)
	}
	newRT := oe.refreshTokenOf(t, "alice")
	if newRT == oldRT || newRT == "" {
		t.Fatal("refresh token not rotated")
	}
	// Reuse of the rotated token: the AS revokes the grant.
	if err := oe.redeem(oldRT); err == nil {
		t.Fatal("reused refresh token accepted")
	}
	// Now a mid-session refresh fails with invalid_grant: the user is asked
	// to sign in again in the middle of the turn, and the call completes.
	oe.setSkew(4 * time.Hour)
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("back"))
	c.send(prompt("who"))
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	equalFrames(t, c.turn(), []string{"back", "</message>"})
}

func TestOAuthMidSession401RefreshesAndRetries(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{AccessTokenTTL: 2 * time.Second}, mcp: oauthtest.MCPOptions{Leeway: time.Millisecond}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/mid")
	c.metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	c.read()
	// Our clock lags: the token looks fresh to us but the MCP server refuses it.
	oe.setSkew(-time.Hour)
	time.Sleep(2500 * time.Millisecond)
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("still alice"))
	c.send(prompt("who"))
	equalFrames(t, c.turn(), []string{"<message>", "still alice", "</message>"})
	if r := oe.mcp.Requests(); r.Unauthorized == 0 {
		t.Fatal("the MCP server never refused the expired token")
	}
	if n := oe.as.TokenRequests().RefreshToken; n != 1 {
		t.Fatalf("refresh requests = %d", n)
	}
	if got := oe.mcp.Calls(); got[len(got)-1] != "alice" {
		t.Fatalf("calls %v", got)
	}
}

func TestOAuthTokenRefreshFrameWithSealedCookie(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/tr1")
	c.metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	c.read()
	// The server lost its copy (another replica, a restart of the memory store):
	// the browser's sealed refresh cookie is used through <token-refresh>.
	oe.deleteTokens(t, "alice")
	c2 := b.dial("/v1/ws/messages/tr2")
	c2.metadata()
	readOpen(t, c2)
	if f := c2.read(); f != `<token-refresh>{"agent":"gh"}</token-refresh>` {
		t.Fatalf("frame = %q", f)
	}
	req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/refresh", strings.NewReader(`{"agent":"gh"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body := b.do(req)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	checkCookies(t, resp)
	c2.send("token_refresh_confirmed")
	if f := c2.read(); f != "</message>" {
		t.Fatalf("after refresh got %q", f)
	}
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
	c2.send(prompt("who"))
	c2.turn()
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("calls %v", got)
	}
	// Bob cannot use alice's cookies.
	bob := oe.browser(t, "bob")
	for k, v := range b.cookies {
		if strings.HasPrefix(k, "mcp_oauth_") {
			bob.cookies[k] = v
		}
	}
	req, _ = http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/refresh", strings.NewReader(`{"agent":"gh"}`))
	if resp, body := bob.do(req); resp.StatusCode != 401 || !strings.Contains(body, "No refresh token") {
		t.Fatalf("bob refresh: %d %s", resp.StatusCode, body)
	}
}

func TestOAuthStepUpOnInsufficientScope(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{
		as:  oauthtest.ASOptions{Scopes: []string{"mcp:read", "mcp:write"}},
		mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, WriteScope: "mcp:write"},
	})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/step")
	c.metadata()
	readOpen(t, c)
	first := c.read()
	u1, _ := authRequest(t, first)
	if s := mustQuery(t, u1).Get("scope"); strings.Contains(s, "mcp:write") {
		t.Fatalf("first sign-in asked for %q", s)
	}
	b.completeSignIn(c, first)
	c.read()
	oe.model.Push(call("write", `{"text":"x"}`), llm.TextEntry("done"))
	c.send(prompt("write x"))
	readOpen(t, c)
	second := c.read()
	u2, _ := authRequest(t, second)
	if s := mustQuery(t, u2).Get("scope"); !strings.Contains(s, "mcp:read") || !strings.Contains(s, "mcp:write") {
		t.Fatalf("step-up asked for %q", s)
	}
	b.completeSignIn(c, second)
	equalFrames(t, c.turn(), []string{"done", "</message>"})
	last := oe.model.Requests()[1].Messages
	if got := last[len(last)-1].Content; got != "wrote x" {
		t.Fatalf("tool result = %q", got)
	}
}

func TestOAuthSettingsEndpoints(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}}})
	b := oe.browser(t, "alice")
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, oe.http.URL+path, nil)
		resp, body := b.do(req)
		return resp.StatusCode, strings.TrimSpace(body)
	}
	want := `{"metadataEndpoint":"` + oe.as.MetadataURL + `","scopesSupported":["mcp:read"]}`
	for _, p := range []string{
		"/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(oe.mcp.URL),
		"/oauth/metadata?mcp_url=" + url.QueryEscape(oe.mcp.URL),
	} {
		if code, body := get(p); code != 200 || body != want {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}
	if code, body := get("/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape("http://127.0.0.1:1/mcp")); code != 200 || body != "null" {
		t.Fatalf("failed discovery: %d %s", code, body)
	}
	if code, body := get("/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape("http://169.254.169.254/latest")); code != 200 || body != "null" {
		t.Fatalf("metadata address: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/dynamic-registration", strings.NewReader(`{"metadataEndpoint":"`+oe.as.MetadataURL+`"}`))
	if resp, body := b.do(req); resp.StatusCode != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("registration: %d %s", resp.StatusCode, body)
	}
	if code, body := get("/oauth/dynamic-registration?metadata_endpoint=" + url.QueryEscape(oe.as.MetadataURL)); code != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("legacy registration: %d %s", code, body)
	}
	anon := &browser{t: t, oe: oe, cookies: map[string]string{}, hc: http.DefaultClient}
	req, _ = http.NewRequest(http.MethodGet, oe.http.URL+"/v1/api/oauth2/metadata?mcpUrl=x", nil)
	if resp, _ := anon.do(req); resp.StatusCode != 401 {
		t.Fatalf("anonymous metadata: %d", resp.StatusCode)
	}
}

func checkCookies(t *testing.T, resp *http.Response) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range resp.Cookies() {
		names[c.Name] = true
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 604800 || c.Path != "/" {
			t.Fatalf("cookie %s attributes: %+v", c.Name, c)
		}
		if strings.Count(c.Value, ".") == 2 { // a JWT in clear has two dots
			t.Fatalf("cookie %s holds a clear token", c.Name)
		}
	}
	if !names["mcp_oauth_at_gh"] || !names["mcp_oauth_rt_gh"] {
		t.Fatalf("cookies set: %v", names)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestOAuthPreRegisteredClientFromSecret(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{preRegister: true, secretFn: func(as *oauthtest.AuthServer) map[string][]byte {
		return map[string][]byte{
			"clientID": []byte("pre"), "clientSecret": []byte("pre-secret"),
			"scope": []byte("mcp:read"), "metadataEndpoint": []byte(as.MetadataURL),
		}
	}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/pre")
	c.metadata()
	readOpen(t, c)
	frame := c.read()
	u, _ := authRequest(t, frame)
	q := mustQuery(t, u)
	if q.Get("client_id") != "pre" || q.Get("scope") != "mcp:read offline_access" {
		t.Fatalf("authorization URL %s", u)
	}
	b.completeSignIn(c, frame)
	c.read()
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
	c.send(prompt("who"))
	c.turn()
	claims, _ := oauthtest.ParseUnverifiedClaims(oe.tokensOf(t, "alice").AccessToken)
	if claims.ClientID != "pre" || !slices.Equal(oe.mcp.Calls(), []string{"alice"}) {
		t.Fatalf("claims %+v calls %v", claims, oe.mcp.Calls())
	}
}

func TestOAuthBadSecretOrServerIsThatAgentsError(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{
		secret: map[string][]byte{"clientSecret": []byte("orphan")},
		others: []agents.Agent{newAgent("math", ms.url())},
	})
	bad := ghAgent("http://127.0.0.1:1/mcp", map[string][]byte{"metadataEndpoint": []byte("http://127.0.0.1:1/.well-known/oauth-authorization-server")})
	bad.Name = "down"
	*oe.source = append(*oe.source, bad)
	c := oe.browser(t, "alice").dial("/v1/ws/messages/bad")
	md := c.metadata()
	st := map[string]map[string]any{}
	for _, a := range md["agents"].([]any) {
		st[a.(map[string]any)["name"].(string)] = a.(map[string]any)
	}
	if st["gh"]["status"] != "error" || !strings.Contains(st["gh"]["description"].(string), "clientID is missing") {
		t.Fatalf("gh = %v", st["gh"])
	}
	if st["down"]["status"] != "error" || st["math"]["status"] != "active" {
		t.Fatalf("agents = %v", st)
	}
	// The working agent is used directly, with no sign-in.
	oe.model.Push(llm.TextEntry("math works"))
	c.send(prompt("1+1"))
	equalFrames(t, c.turn(), []string{"<message>", "math works", "</message>"})
}

func TestOAuthStepUpStopsAfterThreeAttempts(t *testing.T) {
	// The AS never grants mcp:write, so every step-up ends in another 403.
	oe := newOAuthEnv(t, oauthOpts{
		as:  oauthtest.ASOptions{Scopes: []string{"mcp:read"}},
		mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, WriteScope: "mcp:write"},
	})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/limit")
	c.metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.read())
	c.read()
	oe.model.Push(call("write", `{"text":"x"}`), llm.TextEntry("could not write"))
	c.send(prompt("write x"))
	readOpen(t, c)
	for i := 0; i < 3; i++ {
		b.completeSignIn(c, c.read())
	}
	equalFrames(t, c.turn(), []string{"could not write", "</message>"})
	last := oe.model.Requests()[1].Messages
	if tm := last[len(last)-1]; tm.Role != "tool" || !tm.IsError || !strings.Contains(tm.Content, "403") && !strings.Contains(strings.ToLower(tm.Content), "forbidden") {
		t.Fatalf("tool result = %+v", tm)
	}
	if got := oe.mcp.Requests().Forbidden; got != 4 {
		t.Fatalf("403s = %d, want 4 (first call and three retries)", got)
	}
}
