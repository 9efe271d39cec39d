package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// BenchmarkOAuthSignIn times the server side of a first sign-in through the
// chat: from the connection's <chat-metadata> to <authentication> (a new
// PKCE flow and its pending state), then from the callback request (state
// check, code exchange at the authorization server, sealed vault write,
// cookies, page) to </message> after authentication_confirmed. The user's
// time at the authorization server (Approve) is not timed; the token
// endpoint's own time is included.
func BenchmarkOAuthSignIn(b *testing.B) {
	oe := newOAuthEnv(b, oauthOpts{})
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		br := oe.browser(b, fmt.Sprintf("user%d", i))
		c := br.dial(fmt.Sprintf("/v1/ws/messages/si-%d", i))
		c.Metadata()
		b.StartTimer()
		c.Read() // <message>
		authURL, _ := authRequest(b, c.Read())
		b.StopTimer()
		cb, err := oe.as.Approve(ctx, authURL, br.user)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		resp, _ := br.callback(cb)
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
		c.Send("authentication_confirmed")
		if f := c.Read(); f != "</message>" {
			b.Fatal(f)
		}
		b.StopTimer()
		c.WS.CloseNow()
		b.StartTimer()
	}
}

// BenchmarkOAuthRefresh times POST /v1/api/oauth2/refresh: the vault read,
// the refresh at the authorization server (rotating), the sealed write and
// the new cookies; "dpop" with a DPoP-bound token (RFC 9449: a proof signed
// per token request, the key unsealed with the token).
func BenchmarkOAuthRefresh(b *testing.B) {
	for _, dpop := range []bool{false, true} {
		b.Run(map[bool]string{false: "bearer", true: "dpop"}[dpop], func(b *testing.B) {
			oe := newOAuthEnv(b, oauthOpts{as: oauthtest.ASOptions{DPoP: dpop}, mcp: oauthtest.MCPOptions{AdvertiseDPoP: dpop}})
			br := oe.browser(b, "alice")
			c := br.dial("/v1/ws/messages/rf")
			c.Metadata()
			c.Read()
			authURL, _ := authRequest(b, c.Read())
			cb, err := oe.as.Approve(context.Background(), authURL, "alice")
			if err != nil {
				b.Fatal(err)
			}
			br.callback(cb)
			c.Send("authentication_confirmed")
			c.Read()
			if got := oe.tokensOf(b, "alice").TokenType; (got == oauthproto.TokenTypeDPoP) != dpop {
				b.Fatalf("token type %q", got)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// A token obtained a moment ago is shared instead of refreshed
				// again (refresh coalescing): age it, untimed.
				b.StopTimer()
				ts := oe.tokensOf(b, "alice")
				ts.Obtained = time.Now().Add(-time.Hour)
				if err := oe.vault.Put(context.Background(), oe.key("alice"), ts); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/refresh", strings.NewReader(`{"agent":"gh"}`))
				req.Header.Set("Content-Type", "application/json")
				if resp, body := br.do(req); resp.StatusCode != 200 {
					b.Fatalf("%d %s", resp.StatusCode, body)
				}
			}
			b.StopTimer()
			if n := oe.as.TokenRequests().RefreshToken; n != b.N {
				b.Fatalf("refresh requests %d, want %d", n, b.N)
			}
		})
	}
}
