package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// Credential is one user's OAuth credential for one agent. It satisfies
// mcp.Credentials: every MCP request asks it for the current token, so a
// token refreshed by any request (or replica) is used by all the others.
type Credential struct {
	s     *Service
	agent agentconfig.Agent
	key   TokenKey
	d     *oauthproto.Discovery
	cfg   AgentConfig
	// anon is set when the user had no token when the credential was made:
	// such a credential caches nothing with the signed-in one.
	anon bool
}

// CacheKey identifies the (user, agent, issuer) without revealing it.
func (c *Credential) CacheKey() string {
	h := sha256.Sum256([]byte("oauth\x00" + c.key.User + "\x00" + c.key.Agent + "\x00" + c.key.Issuer))
	k := "oauth:" + hex.EncodeToString(h[:16])
	if c.anon {
		k += ":anonymous"
	}
	return k
}

// Authorize adds the bearer token, refreshing it first when it expired.
// Without a token it adds nothing: the MCP server's 401 then starts the
// sign-in.
func (c *Credential) Authorize(req *http.Request) error {
	if c.cfg.noSignIn() {
		t, err := c.s.grantToken(req.Context(), c.agent, c.key, c.d, c.cfg)
		if errors.Is(err, ErrEnterpriseSignIn) {
			return nil // the MCP server's 401 starts the sign-in at the IdP
		}
		if err != nil {
			return err // nothing the MCP server could accept
		}
		return c.present(req, t)
	}
	t, err := c.s.token(req.Context(), c.agent, c.key, c.d, c.cfg)
	if errors.Is(err, ErrNoToken) || errors.Is(err, oauthproto.ErrInvalidGrant) {
		return nil
	}
	if err != nil {
		// A transient refresh failure: send the (possibly stale) token, if any.
		if t.AccessToken == "" {
			return nil
		}
	}
	return c.present(req, t)
}

