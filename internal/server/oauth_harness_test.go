package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/server"
)

// oauthEnv is an ai-agent with OAuth2, a real authorization server
// (oidc-provider) and a go-sdk MCP server that validates its tokens.
type oauthEnv struct {
	*env
	as     *oauthtest.AuthServer
	mcp    *oauthtest.ProtectedMCP
	svc    *oauth.Service
	tools  *mcp.Manager
	vault  *oauth.Vault
	sealer *oauth.Sealer

	mu   sync.Mutex
	skew time.Duration // added to the service's clock
}

type oauthOpts struct {
	as         oauthtest.ASOptions
	mcp        oauthtest.MCPOptions
	secret     map[string][]byte
	signIn     time.Duration
	refreshAck time.Duration
	others     []agentconfig.Agent
	// secretFn builds the gh Secret once the AS runs (nil: use secret).
	secretFn func(as *oauthtest.AuthServer) map[string][]byte
	// preRegister adds a static confidential client "pre" for our callback.
	preRegister bool
	// derivedRedirect leaves OAUTH_REDIRECT_URI unset: the redirect URI
	// comes from the allowed origins (rancherOrigin and the server's own)
	// and Rancher's URL (rancherOrigin).
	derivedRedirect bool
	// autoApprove is the gh agent's autoApproveTools.
	autoApprove []string
	// outbound bounds requests made on a user's behalf (default 10s).
	outbound time.Duration
	log      *slog.Logger
}

func ghAgent(url string, secret map[string][]byte) agentconfig.Agent {
	a := newAgent("gh", url)
	a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
	a.Spec.AuthenticationSecret = "gh-auth"
	if secret == nil {
		secret = map[string][]byte{}
	}
	a.AuthSecret = secret
	return a
}

func newOAuthEnv(t testing.TB, o oauthOpts) *oauthEnv {
	t.Helper()
	oe := &oauthEnv{}
	// Like real MCP servers, ask for a scope: oidc-provider refuses an
	// authorization that grants none.
	if o.as.Scopes == nil {
		o.as.Scopes = []string{"mcp:read", "mcp:write"}
	}
	if o.mcp.RequiredScopes == nil {
		o.mcp.RequiredScopes = []string{"mcp:read"}
	}
	ln := listen(t)
	if o.preRegister {
		o.as.Clients = append(o.as.Clients, oauthtest.Client{ID: "pre", Secret: "pre-secret",
			RedirectURIs: []string{"http://" + ln.Addr().String() + "/v1/api/oauth2/callback"}})
	}
	oe.as = oauthtest.StartAuthServer(t, o.as)
	oe.mcp = oauthtest.StartProtectedMCP(t, oe.as, o.mcp)
	if o.secretFn != nil {
		o.secret = o.secretFn(oe.as)
	}
	gh := ghAgent(oe.mcp.URL, o.secret)
	gh.Spec.AutoApproveTools = o.autoApprove
	list := append([]agentconfig.Agent{gh}, o.others...)
	oe.env = newEnvOn(t, ln, func(e *env, tools *mcp.Manager, base string) (map[string]http.Handler, agent.CredentialProvider, agent.Authenticator) {
		sealer, _ := oauth.NewSealer(oauth.GenerateKey())
		oe.vault, oe.sealer = oauth.NewVault(e.store, sealer, oe.now), sealer
		so := oauth.ServiceOptions{
			Vault: oe.vault, Sealer: sealer,
			Agents:   sourceFunc(func() []agentconfig.Agent { return *e.source }),
			Endpoint: tools.EndpointURL, RedirectURI: base + "/v1/api/oauth2/callback",
			SignInTimeout: o.signIn, RefreshReplyTimeout: o.refreshAck, Now: oe.now,
			OutboundTimeout: o.outbound, Logger: o.log,
		}
		if o.derivedRedirect {
			policy, err := origins.New(rancherOrigin, base)
			if err != nil {
				t.Fatal(err)
			}
			so.RedirectURI, so.Origins, so.BaseURL = "", policy, rancherOrigin
		}
		svc, err := oauth.NewService(so)
		if err != nil {
			t.Fatal(err)
		}
		oe.svc, oe.tools = svc, tools
		routes := svc.Routes(server.OAuthUser)
		return routes, server.OAuthAgent{Service: svc}, server.OAuthAgent{Service: svc}
	}, list...)
	return oe
}

func (oe *oauthEnv) now() time.Time {
	oe.mu.Lock()
	defer oe.mu.Unlock()
	return time.Now().Add(oe.skew)
}

