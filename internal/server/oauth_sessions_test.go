package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

func (oe *oauthEnv) approve(t *testing.T, authURL, user string) *url.URL {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cb, err := oe.as.Approve(ctx, authURL, user)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return cb
}

// pendingSignIn opens a chat on the single OAUTH2 agent and returns it with
// its eager <authentication> frame.
func (b *browser) pendingSignIn(chat string) (*chattest.Client, string) {
	b.t.Helper()
	c := b.dial("/v1/ws/messages/" + chat)
	c.Metadata()
	if f := c.Read(); f != "<message>" {
		b.t.Fatalf("frame = %q, want <message>", f)
	}
	return c, c.Read()
}

// askWhoami runs a turn that calls the MCP server's whoami tool.
func (oe *oauthEnv) askWhoami(t *testing.T, c *chattest.Client, answer string) {
	t.Helper()
	oe.model.Push(call("whoami", `{}`), llm.TextEntry(answer))
	c.Send(prompt("who am I?"))
	equalFrames(t, c.Turn(), []string{"<message>", answer, "</message>"})
}

func (b *browser) oauthCookies() []string {
	var out []string
	for k := range b.cookies {
		if strings.HasPrefix(k, "mcp_oauth_") {
			out = append(out, k)
		}
	}
	return out
}

// TestOAuthRefusedCallbackBurnsNothing: someone who gets hold of the
// callback URL (another user's Rancher session, or none) is refused and
// consumes nothing; the user who started the sign-in still finishes it.
func TestOAuthRefusedCallbackBurnsNothing(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	alice, bob, anonymous := oe.browser(t, "alice"), oe.browser(t, "bob"), oe.browser(t, "nobody")
	delete(anonymous.cookies, "R_SESS")
	c, frame := alice.pendingSignIn("burn")
	authURL, _ := authRequest(t, frame)
	cb := oe.approve(t, authURL, "alice")
	for _, attacker := range []*browser{bob, anonymous, bob} {
		resp, page := attacker.callback(cb)
		if resp.StatusCode < 400 || strings.Contains(page, "oauth_success") || strings.Contains(page, cb.Query().Get("code")) {
			t.Fatalf("%s's callback: %d %s", attacker.user, resp.StatusCode, page)
		}
		if got := attacker.oauthCookies(); len(got) != 0 {
			t.Fatalf("%s got cookies %v", attacker.user, got)
		}
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 0 {
		t.Fatalf("a refused callback redeemed the code (%d token requests)", n)
	}
	resp, page := alice.callback(cb)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "oauth_success") {
		t.Fatalf("alice's callback after the attacks: %d %s", resp.StatusCode, page)
	}
	checkCookies(t, resp)
	c.Send("authentication_confirmed")
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after sign-in got %q", f)
	}
	oe.askWhoami(t, c, "You are alice.")
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("MCP calls by %v", got)
	}
	// The state is single use: a replay, even by alice, is refused.
	if resp, page := alice.callback(cb); resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "oauth_success") {
		t.Fatalf("replayed state: %d %s", resp.StatusCode, page)
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 1 {
		t.Fatalf("code redeemed %d times, want 1", n)
	}
}

// TestOAuthNewSignInReplacesThePendingOne: a user has one pending sign-in
// per agent; starting another (a second tab) makes the first one's state
// worthless, and the new one completes.
func TestOAuthNewSignInReplacesThePendingOne(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	alice := oe.browser(t, "alice")
	_, frame := alice.pendingSignIn("tab-1")
	first, _ := authRequest(t, frame)
	c2, second := alice.pendingSignIn("tab-2")

	cb := oe.approve(t, first, "alice")
	if resp, page := alice.callback(cb); resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "oauth_success") {
		t.Fatalf("replaced sign-in's callback: %d %s", resp.StatusCode, page)
	}
	if n := oe.as.TokenRequests().AuthorizationCode; n != 0 {
		t.Fatalf("the replaced sign-in redeemed its code (%d)", n)
	}
	alice.completeSignIn(c2, second)
	if f := c2.Read(); f != "</message>" {
		t.Fatalf("after sign-in got %q", f)
	}
	oe.askWhoami(t, c2, "alice")
}

// TestOAuthCookieFromFormerIssuerIsRefused: the sealed cookies name the
// authorization server that issued their tokens. After the agent moves to
// another authorization server, the old refresh cookie is neither opened
// nor sent to the new server: the user signs in there.
func TestOAuthCookieFromFormerIssuerIsRefused(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	alice := oe.browser(t, "alice")
	c, frame := alice.pendingSignIn("iss-1")
	alice.completeSignIn(c, frame)
	c.Read()
	refresh := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/refresh", strings.NewReader(`{"agent":"gh"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, body := alice.do(req)
		return resp.StatusCode, body
	}
	// With the same issuer the cookie works (the server lost its copy).
	oe.deleteTokens(t, "alice")
	if code, body := refresh(); code != http.StatusOK {
		t.Fatalf("refresh at the same issuer: %d %s", code, body)
	}

	// The administrator points the agent at another authorization server.
	as2 := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read", "mcp:write"}})
	for i, a := range *oe.source {
		if a.Name == "gh" {
			a.Revision = "r2"
			a.AuthSecret = map[string][]byte{"metadataEndpoint": []byte(as2.MetadataURL)}
			(*oe.source)[i] = a
		}
	}
	if code, body := refresh(); code != http.StatusUnauthorized || !strings.Contains(body, "No refresh token available") {
		t.Fatalf("refresh with a former issuer's cookie: %d %s", code, body)
	}
	if n := as2.TokenRequests().Total; n != 0 {
		t.Fatalf("the former issuer's refresh token went to the new one (%d token requests)", n)
	}
	// On a socket, the browser is not asked to refresh: it is asked to sign
	// in at the new authorization server.
	_, frame = alice.pendingSignIn("iss-2")
	authURL, _ := authRequest(t, frame)
	if !strings.HasPrefix(authURL, as2.AuthorizationEndpoint+"?") {
		t.Fatalf("sign-in at %s, want %s", authURL, as2.AuthorizationEndpoint)
	}
	if n := as2.TokenRequests().Total; n != 0 {
		t.Fatalf("token requests at the new issuer: %d", n)
	}
}
