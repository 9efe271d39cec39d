package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// whoamiTurn runs one turn that calls whoami and checks it completed.
func whoamiTurn(t *testing.T, oe *oauthEnv, c *chattest.Client, answer string) {
	t.Helper()
	oe.model.Push(call("whoami", `{}`), llm.TextEntry(answer))
	c.Send(prompt("who"))
	equalFrames(t, c.Turn(), []string{"<message>", answer, "</message>"})
}

// signedInChat opens a chat for user and completes the eager sign-in.
func signedInChat(t *testing.T, oe *oauthEnv, user, path string) *chattest.Client {
	t.Helper()
	b := oe.browser(t, user)
	c := b.dial(path)
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
	return c
}

func ecClientKey(t *testing.T) (pemKey []byte, jwk map[string]any) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	enc := base64.RawURLEncoding.EncodeToString
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		map[string]any{"kty": "EC", "crv": "P-256", "x": enc(k.X.FillBytes(make([]byte, 32))), "y": enc(k.Y.FillBytes(make([]byte, 32))), "alg": "ES256", "use": "sig"}
}

// An agent with grantType client-credentials authenticates as itself: no
// user signs in, and one token serves all its users until it nears expiry.
func TestOAuthClientCredentialsSharedByUsers(t *testing.T) {
	pemKey, jwk := ecClientKey(t)
	for _, tt := range []struct {
		name   string
		client oauthtest.Client
		secret map[string][]byte
	}{
		{"client_secret_basic", oauthtest.Client{ID: "agent-cc", Secret: "cc-secret", GrantTypes: []string{"client_credentials"}},
			map[string][]byte{"clientSecret": []byte("cc-secret")}},
		{"private_key_jwt", oauthtest.Client{ID: "agent-cc", AuthMethod: "private_key_jwt", JWK: jwk, GrantTypes: []string{"client_credentials"}},
			map[string][]byte{"privateKey": pemKey}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			secret := map[string][]byte{"grantType": []byte("client-credentials"), "clientID": []byte("agent-cc"), "scope": []byte("mcp:read")}
			for k, v := range tt.secret {
				secret[k] = v
			}
			oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{Clients: []oauthtest.Client{tt.client}, Scopes: []string{"mcp:read"}}, secret: secret})
			for _, user := range []string{"alice", "bob"} {
				b := oe.browser(t, user)
				c := b.dial("/v1/ws/messages/cc-" + user)
				c.Metadata()
				whoamiTurn(t, oe, c, "the agent")
			}
			if got := oe.mcp.Calls(); !slices.Equal(got, []string{"agent-cc", "agent-cc"}) {
				t.Fatalf("MCP calls by %v, want the agent's identity twice", got)
			}
			if got := oe.as.TokenRequests(); got.ByGrantType["client_credentials"] != 1 || got.Total != 1 {
				t.Fatalf("token requests %+v, want one client_credentials token for both users", got)
			}
			// Renewed before it expires, without anyone signing in.
			oe.setSkew(time.Hour - 10*time.Second)
			b := oe.browser(t, "alice")
			c := b.dial("/v1/ws/messages/cc-later")
			c.Metadata()
			whoamiTurn(t, oe, c, "renewed")
			if got := oe.as.TokenRequests().ByGrantType["client_credentials"]; got != 2 {
				t.Fatalf("client_credentials requests %d, want a renewal", got)
			}
		})
	}
}

