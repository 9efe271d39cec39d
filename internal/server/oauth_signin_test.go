package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

func readOpen(t *testing.T, c *chattest.Client) {
	t.Helper()
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame = %q, want <message>", f)
	}
}

func TestOAuthEagerSignInSingleAgent(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}}, as: oauthtest.ASOptions{Scopes: []string{"mcp:read"}}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/eager")
	md := c.Metadata()
	if got := md["agents"].([]any)[0].(map[string]any); got["name"] != "gh" || got["status"] != "active" {
		t.Fatalf("agents = %v", md["agents"])
	}
	readOpen(t, c)
	frame := c.Read()
	authURL, agentName := authRequest(t, frame)
	q := mustQuery(t, authURL)
	if agentName != "gh" || q.Get("resource") != oe.mcp.URL || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || len(q.Get("state")) < 40 || !strings.Contains(q.Get("scope"), "mcp:read") {
		t.Fatalf("authorization URL %s", authURL)
	}
	resp, _ := b.signIn(authURL)
	checkCookies(t, resp)
	c.Send("authentication_confirmed")
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after sign-in got %q", f)
	}
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("You are alice."))
	c.Send(prompt("who am I?"))
	equalFrames(t, c.Turn(), []string{"<message>", "You are alice.", "</message>"})
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("MCP calls by %v", got)
	}
	if got := oe.as.TokenRequests(); got.AuthorizationCode != 1 {
		t.Fatalf("token requests %+v", got)
	}
}

func TestOAuthLazyManualSelection(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{others: []agentconfig.Agent{newAgent("math", ms.url())}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/manual")
	c.Metadata()
	// Cancel: the turn is skipped, the model is never called.
	c.Send(prompt("who am I?", `"agent":"gh"`))
	readOpen(t, c)
	authRequest(t, c.Read())
	c.Send("authentication_canceled")
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after cancel got %q", f)
	}
	if n := len(oe.model.Requests()); n != 0 {
		t.Fatalf("model called %d times after cancel", n)
	}
	// Sign in, then the same turn runs.
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("alice it is"))
	c.Send(prompt("who am I?", `"agent":"gh"`))
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	equalFrames(t, c.Turn(), []string{"alice it is", "</message>"})
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("calls %v", got)
	}
}

