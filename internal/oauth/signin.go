package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// ErrCanceled is matched when the user dismissed the sign-in.
var ErrCanceled = errors.New("authentication canceled by the user")

// ErrSignInIncomplete is matched when the browser said it signed in but no
// token arrived (the callback failed), or the wait timed out.
var ErrSignInIncomplete = errors.New("sign-in did not complete")

// Authenticate makes the user's credential for agent a work again, talking
// to the browser through br when needed:
//
//   - a refresh token in the vault is redeemed silently (the browser is not
//     asked);
//   - else, when the browser holds our sealed refresh cookie, it is asked to
//     refresh (Browser.AskRefresh);
//   - else, or when that fails or times out, the user signs in
//     (Browser.AskSignIn with the authorization URL): confirmed or canceled.
//
// A 403 insufficient_scope skips the refresh and asks for the union of the
// scopes already requested and the challenged ones.
func (s *Service) Authenticate(ctx context.Context, br Browser, a agentconfig.Agent, u Identity, r Refusal) error {
	cfg, err := ConfigFromSecret(a.AuthSecret)
	if err != nil {
		return err
	}
	d, err := s.discover(ctx, a, cfg, r)
	if err != nil {
		return err
	}
	cs := oauthproto.ParseChallenges(r.WWWAuthenticate)
	key := tokenKey(cfg, a, u, d.Issuer)
	cur, _ := s.o.Vault.Get(ctx, key)
	bearerOnly := s.refusedDPoP(a, d, cfg, r, cs, cur)
	if cfg.noSignIn() {
		err := s.renewGrant(ctx, a, u, d, cfg)
		if errors.Is(err, ErrEnterpriseSignIn) {
			return s.enterpriseSignIn(ctx, br, a, u, d, cfg)
		}
		return err
	}
	stepUp := (r.Status == 403 || r.Status == 401) && oauthproto.ChallengeError(cs) == "insufficient_scope"
	if r.AfterSignIn && !bearerOnly && !(stepUp && newScopes(cur, oauthproto.ChallengeScope(cs))) {
		// The token just obtained is refused and a new sign-in would ask
		// for the same: never a second sign-in in the turn.
		return refused(a, r, cs)
	}

	switch {
	case bearerOnly:
		// One Bearer token: a refresh without DPoP proofs, else a sign-in
		// (a refresh token bound to the key cannot give one).
		if cur.RefreshToken != "" {
			_, err := s.refresh(ctx, a, key, d, cfg, refreshOpts{Stale: cur.AccessToken, RedirectURI: s.RedirectURI(u.Host), Refused: true, Bearer: true})
			if err == nil {
				return nil
			}
			s.log.Info("refresh for a Bearer token failed; sign-in needed", "agent", a.Name, "error", err)
		}
	case !stepUp && s.tryRefresh(ctx, br, a, key, d, cfg, u, cur):
		return nil
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = oauthproto.SelectScopes(oauthproto.ChallengeScope(cs), d.ScopesSupported)
	}
	if stepUp {
		scopes = oauthproto.UnionScopes(cur.Requested, cur.Scopes, scopes, oauthproto.SelectScopes(oauthproto.ChallengeScope(cs), nil))
	}
	if len(scopes) > 0 {
		// Never turn "no scope" into a request for offline_access alone.
		scopes = oauthproto.WithOfflineAccess(scopes, d.AuthServer.ScopesSupported)
	}
	return s.signIn(ctx, br, a, u, key, d, cfg, scopes)
}

// refusedDPoP reports a DPoP-bound token refused by an MCP server whose
// challenge offers Bearer and not DPoP (RFC 9449 §7.1): with tokenBinding
// auto, that server gets Bearer tokens from now on (remembered, so this
// happens once per server and never loops).
func (s *Service) refusedDPoP(a agentconfig.Agent, d *oauthproto.Discovery, cfg AgentConfig, r Refusal, cs []oauthproto.Challenge, cur TokenSet) bool {
	if r.Status != 401 || !cfg.autoBinding() || len(cur.DPoPKey) == 0 ||
		!strings.EqualFold(cur.TokenType, oauthproto.TokenTypeDPoP) || !oauthproto.RefusesDPoP(cs) {
		return false
	}
	s.log.Info("the MCP server refused a DPoP-bound token with a Bearer challenge; using Bearer tokens for it",
		"agent", a.Name, "resource", d.Resource)
	s.rememberBearerOnly(d.Resource)
	return true
}

// newScopes reports a challenged scope the token was not requested with.
func newScopes(cur TokenSet, challenged string) bool {
	for _, sc := range strings.Fields(challenged) {
		if !slices.Contains(cur.Requested, sc) && !slices.Contains(cur.Scopes, sc) {
			return true
		}
	}
	return false
}

