package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/rancher/ai-agent/internal/oauthproto"
)

// SignedIn is a completed sign-in: the cookies for the browser and the
// sentence the callback page adds (how to sign out of the agent).
type SignedIn struct {
	Cookies []*http.Cookie
	SignOut string
}

// SignInError is a sign-in that could not be completed: Status is the
// HTTP status of the callback page and Sentence what the user reads on it;
// Err, when set, is the chain for the log.
type SignInError struct {
	Status   int
	Sentence string
	Err      error
}

func (e *SignInError) Error() string {
	if e.Err != nil {
		return "oauth: sign-in not completed: " + e.Err.Error()
	}
	return "oauth: sign-in not completed: " + e.Sentence
}

func (e *SignInError) Unwrap() error { return e.Err }

// CompleteSignIn finishes the authorization code flow that user started,
// from the authorization server's redirect query q: the state is taken
// (single use, bound to user), the response checked (RFC 9207 iss), the
// code exchanged with the PKCE verifier and resource (RFC 7636, RFC 8707),
// and the tokens stored under the lock refreshes take. It returns the
// sealed cookies the browser keeps and the sentence telling how to sign
// out (neither for an enterprise IdP sign-in, whose tokens are not the
// agent's). A failure is a *SignInError.
func (s *Service) CompleteSignIn(ctx context.Context, user string, q url.Values) (SignedIn, error) {
	flow, err := s.o.Vault.TakePending(ctx, user, q.Get("state"))
	if err != nil {
		return SignedIn{}, &SignInError{Status: http.StatusBadRequest, Err: err,
			Sentence: "This sign-in is unknown, expired, already used, replaced by a newer one, or was started by another user. Close this window and try again."}
	}
	code, err := oauthproto.ParseCallback(q, flow.Pending, &flow.AS)
	if err != nil {
		msg := "The authorization server did not grant access. Close this window and try again."
		if errors.Is(err, oauthproto.ErrIssMismatch) || errors.Is(err, oauthproto.ErrIssMissing) {
			msg = "The response did not come from the expected authorization server."
		}
		return SignedIn{}, &SignInError{Status: http.StatusBadRequest, Sentence: msg, Err: err}
	}
	a, ok := s.agentByName(ctx, flow.Agent)
	if !ok {
		return SignedIn{}, &SignInError{Status: http.StatusBadRequest, Sentence: "The agent is no longer configured."}
	}
	hc, err := s.httpClient(a)
	if err != nil {
		return SignedIn{}, &SignInError{Status: http.StatusInternalServerError, Sentence: "The agent's configuration is invalid.", Err: err}
	}
	tok, err := oauthproto.Exchange(ctx, s.dpopClient(hc, flow.DPoPKey), flow.Pending, code, q.Get("iss"), flow.Client, &flow.AS)
	if errors.Is(err, oauthproto.ErrInvalidClient) {
		// Our stored registration was purged by the AS: the next sign-in registers again.
		_ = s.o.Vault.DeleteClient(ctx, flow.Client.Issuer, flow.RedirectURI)
	}
	if err != nil {
		return SignedIn{}, &SignInError{Status: http.StatusBadGateway, Err: err,
			Sentence: "The authorization server did not issue a token. Close this window and try again."}
	}
	d := &oauthproto.Discovery{Resource: flow.Resource, Issuer: flow.Issuer, AuthServer: flow.AS}
	t := fromOAuth2(tok, d, flow.Client, flow.Scopes, s.o.Now())
	t.DPoPKey = flow.DPoPKey
	key := flow.TokenKey()
	if err := s.putLocked(ctx, key, t); err != nil {
		return SignedIn{}, &SignInError{Status: http.StatusInternalServerError, Sentence: "The token could not be stored.", Err: err}
	}
	if flow.TokenAgent != "" { // the IdP sign-in's tokens are not the agent's
		return SignedIn{}, nil
	}
	return SignedIn{
		Cookies: s.cookies(key, t, flow.CookiePath),
		SignOut: SignOutSentence(flow.Agent, strings.TrimSuffix(flow.RedirectURI, callbackPath)),
	}, nil
}

// putLocked stores t under the lock that refreshes and re-sealing take,
// so that none of them overwrites it with older tokens.
func (s *Service) putLocked(ctx context.Context, key TokenKey, t TokenSet) error {
	unlock, err := s.o.Vault.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	return s.o.Vault.Put(ctx, key, t)
}

// cookies are the sealed cookies of t: the access token, and the refresh
// token when there is one.
func (s *Service) cookies(key TokenKey, t TokenSet, path string) []*http.Cookie {
	cs := []*http.Cookie{s.sealedCookie(cookieAccess, key, t.AccessToken, path)}
	if t.RefreshToken != "" {
		cs = append(cs, s.sealedCookie(cookieRefresh, key, t.RefreshToken, path))
	}
	return cs
}