// With an authorization server that supports DPoP, the token is bound to a
// key kept sealed with it: requests carry fresh proofs, refreshes too, and
// the token copied out of the store is refused.
func TestOAuthDPoPBoundTokens(t *testing.T) {
	for _, nonce := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "nonces"}[nonce]
		t.Run(name, func(t *testing.T) {
			o := oauthOpts{as: oauthtest.ASOptions{DPoP: true, DPoPNonce: nonce}, mcp: oauthtest.MCPOptions{AdvertiseDPoP: true}}
			if nonce {
				o.mcp.DPoPNonce = "rs-nonce-1"
			}
			oe := newOAuthEnv(t, o)
			c := signedInChat(t, oe, "alice", "/v1/ws/messages/dpop")
			whoamiTurn(t, oe, c, "alice, bound")
			ts := oe.tokensOf(t, "alice")
			claims, _ := oauthtest.ParseUnverifiedClaims(ts.AccessToken)
			if ts.TokenType != oauthproto.TokenTypeDPoP || len(ts.DPoPKey) == 0 || claims.Cnf.JKT == "" {
				t.Fatalf("token type %q, key %d bytes, cnf.jkt %q: want a DPoP-bound token with its key", ts.TokenType, len(ts.DPoPKey), claims.Cnf.JKT)
			}
			if r := oe.mcp.Requests(); r.DPoP == 0 || (nonce && r.Unauthorized == 0) {
				t.Fatalf("MCP requests %+v", r)
			}
			// The access token alone, as copied out of the store, is refused.
			for _, scheme := range []string{"Bearer", "DPoP"} {
				req, _ := http.NewRequest(http.MethodPost, oe.mcp.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
				req.Header.Set("Authorization", scheme+" "+ts.AccessToken)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("stolen token with %s scheme: HTTP %d, want 401", scheme, resp.StatusCode)
				}
			}
			// A refresh of the bound token proves possession too. (The record
			// is made to look expired: proofs carry the service's clock, which
			// the MCP server checks against its own.)
			expired := ts
			expired.Obtained, expired.Expiry = time.Now().Add(-time.Hour), time.Now().Add(-time.Minute)
			if err := oe.vault.Put(context.Background(), oe.key("alice"), expired); err != nil {
				t.Fatal(err)
			}
			a := oe.agent("gh")
			cred, err := oe.svc.Credentials(context.Background(), a, identityOf("alice"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := oe.tools.Call(context.Background(), a, cred, "whoami", nil)
			if err != nil || res.ForModel != "alice" {
				t.Fatalf("after refresh: %q, %v", res.ForModel, err)
			}
			if n := oe.as.TokenRequests().RefreshToken; n != 1 {
				t.Fatalf("refresh requests %d", n)
			}
			nt := oe.tokensOf(t, "alice")
			if nt.AccessToken == ts.AccessToken || nt.TokenType != oauthproto.TokenTypeDPoP || string(nt.DPoPKey) != string(ts.DPoPKey) {
				t.Fatal("refreshed token is not bound to the same key")
			}
		})
	}
}

// signInEmitter is the browser side of a sign-in asked of Service.Authenticate
// directly: it approves at the authorization server and loads the callback.
type signInEmitter struct {
	b    *browser
	urls []string
}

func (e *signInEmitter) Send(context.Context, string) error { return nil }

func (e *signInEmitter) Ask(_ context.Context, frame string, _ ...string) (string, error) {
	u, _ := authRequest(e.b.t, frame)
	e.urls = append(e.urls, u)
	if resp, page := e.b.signIn(u); resp.StatusCode != 200 {
		e.b.t.Fatalf("callback: %d %s", resp.StatusCode, page)
	}
	return "authentication_confirmed", nil
}

// The user signs in once at the enterprise identity provider (here
// oidc-provider, OpenID Connect); every enterprise agent of that provider
// then exchanges that identity (RFC 8693) without asking again. The exchange
// itself is refused by oidc-provider, which has no ID-JAG support (the
// conformance suite's IdP covers it): what is checked is the one sign-in
// and that each agent presented it.
func TestOAuthEnterpriseOneSignInForAllAgents(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{preRegister: true, secretFn: func(as *oauthtest.AuthServer) map[string][]byte {
		return map[string][]byte{
			"grantType": []byte("enterprise"), "clientID": []byte("mcp-client"), "clientSecret": []byte("mcp-secret"),
			"idpIssuer": []byte(as.Issuer), "idpClientID": []byte("pre"), "idpClientSecret": []byte("pre-secret"),
		}
	}})
	em := &signInEmitter{b: oe.browser(t, "alice")}
	refusal := oauth.Refusal{Status: http.StatusUnauthorized, WWWAuthenticate: []string{oe.mcp.Challenge401}}
	a := oe.agent("gh")
	err := oe.svc.Authenticate(context.Background(), chat.Browser{Emitter: em}, a, identityOf("alice"), refusal)
	if len(em.urls) != 1 {
		t.Fatalf("%d sign-ins, want one at the IdP", len(em.urls))
	}
	q := mustQuery(t, em.urls[0])
	if !strings.HasPrefix(em.urls[0], oe.as.AuthorizationEndpoint) || q.Get("client_id") != "pre" || q.Get("scope") != "openid" || q.Has("resource") {
		t.Fatalf("IdP authorization URL %s", em.urls[0])
	}
	var te *oauthproto.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want the IdP's refusal of the token exchange", err)
	}
	after := oe.as.TokenRequests()
	if after.AuthorizationCode != 1 || after.Total != 2 {
		t.Fatalf("token requests %+v, want the sign-in's code exchange and one token exchange", after)
	}
	// Another agent of the same enterprise: no sign-in, the same identity.
	a2 := a
	a2.Name = "gh-2"
	if err := oe.svc.Authenticate(context.Background(), chat.Browser{Emitter: em}, a2, identityOf("alice"), refusal); !errors.As(err, &te) {
		t.Fatalf("second agent: %v", err)
	}
	if got := oe.as.TokenRequests(); len(em.urls) != 1 || got.AuthorizationCode != 1 || got.Total != 3 {
		t.Fatalf("second agent: %d sign-ins, token requests %+v", len(em.urls), got)
	}
}