// refused is the *RefusedError of a refusal, with the challenge's reason
// (of the Bearer challenge, else of any challenge that gives one).
func refused(a agentconfig.Agent, r Refusal, cs []oauthproto.Challenge) error {
	e := &RefusedError{Agent: a.Name, Status: r.Status}
	if b, ok := oauthproto.BearerChallenge(cs); ok {
		e.Code, e.Description = b.Params["error"], b.Params["error_description"]
	}
	for _, c := range cs {
		if e.Code == "" && c.Params["error"] != "" {
			e.Code, e.Description = c.Params["error"], c.Params["error_description"]
		}
	}
	return e
}

// tryRefresh reports whether a refresh made the credential work.
func (s *Service) tryRefresh(ctx context.Context, br Browser, a agentconfig.Agent, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig, u Identity, cur TokenSet) bool {
	s.mu.Lock()
	last, recent := s.refreshed[key.id()]
	s.mu.Unlock()
	if recent && s.o.Now().Sub(last) < s.o.RefreshAgain {
		return false // the token we just refreshed is refused too
	}
	if cur.RefreshToken != "" {
		// The MCP server refused cur's access token: a refresh that hands
		// back that same token (obtained a moment ago) would loop.
		_, err := s.refresh(ctx, a, key, d, cfg, refreshOpts{Stale: cur.AccessToken, RedirectURI: s.RedirectURI(u.Host), Refused: true})
		return err == nil
	}
	if s.openCookie(u.Cookies, cookieRefresh, key) == "" || s.o.Vault.Revoked(ctx, key) {
		return false // no cookie, or one of a revoked sign-in (refresh refuses it)
	}
	// The browser holds the refresh token: let it call /refresh, which
	// stores the new tokens in the vault and updates its cookies.
	wctx, cancel := context.WithTimeout(ctx, s.o.RefreshReplyTimeout)
	defer cancel()
	if err := br.AskRefresh(wctx, a.Name); err != nil {
		s.log.Info("token refresh not confirmed", "agent", a.Name, "error", err)
		return false
	}
	t, err := s.o.Vault.Get(ctx, key)
	return err == nil && !t.Expired(s.o.Now(), 0)
}

// signIn runs the authorization code flow through the browser.
func (s *Service) signIn(ctx context.Context, br Browser, a agentconfig.Agent, u Identity, key TokenKey, d *oauthproto.Discovery, cfg AgentConfig, scopes []string) (err error) {
	ctx, end := s.observeKey(ctx, OpSignIn, key, u.UserID)
	defer func() { end(err) }()
	redirectURI := s.RedirectURI(u.Host)
	ci, err := s.client(ctx, a, cfg, d, redirectURI)
	if err != nil {
		return err
	}
	authURL, p, err := oauthproto.AuthorizationURL(d, ci, redirectURI, scopes)
	if err != nil {
		return fmt.Errorf("agent %q: %w", a.Name, err)
	}
	// Only the authorization request of this flow, at this agent's
	// authorization server (or enterprise identity provider), may open a
	// sign-in popup (docs/security.md, "What the model may do", rule 3).
	if err := oauthproto.CheckAuthorizationURL(authURL, &d.AuthServer, p); err != nil {
		s.log.Warn("sign-in URL refused", "agent", a.Name, "issuer", d.AuthServer.Issuer, "error", err)
		return fmt.Errorf("agent %q: %w", a.Name, err)
	}
	flow := PendingFlow{Pending: p, User: u.UserID, Agent: a.Name, Client: ci, AS: d.AuthServer, CookiePath: cookiePath(redirectURI)}
	if _, flow.DPoPKey, err = s.dpopFor(TokenSet{}, d, cfg); err != nil {
		return err
	}
	if key.Agent != a.Name {
		flow.TokenAgent = key.Agent
	}
	if err := s.o.Vault.PutPending(ctx, flow, s.o.FlowTTL); err != nil {
		return err
	}
	before, _ := s.o.Vault.Get(ctx, key)
	wctx, cancel := context.WithTimeout(ctx, s.o.SignInTimeout)
	defer cancel()
	confirmed, err := br.AskSignIn(wctx, authURL, a.Name)
	switch {
	case err != nil && ctx.Err() != nil:
		return context.Cause(ctx)
	case err != nil:
		return fmt.Errorf("%w: no answer from the browser in %s", ErrSignInIncomplete, s.o.SignInTimeout)
	case !confirmed:
		return ErrCanceled
	}
	t, err := s.o.Vault.Get(ctx, key)
	if err != nil || t.AccessToken == before.AccessToken {
		return fmt.Errorf("%w: no token was received for agent %q", ErrSignInIncomplete, a.Name)
	}
	return nil
}