func (oe *oauthEnv) setSkew(d time.Duration) { oe.mu.Lock(); oe.skew = d; oe.mu.Unlock() }

// browser plays the Rancher AI UI's side of the OAuth flow for one user.
type browser struct {
	t       testing.TB
	oe      *oauthEnv
	user    string
	cookies map[string]string
	hc      *http.Client
}

func (oe *oauthEnv) browser(t testing.TB, user string) *browser {
	return &browser{t: t, oe: oe, user: user, cookies: map[string]string{"R_SESS": "tok-" + user},
		hc: &http.Client{Timeout: 10 * time.Second}}
}

func (b *browser) cookieHeader() string {
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	req.Header.Set("Cookie", b.cookieHeader())
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		b.cookies[c.Name] = c.Value
	}
	return resp, string(body)
}

func (b *browser) dial(path string) *chattest.Client {
	b.t.Helper()
	c, err := b.oe.dialCookie(path, b.cookieHeader())
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// authRequest decodes an <authentication> frame.
func authRequest(t testing.TB, frame string) (authURL, agentName string) {
	t.Helper()
	const o, c = "<authentication>", "</authentication>"
	if !strings.HasPrefix(frame, o) || !strings.HasSuffix(frame, c) {
		t.Fatalf("frame = %q, want <authentication>", frame)
	}
	var v struct{ Type, URL, Agent string }
	if err := json.Unmarshal([]byte(frame[len(o):len(frame)-len(c)]), &v); err != nil || v.Type != "oauth2" {
		t.Fatalf("authentication payload %q: %v", frame, err)
	}
	return v.URL, v.Agent
}

// signIn approves the authorization at the real AS as the browser's user
// and loads the callback page; it returns the callback response.
func (b *browser) signIn(authURL string) (*http.Response, string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cb, err := b.oe.as.Approve(ctx, authURL, b.user)
	if err != nil {
		b.t.Fatalf("approve: %v", err)
	}
	return b.callback(cb)
}

func (b *browser) callback(cb *url.URL) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
	return b.do(req)
}

// completeSignIn answers an <authentication> frame like the UI: popup,
// callback page that posts oauth_success, then authentication_confirmed.
func (b *browser) completeSignIn(c *chattest.Client, frame string) {
	b.t.Helper()
	u, _ := authRequest(b.t, frame)
	resp, page := b.signIn(u)
	if resp.StatusCode != 200 || !strings.Contains(page, "oauth_success") {
		b.t.Fatalf("callback: %d %s", resp.StatusCode, page)
	}
	c.Send("authentication_confirmed")
}

func (oe *oauthEnv) key(user string) oauth.TokenKey {
	return oauth.NewTokenKey("u-"+user, "gh", oe.as.Issuer)
}

func (oe *oauthEnv) tokensOf(t testing.TB, user string) oauth.TokenSet {
	t.Helper()
	ts, err := oe.vault.Get(context.Background(), oe.key(user))
	if err != nil {
		t.Fatalf("tokens of %s: %v", user, err)
	}
	return ts
}

func (oe *oauthEnv) refreshTokenOf(t testing.TB, user string) string {
	return oe.tokensOf(t, user).RefreshToken
}

// deleteTokens makes the server forget a user's tokens (as another replica
// without a shared store, or a restart, would).
func (oe *oauthEnv) deleteTokens(t testing.TB, user string) {
	if err := oe.vault.Delete(context.Background(), oe.key(user)); err != nil {
		t.Fatal(err)
	}
}

// redeem uses a refresh token directly at the AS, as an attacker replaying
// a stolen one would.
func (oe *oauthEnv) redeem(rt string) error {
	ctx := context.Background()
	as, err := oauthproto.FetchASMetadata(ctx, http.DefaultClient, oe.as.MetadataURL)
	if err != nil {
		return err
	}
	ts, err := oe.vault.Get(ctx, oe.key("alice"))
	if err != nil {
		return err
	}
	_, err = oauthproto.Refresh(ctx, http.DefaultClient, rt, oe.mcp.URL, ts.Client, as)
	return err
}

func (oe *oauthEnv) agent(name string) agentconfig.Agent {
	for _, a := range *oe.source {
		if a.Name == name {
			return a
		}
	}
	return agentconfig.Agent{}
}

func identityOf(user string) oauth.Identity { return oauth.Identity{UserID: "u-" + user} }

// clearOAuthCookies forgets the sealed token cookies (a user who cleared them).
func (b *browser) clearOAuthCookies() {
	for k := range b.cookies {
		if strings.HasPrefix(k, "mcp_oauth_") {
			delete(b.cookies, k)
		}
	}
}
