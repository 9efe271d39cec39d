package oauth

import (
	"context"
	"crypto/sha256"
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

// ErrEnterpriseSignIn is matched when an enterprise-managed agent is used by
// a user who has not signed in at the enterprise identity provider.
var ErrEnterpriseSignIn = errors.New("oauth: no sign-in at the enterprise identity provider")

// agentUser is the TokenKey.User of tokens that belong to an agent (client
// credentials, workload identity), shared by all its users. Rancher user IDs
// never contain a NUL byte.
const agentUser = "\x00agent"

// idpAgent is the TokenKey.Agent of a user's enterprise IdP sign-in: one
// per (user, IdP), used by every agent of that enterprise.
const idpAgent = "\x00enterprise-idp"

// tokenKey is the vault key of user u's token for agent a at issuer: per
// user, or per agent for grants that act as the agent.
func tokenKey(cfg AgentConfig, a agentconfig.Agent, u Identity, issuer string) TokenKey {
	if cfg.actsAsAgent() {
		return TokenKey{User: agentUser, Agent: a.Name, Issuer: issuer}
	}
	return TokenKey{User: u.UserID, Agent: a.Name, Issuer: issuer}
}

// PutIdentity keeps user's ID token from the enterprise identity provider
// idpIssuer (the result of the one enterprise sign-in), for every
// GrantEnterprise agent of that provider. The chat's sign-in at the IdP
// (enterpriseSignIn) keeps it the same way.
func (s *Service) PutIdentity(ctx context.Context, user, idpIssuer, idToken string) error {
	if idToken == "" {
		return fmt.Errorf("%w: empty ID token", ErrEnterpriseSignIn)
	}
	now := s.o.Now()
	return s.o.Vault.Put(ctx, idpIdentityKey(user, idpIssuer),
		TokenSet{IDToken: idToken, TokenType: "id_token", Obtained: now, Expiry: now.Add(time.Hour)})
}

// idpIdentityKey is where a user's sign-in at an identity provider is kept.
func idpIdentityKey(user, idpIssuer string) TokenKey {
	return TokenKey{User: user, Agent: idpAgent, Issuer: idpIssuer}
}

// enterpriseSignIn signs the user in at the agent's enterprise identity
// provider (OpenID Connect authorization code flow with PKCE, scope openid,
// through the chat like any sign-in) and then obtains the agent's token
// from that identity. Other agents of the same provider reuse the identity
// without asking the user.
func (s *Service) enterpriseSignIn(ctx context.Context, br Browser, a agentconfig.Agent, u Identity, d *oauthproto.Discovery, cfg AgentConfig) error {
	hc, err := s.httpClient(a)
	if err != nil {
		return err
	}
	idp, _, err := oauthproto.FetchASMetadataForIssuer(ctx, hc, cfg.IdPIssuer)
	if err != nil {
		return fmt.Errorf("agent %q: enterprise identity provider: %w", a.Name, err)
	}
	idpDisc := &oauthproto.Discovery{Issuer: idp.Issuer, AuthServer: *idp}
	idpCfg := AgentConfig{ClientID: cfg.IdPClientID, ClientSecret: cfg.IdPClientSecret}
	if err := s.signIn(ctx, br, a, u, idpIdentityKey(u.UserID, idp.Issuer), idpDisc, idpCfg, []string{"openid"}); err != nil {
		return err
	}
	return s.renewGrant(ctx, a, u, d, cfg)
}

// grantToken returns the token of an agent grant (client credentials,
// workload identity, enterprise), obtaining a new one when there is none or
// it is about to expire: renewal happens before expiry, on use, once for
// all concurrent requests.
func (s *Service) grantToken(ctx context.Context, a agentconfig.Agent, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig) (TokenSet, error) {
	t, err := s.o.Vault.Get(ctx, key)
	if err == nil && !t.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return t, nil
	}
	if err != nil && !errors.Is(err, ErrNoToken) {
		return TokenSet{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	unlock, err := s.o.Vault.Lock(ctx, key)
	if err != nil {
		return TokenSet{}, fmt.Errorf("oauth: grant lock: %w", err)
	}
	defer unlock()
	cur, err := s.o.Vault.Get(ctx, key)
	if err == nil && !cur.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return cur, nil
	}
	hc, err := s.httpClient(a)
	if err != nil {
		return TokenSet{}, err
	}
	k, der, err := s.dpopFor(cur, d, cfg)
	if err != nil {
		return TokenSet{}, err
	}
	hc = oauthproto.DPoPClient(hc, k, s.o.Now)
	tok, ci, err := s.runGrant(ctx, hc, key, d, cfg)
	if err != nil {
		return TokenSet{}, fmt.Errorf("agent %q: %s grant: %w", a.Name, cfg.GrantType, err)
	}
	nt := fromOAuth2(tok, d, ci, cfg.Scopes, s.o.Now())
	nt.DPoPKey = der
	if err := s.o.Vault.Put(ctx, key, nt); err != nil {
		return TokenSet{}, err
	}
	return nt, nil
}

// grantClient is the agent's client identity from its Secret: a secret
// (client_secret_basic or _post, as the AS supports) or a private key
// (private_key_jwt), else a public client.
func grantClient(cfg AgentConfig, d *oauthproto.Discovery) (oauthproto.ClientInfo, error) {
	ci := oauthproto.ClientInfo{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Issuer: d.Issuer}
	switch {
	case cfg.PrivateKey != nil:
		k, err := oauthproto.ParseSigningKey(cfg.PrivateKey)
		if err != nil {
			return ci, err
		}
		ci.AuthMethod, ci.AssertionKey, ci.AssertionAlg = oauthproto.AuthMethodPrivateKeyJWT, k, cfg.SigningAlgorithm
	default:
		ci.AuthMethod = oauthproto.ChooseAuthMethod(d.AuthServer.TokenEndpointAuthMethodsSupported, cfg.ClientSecret != "")
	}
	if ci.ClientID == "" {
		return ci, fmt.Errorf("%w: the Secret has no clientID", oauthproto.ErrNoClient)
	}
	return ci, nil
}

func (s *Service) runGrant(ctx context.Context, hc *http.Client, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig) (*oauth2.Token, oauthproto.ClientInfo, error) {
	ci, err := grantClient(cfg, d)
	if err != nil {
		return nil, ci, err
	}
	switch cfg.GrantType {
	case GrantClientCredentials:
		tok, err := oauthproto.ClientCredentials(ctx, hc, ci, &d.AuthServer, d.Resource, cfg.Scopes)
		return tok, ci, err
	case GrantWorkloadIdentity:
		// The kubelet rotates the projected token; read it each time.
		b, err := os.ReadFile(cfg.TokenPath)
		if err != nil {
			return nil, ci, fmt.Errorf("workload identity token: %w", err)
		}
		tok, err := oauthproto.JWTBearer(ctx, hc, strings.TrimSpace(string(b)), ci, &d.AuthServer, d.Resource, cfg.Scopes)
		return tok, ci, err
	case GrantEnterprise:
		idp, _, err := oauthproto.FetchTokenServerMetadata(ctx, hc, cfg.IdPIssuer)
		if err != nil {
			return nil, ci, fmt.Errorf("enterprise identity provider: %w", err)
		}
		id, err := s.o.Vault.Get(ctx, idpIdentityKey(key.User, idp.Issuer))
		if errors.Is(err, ErrNoToken) || (err == nil && (id.IDToken == "" || id.Expired(s.o.Now(), 0))) {
			return nil, ci, ErrEnterpriseSignIn
		}
		if err != nil {
			return nil, ci, err
		}
		idc := oauthproto.ClientInfo{ClientID: cfg.IdPClientID, ClientSecret: cfg.IdPClientSecret,
			AuthMethod: oauthproto.ChooseAuthMethod(idp.TokenEndpointAuthMethodsSupported, cfg.IdPClientSecret != "")}
		jag, err := oauthproto.RequestIDJAG(ctx, hc, idp.TokenEndpoint, id.IDToken, idc, d.Issuer, d.Resource, cfg.Scopes)
		if err != nil {
			return nil, ci, err
		}
		tok, err := oauthproto.JWTBearer(ctx, hc, jag, ci, &d.AuthServer, d.Resource, cfg.Scopes)
		return tok, ci, err
	}
	return nil, ci, fmt.Errorf("%w: grant %q", ErrBadSecret, cfg.GrantType)
}

// dpopFor returns the DPoP key a new token for d is bound to: the key of
// the record cur when it has one (a bound refresh token needs it), else a
// new key; nil when the token is a Bearer token (useDPoP).
func (s *Service) dpopFor(cur TokenSet, d *oauthproto.Discovery, cfg AgentConfig) (*oauthproto.DPoPKey, []byte, error) {
	if !s.useDPoP(d, cfg) {
		return nil, nil, nil
	}
	if len(cur.DPoPKey) > 0 {
		k, err := s.dpopKey(cur.DPoPKey)
		return k, cur.DPoPKey, err
	}
	k, err := oauthproto.NewDPoPKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := k.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	s.dpopKeys[dpopID(der)] = k
	s.mu.Unlock()
	return k, der, nil
}

// useDPoP decides the binding of a new token for the MCP server of d: the
// Secret's tokenBinding, and with auto what the MCP server says it accepts
// (Discovery.UseDPoP) unless it refused a DPoP-bound token before.
func (s *Service) useDPoP(d *oauthproto.Discovery, cfg AgentConfig) bool {
	if cfg.autoBinding() {
		s.mu.Lock()
		refused := s.bearerOnly[d.Resource]
		s.mu.Unlock()
		if refused {
			return false
		}
		return d.UseDPoP(oauthproto.BindingAuto)
	}
	return d.UseDPoP(cfg.TokenBinding)
}

// rememberBearerOnly records that the MCP server of resource refused a
// DPoP-bound token with a Bearer-only challenge: its next tokens are Bearer
// tokens. The record is in this replica's memory (another replica learns
// it from its own first refusal) and lasts for the process.
func (s *Service) rememberBearerOnly(resource string) {
	s.mu.Lock()
	s.bearerOnly[resource] = true
	s.mu.Unlock()
}

func dpopID(der []byte) string { h := sha256.Sum256(der); return string(h[:]) }

// dpopKey returns the parsed key of a sealed record, cached so that server
// nonces learned on one request are used by the next.
func (s *Service) dpopKey(der []byte) (*oauthproto.DPoPKey, error) {
	id := dpopID(der)
	s.mu.Lock()
	k, ok := s.dpopKeys[id]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := oauthproto.ParseDPoPKey(der)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.dpopKeys[id]; ok {
		return old, nil
	}
	s.dpopKeys[id] = k
	return k, nil
}

// dpopClient is hc sending DPoP proofs of the sealed key der; hc itself
// when der is empty or unreadable (the AS then issues no bound token, or
// refuses the request).
func (s *Service) dpopClient(hc *http.Client, der []byte) *http.Client {
	if len(der) == 0 {
		return hc
	}
	k, err := s.dpopKey(der)
	if err != nil {
		s.log.Warn("unreadable DPoP key", "error", err)
		return hc
	}
	return oauthproto.DPoPClient(hc, k, s.o.Now)
}

// renewGrant answers a refusal of an agent-grant token: the token is
// dropped and a new one obtained, without the user.
func (s *Service) renewGrant(ctx context.Context, a agentconfig.Agent, u Identity, d *oauthproto.Discovery, cfg AgentConfig) error {
	key := tokenKey(cfg, a, u, d.Issuer)
	if err := s.o.Vault.Delete(ctx, key); err != nil {
		return err
	}
	_, err := s.grantToken(ctx, a, key, d, cfg)
	return err
}