// present adds the token: "Bearer", or for a DPoP-bound token "DPoP" with a
// fresh proof of its key (RFC 9449 §7.1).
func (c *Credential) present(req *http.Request, t TokenSet) error {
	c.s.touch(req.Context(), c.key)
	if strings.EqualFold(t.TokenType, oauthproto.TokenTypeDPoP) && len(t.DPoPKey) > 0 {
		k, err := c.s.dpopKey(t.DPoPKey)
		if err != nil {
			return err
		}
		return k.Authorize(req, t.AccessToken, c.s.o.Now())
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

// Answer implements mcp.ChallengeAnswerer: a use_dpop_nonce challenge of
// the MCP server is answered with its nonce (RFC 9449 §9), once.
func (c *Credential) Answer(resp *http.Response) bool {
	t, err := c.s.o.Vault.Get(resp.Request.Context(), c.key)
	if err != nil || len(t.DPoPKey) == 0 {
		return false
	}
	k, err := c.s.dpopKey(t.DPoPKey)
	return err == nil && k.Observe(resp)
}

// Credentials returns the credential of user u for an OAUTH2 agent. A
// misconfigured Secret or an unreachable authorization server is an error
// for this agent only.
func (s *Service) Credentials(ctx context.Context, a agentconfig.Agent, u Identity) (*Credential, error) {
	cfg, err := ConfigFromSecret(a.AuthSecret)
	if err != nil {
		return nil, err
	}
	d, err := s.discover(ctx, a, cfg, Refusal{})
	if err != nil {
		return nil, err
	}
	key := tokenKey(cfg, a, u, d.Issuer)
	if err := s.o.Vault.Reseal(ctx, key); err != nil {
		s.log.Warn("re-sealing a token with the current key failed", "agent", a.Name, "error", err)
	}
	_, terr := s.o.Vault.Get(ctx, key)
	return &Credential{s: s, agent: a, key: key, d: d, cfg: cfg, anon: terr != nil && !cfg.noSignIn()}, nil
}

// token returns a usable access token for key, refreshing it (single
// flight) when it is expired.
func (s *Service) token(ctx context.Context, a agentconfig.Agent, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig) (TokenSet, error) {
	t, err := s.o.Vault.Get(ctx, key)
	if err != nil {
		return TokenSet{}, err
	}
	if !t.Expired(s.o.Now(), s.o.ExpiryLeeway) {
		return t, nil
	}
	if t.RefreshToken == "" {
		return TokenSet{}, ErrNoToken
	}
	nt, err := s.refresh(ctx, a, key, d, cfg, refreshOpts{Stale: t.AccessToken})
	if err != nil {
		return t, err
	}
	return nt, nil
}

// refreshOpts are the circumstances of a refresh.
type refreshOpts struct {
	// RT is a refresh token from a sealed cookie, redeemed when the vault
	// holds none.
	RT string
	// Stale is the access token the caller saw: if the vault already holds
	// another one, it is used instead of refreshing.
	Stale string
	// RedirectURI is the caller's callback URL, for a client registration
	// made on the way.
	RedirectURI string
	// Refused says the MCP server refused Stale (a 401): then it is never
	// shared as "obtained a moment ago", it is refreshed.
	Refused bool
	// Bearer redeems without DPoP proofs, for a Bearer token: the MCP
	// server refused a DPoP-bound one. A token that comes back bound anyway
	// is an error.
	Bearer bool
}

// errStillBound is the refresh of a Bearer fallback that returned a
// DPoP-bound token again (the refresh token is bound to its key).
var errStillBound = errors.New("oauth: the refreshed token is DPoP-bound")

// refresh redeems the refresh token of key (or o.RT) and stores the result.
// Only one refresh per key runs at a time; callers that waited for it reuse
// its result, so any number of concurrent requests make one token request.
func (s *Service) refresh(ctx context.Context, a agentconfig.Agent, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig, o refreshOpts) (_ TokenSet, err error) {
	ctx, end := s.observeKey(ctx, OpRefresh, key, key.User)
	defer func() { end(err) }()
	// Refresh work outlives a cancelled caller (a user who leaves must not
	// leave a rotated refresh token unsaved).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	unlock, err := s.o.Vault.Lock(ctx, key)
	if err != nil {
		return TokenSet{}, fmt.Errorf("oauth: refresh lock: %w", err)
	}
	defer unlock()
	rt := o.RT
	cur, err := s.o.Vault.Get(ctx, key)
	switch {
	case err == nil && cur.AccessToken != o.Stale && cur.AccessToken != "":
		return cur, nil // replaced by someone else meanwhile (a refresh or a sign-in)
	case err == nil && cur.AccessToken != "" && !o.Refused && !cur.Obtained.IsZero() && s.recent(s.o.Now().Sub(cur.Obtained)):
		// Obtained a moment ago (by this or another replica): concurrent
		// refresh requests share it instead of each spending the token.
		return cur, nil
	case err == nil && cur.RefreshToken != "":
		rt = cur.RefreshToken
	case err != nil && !errors.Is(err, ErrNoToken):
		return TokenSet{}, err
	}
	if rt == "" {
		return TokenSet{}, ErrNoToken
	}
	ci := cur.Client
	if ci.ClientID == "" {
		if ci, err = s.client(ctx, a, cfg, d, o.RedirectURI); err != nil {
			return TokenSet{}, err
		}
	}
	hc, err := s.httpClient(a)
	if err != nil {
		return TokenSet{}, err
	}
	var dk *oauthproto.DPoPKey
	if len(cur.DPoPKey) > 0 && !o.Bearer {
		if dk, err = s.dpopKey(cur.DPoPKey); err != nil {
			return TokenSet{}, err
		}
		hc = oauthproto.DPoPClient(hc, dk, s.o.Now) // a DPoP-bound refresh token needs proofs (RFC 9449 §5)
	}
	var tok *oauth2.Token
	for attempt, wait := 0, s.o.RetryWait; ; attempt, wait = attempt+1, wait*2 {
		tok, err = oauthproto.Refresh(ctx, hc, rt, d.Resource, ci, &d.AuthServer)
		if err == nil || !errors.Is(err, oauthproto.ErrTransient) || attempt == 2 {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return TokenSet{}, ctx.Err()
		}
	}
	if errors.Is(err, oauthproto.ErrInvalidGrant) || errors.Is(err, oauthproto.ErrInvalidClient) {
		// The grant is gone (expired, revoked, or a reused rotated token),
		// or the client is: the user must consent again.
		_ = s.o.Vault.Delete(ctx, key)
		s.log.Info("refresh token rejected; sign-in needed", "agent", a.Name)
		return TokenSet{}, err
	}
	if err != nil {
		return TokenSet{}, err
	}
	nt := fromOAuth2(tok, d, ci, cur.Requested, s.o.Now())
	if dk != nil {
		nt.DPoPKey = cur.DPoPKey
	}
	if o.Bearer && strings.EqualFold(nt.TokenType, oauthproto.TokenTypeDPoP) {
		return TokenSet{}, errStillBound
	}
	if err := s.o.Vault.Put(ctx, key, nt); err != nil {
		return TokenSet{}, err
	}
	s.mu.Lock()
	s.refreshed[key.id()] = s.o.Now()
	s.mu.Unlock()
	return nt, nil
}

// fromOAuth2 converts a token response; its expiry follows the service's
// clock.
// recent reports a token age within the coalescing window (a clock that
// went backwards does not count).
func (s *Service) recent(age time.Duration) bool { return age >= 0 && age < s.o.RefreshCoalesce }

func fromOAuth2(tok *oauth2.Token, d *oauthproto.Discovery, ci oauthproto.ClientInfo, requested []string, now time.Time) TokenSet {
	expiry := tok.Expiry
	if tok.ExpiresIn > 0 {
		expiry = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	idToken, _ := tok.Extra("id_token").(string)
	return TokenSet{
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
		Expiry: expiry, Obtained: now, Scopes: oauthproto.TokenScopes(tok), Resource: d.Resource, Client: ci,
		Requested: requested, IDToken: idToken,
	}
}

// client returns the client identity for the agent's authorization server:
// the Secret's client ID, else a Client ID Metadata Document, else a
// registration made once per authorization server and kept in the store.
func (s *Service) client(ctx context.Context, a agentconfig.Agent, cfg AgentConfig, d *oauthproto.Discovery, redirectURI string) (oauthproto.ClientInfo, error) {
	if cfg.ClientID != "" {
		method := oauthproto.AuthMethodNone
		if cfg.ClientSecret != "" {
			method = oauthproto.ChooseAuthMethod(d.AuthServer.TokenEndpointAuthMethodsSupported, true)
		}
		return oauthproto.ClientInfo{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AuthMethod: method, Issuer: d.Issuer}, nil
	}
	if redirectURI == "" {
		redirectURI = s.RedirectURI("")
	}
	if ci, err := s.o.Vault.GetClient(ctx, d.Issuer, redirectURI); err == nil {
		return ci, nil
	}
	unlock, err := s.o.Vault.st.Lock(ctx, "register:"+clientKey(d.Issuer, redirectURI))
	if err != nil {
		return oauthproto.ClientInfo{}, err
	}
	defer unlock()
	if ci, err := s.o.Vault.GetClient(ctx, d.Issuer, redirectURI); err == nil {
		return ci, nil
	}
	if redirectURI == "" {
		return oauthproto.ClientInfo{}, fmt.Errorf("%w: no redirect URI to register", oauthproto.ErrNoClient)
	}
	hc, err := s.httpClient(a)
	if err != nil {
		return oauthproto.ClientInfo{}, err
	}
	ci, err := oauthproto.ChooseClient(ctx, hc, &d.AuthServer, oauthproto.ClientOptions{
		CIMDURL:      s.o.CIMDURL,
		Registration: &oauthproto.RegistrationRequest{RedirectURIs: []string{redirectURI}},
	})
	if err != nil {
		return oauthproto.ClientInfo{}, fmt.Errorf("agent %q: %w", a.Name, err)
	}
	if ci.ClientID != s.o.CIMDURL {
		if err := s.o.Vault.PutClient(ctx, redirectURI, ci); err != nil {
			return oauthproto.ClientInfo{}, err
		}
		s.sweepClients(ctx) // keep the number of registrations under the cap
	}
	return ci, nil
}
