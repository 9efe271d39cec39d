package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// rancherAIMCP is an MCP server that behaves like rancher/rancher-ai-mcp
// in OAuth mode (--authz-server-url, --jwks-url, --resource-url; its
// internal/middleware/oauth.go): every scope of its PRM's scopes_supported
// is required, a missing one is a 401 like any other (no 403, no
// insufficient_scope), its challenge carries resource_metadata only, and
// it checks no audience.
var rancherAIMCP = oauthtest.MCPOptions{
	RequiredScopes:  []string{"offline_access", "rancher:mcp"},
	MissingScope401: true,
	PlainChallenge:  true,
	IgnoreAudience:  true,
}

// turnSignIns reads one turn's frames up to </message>, completing every
// <authentication> as b's user; it returns the authorization URLs asked
// for and the other frames.
func turnSignIns(t *testing.T, b *browser, c *chattest.Client) (auths []string, other []string) {
	t.Helper()
	for {
		f := c.Read()
		switch {
		case f == "</message>":
			return auths, other
		case strings.HasPrefix(f, "<authentication>"):
			u, _ := authRequest(t, f)
			auths = append(auths, u)
			b.completeSignIn(c, f)
		default:
			other = append(other, f)
		}
	}
}

// When the access token lacks a scope rancher-ai-mcp requires, every token
// gets its 401: the user is asked to sign in at most once per turn, and the
// turn ends with a sentence instead of a loop.
func TestOAuthRancherAIMCPMissingScopeSignsInOncePerTurn(t *testing.T) {
	// oidc-provider grants offline_access (a refresh token) but keeps it
	// out of the resource's access token: rancher-ai-mcp refuses it.
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{Scopes: []string{"rancher:mcp"}}, mcp: rancherAIMCP})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/rancher")
	c.Metadata()
	readOpen(t, c)
	auths, other := turnSignIns(t, b, c)
	if len(auths) > 1 {
		t.Fatalf("eager turn: %d sign-ins, want at most 1 (frames %q)", len(auths), other)
	}
	t.Logf("eager turn: %d sign-in(s), frames %q", len(auths), other)
	for i := range 2 {
		oe.model.Push(call("whoami", `{}`), llm.TextEntry("you are alice"))
		c.Send(prompt("who am I?"))
		readOpen(t, c)
		auths, other := turnSignIns(t, b, c)
		if len(auths) > 1 {
			t.Fatalf("turn %d: %d sign-ins, want at most 1 (frames %q)", i+1, len(auths), other)
		}
		t.Logf("turn %d: %d sign-in(s), frames %q", i+1, len(auths), other)
	}
	if got := oe.mcp.Calls(); len(got) != 0 {
		t.Fatalf("tool calls %q went through without rancher:mcp", got)
	}
}

// With the scopes rancher-ai-mcp lists (offline_access and rancher:mcp),
// the agent asks for both, with prompt=consent as OpenID Connect requires
// for offline_access; the user signs in once, and every later turn's tool
// call goes through with that token.
func TestOAuthRancherAIMCPSignsInOnceAndCallsTools(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{Scopes: []string{"offline_access", "rancher:mcp"}}, mcp: rancherAIMCP})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/rancher")
	c.Metadata()
	readOpen(t, c)
	auths, other := turnSignIns(t, b, c)
	if len(auths) != 1 {
		t.Fatalf("eager turn: %d sign-ins, want 1 (frames %q)", len(auths), other)
	}
	u, err := url.Parse(auths[0])
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if scopes := strings.Fields(q.Get("scope")); !slices.Contains(scopes, "offline_access") || !slices.Contains(scopes, "rancher:mcp") || q.Get("prompt") != "consent" {
		t.Fatalf("authorization request scope %q prompt %q, want offline_access and rancher:mcp with prompt=consent", q.Get("scope"), q.Get("prompt"))
	}
	for i := range 2 {
		oe.model.Push(call("whoami", `{}`), llm.TextEntry("you are alice"))
		c.Send(prompt("who am I?"))
		readOpen(t, c)
		if auths, other := turnSignIns(t, b, c); len(auths) != 0 {
			t.Fatalf("turn %d asked to sign in again (frames %q)", i+1, other)
		}
	}
	if got := oe.mcp.Calls(); !slices.Equal(got, []string{"alice", "alice"}) {
		t.Fatalf("tool calls at rancher-ai-mcp by %q, want two by alice", got)
	}
}