func TestOAuthLazySupervisorResumesPendingCall(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{others: []agentconfig.Agent{newAgent("math", ms.url())}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/sup")
	c.Metadata()
	oe.model.Push(call("gh", `{"query":"whoami"}`), call("whoami", `{}`), llm.TextEntry("alice"), llm.TextEntry("You are ", "alice."))
	c.Send(prompt("who am I?"))
	readOpen(t, c)
	if f := c.Read(); f != `<agent-metadata>{"agentName":"gh","selectionMode":"auto"}</agent-metadata>` {
		t.Fatal(f)
	}
	b.completeSignIn(c, c.Read())
	equalFrames(t, c.Turn(), []string{
		`<processing-subagent-start>{"name":"gh","query":"whoami"}</processing-subagent-start>`,
		`<processing-subagent-end>{"name":"gh","query":"whoami"}</processing-subagent-end>`,
		"You are ", "alice.", "</message>",
	})
	// Cancel on a second chat: the pending supervisor call gets an error result.
	oe.deleteTokens(t, "alice")
	b.clearOAuthCookies()
	c2 := b.dial("/v1/ws/messages/sup2")
	c2.Metadata()
	oe.model.Push(call("gh", `{"query":"whoami"}`), llm.TextEntry("Not signed in."))
	c2.Send(prompt("who am I?"))
	readOpen(t, c2)
	c2.Read() // agent-metadata
	authRequest(t, c2.Read())
	c2.Send("authentication_canceled")
	equalFrames(t, c2.Turn(), []string{"Not signed in.", "</message>"})
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
	c.Metadata()
	readOpen(t, c)
	authURL, _ := authRequest(t, c.Read())
	equalFrames(t, c.Turn(), []string{`<auth-error>{"message":"The sign-in for agent \"gh\" did not complete (no token arrived in time); try again. To sign out of gh later, send DELETE /v1/api/oauth2/connections/gh to the agent."}</auth-error>`, "</message>"})

	// The flow stays bound to alice: bob's session is refused and burns
	// nothing; alice's callback then stores her token, once.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cb, err := oe.as.Approve(ctx, authURL, "alice")
	if err != nil {
		t.Fatal(err)
	}
	resp, page := bob.callback(cb)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "oauth_success") || strings.Contains(page, cb.Query().Get("code")) {
		t.Fatalf("bob's callback: %d %s", resp.StatusCode, page)
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 0 {
		t.Fatalf("bob's callback redeemed the code %d times", n)
	}
	if resp, page = alice.callback(cb); resp.StatusCode != http.StatusOK || !strings.Contains(page, "oauth_success") {
		t.Fatalf("alice's late callback: %d %s", resp.StatusCode, page)
	}
	resp, page = alice.callback(cb)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "oauth_success") {
		t.Fatalf("replayed state: %d %s", resp.StatusCode, page)
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 1 {
		t.Fatalf("code redeemed %d times", n)
	}
}

func TestOAuthTwoUsersNeverShareTokens(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	for _, user := range []string{"alice", "bob"} {
		b := oe.browser(t, user)
		c := b.dial("/v1/ws/messages/" + user)
		c.Metadata()
		readOpen(t, c)
		b.completeSignIn(c, c.Read())
		c.Read() // </message>
		oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
		c.Send(prompt("who"))
		c.Turn()
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

func TestOAuthPreRegisteredClientFromSecret(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{preRegister: true, secretFn: func(as *oauthtest.AuthServer) map[string][]byte {
		return map[string][]byte{
			"clientID": []byte("pre"), "clientSecret": []byte("pre-secret"),
			"scope": []byte("mcp:read"), "metadataEndpoint": []byte(as.MetadataURL),
		}
	}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/pre")
	c.Metadata()
	readOpen(t, c)
	frame := c.Read()
	u, _ := authRequest(t, frame)
	q := mustQuery(t, u)
	if q.Get("client_id") != "pre" || q.Get("scope") != "mcp:read offline_access" {
		t.Fatalf("authorization URL %s", u)
	}
	b.completeSignIn(c, frame)
	c.Read()
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
	c.Send(prompt("who"))
	c.Turn()
	claims, _ := oauthtest.ParseUnverifiedClaims(oe.tokensOf(t, "alice").AccessToken)
	if claims.ClientID != "pre" || !slices.Equal(oe.mcp.Calls(), []string{"alice"}) {
		t.Fatalf("claims %+v calls %v", claims, oe.mcp.Calls())
	}
}

func TestOAuthBadSecretOrServerIsThatAgentsError(t *testing.T) {
	ms := startMath(t)
	oe := newOAuthEnv(t, oauthOpts{
		secret: map[string][]byte{"clientSecret": []byte("orphan")},
		others: []agentconfig.Agent{newAgent("math", ms.url())},
	})
	bad := ghAgent("http://127.0.0.1:1/mcp", map[string][]byte{"metadataEndpoint": []byte("http://127.0.0.1:1/.well-known/oauth-authorization-server")})
	bad.Name = "down"
	*oe.source = append(*oe.source, bad)
	c := oe.browser(t, "alice").dial("/v1/ws/messages/bad")
	md := c.Metadata()
	st := map[string]map[string]any{}
	for _, a := range md["agents"].([]any) {
		st[a.(map[string]any)["name"].(string)] = a.(map[string]any)
	}
	// One sentence each, naming the agent and what to do; the chain (the
	// Secret's missing clientID, the refused connection) is in the log.
	if st["gh"]["status"] != "error" || st["gh"]["description"] != `Agent "gh" cannot sign in: its OAuth2 Secret is invalid; ask the administrator to fix it.` {
		t.Fatalf("gh = %v", st["gh"])
	}
	if st["down"]["status"] != "unknown" || st["down"]["description"] != `Agent "down" cannot reach its authorization server right now; try again later, and tell the administrator if it persists.` || st["math"]["status"] != "active" {
		t.Fatalf("agents = %v", st)
	}
	t.Logf("agents: %v", st)
	for name, a := range st {
		d, _ := a["description"].(string)
		for _, chain := range []string{"oauth: ", "mcp: ", "Post \"", "dial tcp", "calling \"", "127.0.0.1", "connection refused"} {
			if strings.Contains(d, chain) {
				t.Errorf("agent %s: description %q carries the error chain (%q)", name, d, chain)
			}
		}
	}
	// The working agent is used directly, with no sign-in.
	oe.model.Push(llm.TextEntry("math works"))
	c.Send(prompt("1+1"))
	equalFrames(t, c.Turn(), []string{"<message>", "math works", "</message>"})
}
