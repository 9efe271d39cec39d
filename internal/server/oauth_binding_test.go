package server_test

import (
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// eagerSignIns opens a chat for user and answers every <authentication> of
// the eager sign-in until </message>; it returns the chat, how many sign-ins
// the user was asked for and the other frames.
func eagerSignIns(t *testing.T, oe *oauthEnv, user, path string) (c *chattest.Client, n int, other []string) {
	t.Helper()
	b := oe.browser(t, user)
	c = b.dial(path)
	c.Metadata()
	readOpen(t, c)
	for {
		f := c.Read()
		switch {
		case f == "</message>":
			return c, n, other
		case strings.HasPrefix(f, "<authentication>"):
			n++
			b.completeSignIn(c, f)
		default:
			other = append(other, f)
		}
	}
}

// The binding of a token follows what the MCP server (resource server)
// accepts, never what the authorization server advertises alone: the
// authorization server here is oidc-provider with DPoP on (it advertises
// dpop_signing_alg_values_supported) in every case.
func TestOAuthTokenBindingFollowsResourceServer(t *testing.T) {
	for _, tt := range []struct {
		name     string
		mcp      oauthtest.MCPOptions
		binding  string
		wantDPoP bool
		signIns  int
		// refreshes are the refresh_token requests the AS must see.
		refreshes int
	}{
		// go-sdk's auth.RequireBearerToken: Bearer only.
		{name: "bearer-only server", mcp: oauthtest.MCPOptions{BearerOnly: true}, wantDPoP: false, signIns: 1},
		{name: "server advertises DPoP", mcp: oauthtest.MCPOptions{AdvertiseDPoP: true}, wantDPoP: true, signIns: 1},
		{name: "tokenBinding bearer", mcp: oauthtest.MCPOptions{AdvertiseDPoP: true}, binding: "bearer", wantDPoP: false, signIns: 1},
		// The default server checks DPoP proofs but does not say it takes them.
		{name: "tokenBinding dpop", mcp: oauthtest.MCPOptions{}, binding: "dpop", wantDPoP: true, signIns: 1},
		{name: "silent DPoP server, auto", mcp: oauthtest.MCPOptions{}, wantDPoP: false, signIns: 1},
		// A server whose PRM says DPoP but whose endpoint is go-sdk's
		// Bearer-only middleware: the DPoP-bound token is refused with a
		// Bearer challenge, and one Bearer token is obtained by a refresh
		// without DPoP proofs (no second sign-in), then never again.
		{name: "DPoP refused with a Bearer challenge", mcp: oauthtest.MCPOptions{AdvertiseDPoP: true, BearerOnly: true}, wantDPoP: false, signIns: 1, refreshes: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := oauthOpts{as: oauthtest.ASOptions{DPoP: true}, mcp: tt.mcp}
			if tt.binding != "" {
				o.secret = map[string][]byte{"tokenBinding": []byte(tt.binding)}
			}
			oe := newOAuthEnv(t, o)
			c, n, other := eagerSignIns(t, oe, "alice", "/v1/ws/messages/bind")
			if n != tt.signIns || len(other) != 0 {
				t.Fatalf("sign-ins %d (want %d), other frames %q", n, tt.signIns, other)
			}
			whoamiTurn(t, oe, c, "alice, "+tt.name)
			whoamiTurn(t, oe, c, "again") // no sign-in, no loop
			ts := oe.tokensOf(t, "alice")
			claims, _ := oauthtest.ParseUnverifiedClaims(ts.AccessToken)
			bound := strings.EqualFold(ts.TokenType, oauthproto.TokenTypeDPoP)
			if bound != tt.wantDPoP || (len(ts.DPoPKey) > 0) != tt.wantDPoP || (claims.Cnf.JKT != "") != tt.wantDPoP {
				t.Fatalf("token type %q, key %d bytes, cnf.jkt %q; want DPoP-bound %v", ts.TokenType, len(ts.DPoPKey), claims.Cnf.JKT, tt.wantDPoP)
			}
			if r := oe.mcp.Requests(); (r.DPoP > 0) != (tt.wantDPoP && !tt.mcp.BearerOnly) {
				t.Fatalf("MCP requests %+v", r)
			}
			if got := oe.as.TokenRequests().RefreshToken; got != tt.refreshes {
				t.Fatalf("refresh requests %d, want %d", got, tt.refreshes)
			}
			if got := oe.mcp.Calls(); len(got) != 2 {
				t.Fatalf("tool calls %q, want 2", got)
			}
		})
	}
}
