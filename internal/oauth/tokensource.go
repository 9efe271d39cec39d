package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// tokenSource gives the current access token of one TokenKey, obtaining a
// new one when the stored one is missing or about to expire (the shape of
// golang.org/x/oauth2's TokenSource, with a context). There is one per
// grant; reuseSource keeps their tokens in memory.
type tokenSource interface {
	Token(ctx context.Context) (TokenSet, error)
}

// errSignInNeeded is a source with no token to send and none to obtain
// without the user: the request goes without one, and the MCP server's 401
// starts the sign-in (Service.Authenticate).
var errSignInNeeded = errors.New("oauth: sign-in needed")

// grant is what every token source knows: whose token (key), for which
// agent and authorization server, under which Secret.
type grant struct {
	s   *Service
	a   agentconfig.Agent
	key TokenKey
	d   *oauthproto.Discovery
	cfg AgentConfig
}

// newTokenSource returns the token source of the agent's grant (the Secret's
// grantType); the authorization code grant is the default.
func newTokenSource(g grant) tokenSource {
	switch g.cfg.GrantType {
	case GrantClientCredentials:
		return clientCredentialsSource{g}
	case GrantWorkloadIdentity:
		return workloadIdentitySource{g}
	case GrantEnterprise:
		return enterpriseSource{g}
	}
	return authCodeSource{g}
}

// authCodeSource is the token of a user's sign-in (authorization code
// grant, RFC 6749 §4.1): the stored token, refreshed (RFC 6749 §6, single
// flight) when it is about to expire. It never signs in.
type authCodeSource struct{ grant }

// Token returns the stored token, refreshed when expired. Without one, or
// when the refresh token is refused, it is errSignInNeeded; when a refresh
// fails for a transient reason the stale token is returned (the MCP server
// may still accept it, else its 401 leads to Authenticate).
func (g authCodeSource) Token(ctx context.Context) (TokenSet, error) {
	s := g.s
	t, err := s.o.Vault.Get(ctx, g.key)
	if err != nil {
		return TokenSet{}, fmt.Errorf("%w: %w", errSignInNeeded, err)
	}
	if !t.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return t, nil
	}
	if t.RefreshToken == "" {
		return TokenSet{}, fmt.Errorf("%w: %w", errSignInNeeded, ErrNoToken)
	}
	nt, err := s.refresh(ctx, g.a, g.key, g.d, g.cfg, refreshOpts{Stale: t.AccessToken})
	switch {
	case err == nil:
		return nt, nil
	case errors.Is(err, ErrNoToken) || errors.Is(err, oauthproto.ErrInvalidGrant):
		return TokenSet{}, fmt.Errorf("%w: %w", errSignInNeeded, err)
	}
	return t, nil
}

// clientCredentialsSource is the agent's own token (RFC 6749 §4.4), shared
// by its users.
type clientCredentialsSource struct{ grant }

func (g clientCredentialsSource) Token(ctx context.Context) (TokenSet, error) {
	return g.obtain(ctx, func(ctx context.Context, hc *http.Client, ci oauthproto.ClientInfo) (*oauth2.Token, error) {
		return oauthproto.ClientCredentials(ctx, hc, ci, &g.d.AuthServer, g.d.Resource, g.cfg.Scopes)
	})
}

// workloadIdentitySource exchanges the pod's projected service-account
// token for the agent's token (RFC 7523 JWT bearer grant).
type workloadIdentitySource struct{ grant }

func (g workloadIdentitySource) Token(ctx context.Context) (TokenSet, error) {
	return g.obtain(ctx, func(ctx context.Context, hc *http.Client, ci oauthproto.ClientInfo) (*oauth2.Token, error) {
		// The kubelet rotates the projected token; read it each time.
		b, err := os.ReadFile(g.cfg.TokenPath)
		if err != nil {
			return nil, fmt.Errorf("workload identity token: %w", err)
		}
		return oauthproto.JWTBearer(ctx, hc, strings.TrimSpace(string(b)), ci, &g.d.AuthServer, g.d.Resource, g.cfg.Scopes)
	})
}

