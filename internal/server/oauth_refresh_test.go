package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

func TestOAuthSilentRefreshIsSingleFlight(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{RotateRefreshTokens: true}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/sf")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
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
	c.Send(prompt("who"))
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	equalFrames(t, c.Turn(), []string{"back", "</message>"})
}

func TestOAuthMidSession401RefreshesAndRetries(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/mid")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
	// A minute later (past the refresh coalescing window, far from expiry
	// by our clock) the MCP server, whose clock runs ahead, holds the token
	// expired and refuses it.
	oe.setSkew(time.Minute)
	oe.mcp.Expire(oe.tokensOf(t, "alice").AccessToken)
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("still alice"))
	c.Send(prompt("who"))
	equalFrames(t, c.Turn(), []string{"<message>", "still alice", "</message>"})
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
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
	// The server lost its copy (another replica, a restart of the memory store):
	// the browser's sealed refresh cookie is used through <token-refresh>.
	oe.deleteTokens(t, "alice")
	c2 := b.dial("/v1/ws/messages/tr2")
	c2.Metadata()
	readOpen(t, c2)
	if f := c2.Read(); f != `<token-refresh>{"agent":"gh"}</token-refresh>` {
		t.Fatalf("frame = %q", f)
	}
	req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/refresh", strings.NewReader(`{"agent":"gh"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body := b.do(req)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	checkCookies(t, resp)
	c2.Send("token_refresh_confirmed")
	if f := c2.Read(); f != "</message>" {
		t.Fatalf("after refresh got %q", f)
	}
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("ok"))
	c2.Send(prompt("who"))
	c2.Turn()
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
	req.Header.Set("Content-Type", "application/json")
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
	c.Metadata()
	readOpen(t, c)
	first := c.Read()
	u1, _ := authRequest(t, first)
	if s := mustQuery(t, u1).Get("scope"); strings.Contains(s, "mcp:write") {
		t.Fatalf("first sign-in asked for %q", s)
	}
	b.completeSignIn(c, first)
	c.Read()
	oe.model.Push(call("write", `{"text":"x"}`), llm.TextEntry("done"))
	c.Send(prompt("write x"))
	readOpen(t, c)
	second := c.Read()
	u2, _ := authRequest(t, second)
	if s := mustQuery(t, u2).Get("scope"); !strings.Contains(s, "mcp:read") || !strings.Contains(s, "mcp:write") {
		t.Fatalf("step-up asked for %q", s)
	}
	b.completeSignIn(c, second)
	equalFrames(t, c.Turn(), []string{"done", "</message>"})
	last := oe.model.Requests()[1].Messages
	if got := modeltext.ToolResultData(last[len(last)-1].Content); got != "wrote x" {
		t.Fatalf("tool result = %q", got)
	}
}

func TestOAuthStepUpStopsAfterThreeAttempts(t *testing.T) {
	// The AS never grants mcp:write, so every step-up ends in another 403.
	oe := newOAuthEnv(t, oauthOpts{
		as:  oauthtest.ASOptions{Scopes: []string{"mcp:read"}},
		mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, WriteScope: "mcp:write"},
	})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/limit")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
	oe.model.Push(call("write", `{"text":"x"}`), llm.TextEntry("could not write"))
	c.Send(prompt("write x"))
	readOpen(t, c)
	for i := 0; i < 3; i++ {
		b.completeSignIn(c, c.Read())
	}
	equalFrames(t, c.Turn(), []string{"could not write", "</message>"})
	last := oe.model.Requests()[1].Messages
	if tm := last[len(last)-1]; tm.Role != "tool" || !tm.IsError || !strings.Contains(tm.Content, "403") && !strings.Contains(strings.ToLower(tm.Content), "forbidden") {
		t.Fatalf("tool result = %+v", tm)
	}
	if got := oe.mcp.Requests().Forbidden; got != 4 {
		t.Fatalf("403s = %d, want 4 (first call and three retries)", got)
	}
}