// enterpriseSource exchanges the user's sign-in at the enterprise identity
// provider (RFC 8693) for an identity assertion grant (ID-JAG), redeemed by
// JWT bearer (RFC 7523) at the MCP server's authorization server. Without
// that sign-in it is errSignInNeeded matching ErrEnterpriseSignIn.
type enterpriseSource struct{ grant }

func (g enterpriseSource) Token(ctx context.Context) (TokenSet, error) {
	t, err := g.obtain(ctx, func(ctx context.Context, hc *http.Client, ci oauthproto.ClientInfo) (*oauth2.Token, error) {
		idp, _, err := oauthproto.FetchTokenServerMetadata(ctx, hc, g.cfg.IdPIssuer)
		if err != nil {
			return nil, fmt.Errorf("enterprise identity provider: %w", err)
		}
		id, err := g.s.o.Vault.Get(ctx, idpIdentityKey(g.key.User, idp.Issuer))
		if errors.Is(err, ErrNoToken) || (err == nil && (id.IDToken == "" || id.Expired(g.s.o.Now(), 0))) {
			return nil, ErrEnterpriseSignIn
		}
		if err != nil {
			return nil, err
		}
		idc := oauthproto.ClientInfo{ClientID: g.cfg.IdPClientID, ClientSecret: g.cfg.IdPClientSecret,
			AuthMethod: oauthproto.ChooseAuthMethod(idp.TokenEndpointAuthMethodsSupported, g.cfg.IdPClientSecret != "")}
		jag, err := oauthproto.RequestIDJAG(ctx, hc, idp.TokenEndpoint, id.IDToken, idc, g.d.Issuer, g.d.Resource, g.cfg.Scopes)
		if err != nil {
			return nil, err
		}
		return oauthproto.JWTBearer(ctx, hc, jag, ci, &g.d.AuthServer, g.d.Resource, g.cfg.Scopes)
	})
	if errors.Is(err, ErrEnterpriseSignIn) {
		return TokenSet{}, fmt.Errorf("%w: %w", errSignInNeeded, err)
	}
	return t, err
}

// exchangeFunc makes a grant's token request with the agent's client
// identity ci over hc (which sends DPoP proofs when the token is bound).
type exchangeFunc func(ctx context.Context, hc *http.Client, ci oauthproto.ClientInfo) (*oauth2.Token, error)

// obtain returns the stored token of an agent grant, obtaining a new one
// with exchange when there is none or it is about to expire: renewal
// happens before expiry, on use, once for all concurrent requests (the
// vault lock, across replicas).
func (g grant) obtain(ctx context.Context, exchange exchangeFunc) (TokenSet, error) {
	s := g.s
	t, err := s.o.Vault.Get(ctx, g.key)
	if err == nil && !t.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return t, nil
	}
	if err != nil && !errors.Is(err, ErrNoToken) {
		return TokenSet{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	unlock, err := s.o.Vault.Lock(ctx, g.key)
	if err != nil {
		return TokenSet{}, fmt.Errorf("oauth: grant lock: %w", err)
	}
	defer unlock()
	cur, err := s.o.Vault.Get(ctx, g.key)
	if err == nil && !cur.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return cur, nil
	}
	hc, err := s.httpClient(g.a)
	if err != nil {
		return TokenSet{}, err
	}
	k, der, err := s.dpopFor(cur, g.d, g.cfg)
	if err != nil {
		return TokenSet{}, err
	}
	hc = oauthproto.DPoPClient(hc, k, s.o.Now)
	ci, err := grantClient(g.cfg, g.d)
	if err == nil {
		var tok *oauth2.Token
		if tok, err = exchange(ctx, hc, ci); err == nil {
			nt := fromOAuth2(tok, g.d, ci, g.cfg.Scopes, s.o.Now())
			nt.DPoPKey = der
			if err := s.o.Vault.Put(ctx, g.key, nt); err != nil {
				return TokenSet{}, err
			}
			return nt, nil
		}
	}
	return TokenSet{}, fmt.Errorf("agent %q: %s grant: %w", g.a.Name, g.cfg.GrantType, err)
}
