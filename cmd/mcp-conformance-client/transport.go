package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/rancher/ai-agent/internal/oauth"
)

// maxAuthorizations bounds authorization attempts per request (scope
// step-up loops must end; the suite's scope-retry-limit expects ≤ 3).
const maxAuthorizations = 3

// errTooManyAuthorizations ends a request whose authorization never succeeds.
var errTooManyAuthorizations = errors.New("authorization still refused after the maximum number of attempts")

// authTransport adds "Authorization: Bearer" to MCP requests and, on 401 or
// 403 insufficient_scope, runs the OAuth flow through internal/oauth and
// retries. Client registrations and requested scopes are kept per issuer, so
// credentials of one authorization server are never presented to another.
type authTransport struct {
	base   http.RoundTripper
	hc     *http.Client // guarded client for discovery/registration/token
	mcpURL string
	opts   oauth.ClientOptions

	mu        sync.Mutex
	token     string
	clients   map[string]oauth.ClientInfo // by issuer
	requested map[string][]string         // scopes requested so far, by issuer
}

func newAuthTransport(base http.RoundTripper, hc *http.Client, mcpURL string, opts oauth.ClientOptions) *authTransport {
	return &authTransport{
		base: base, hc: hc, mcpURL: mcpURL, opts: opts,
		clients:   map[string]oauth.ClientInfo{},
		requested: map[string][]string{},
	}
}

func (t *authTransport) currentToken() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	getBody := req.GetBody
	if req.Body != nil && req.Body != http.NoBody && getBody == nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	for attempt := 0; ; attempt++ {
		r := req.Clone(req.Context())
		if getBody != nil {
			body, err := getBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		used := t.currentToken()
		if used != "" {
			r.Header.Set("Authorization", "Bearer "+used)
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		challenge := resp.Header.Values("WWW-Authenticate")
		if !needsAuthorization(resp.StatusCode, challenge) {
			return resp, nil
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if attempt >= maxAuthorizations {
			return nil, fmt.Errorf("%s %s: HTTP %d: %w", req.Method, req.URL.Redacted(), resp.StatusCode, errTooManyAuthorizations)
		}
		if err := t.authorize(req.Context(), challenge, used); err != nil {
			return nil, fmt.Errorf("authorization: %w", err)
		}
	}
}

// needsAuthorization: 401, or 403 with error="insufficient_scope" (step-up).
func needsAuthorization(status int, challenge []string) bool {
	switch status {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		return oauth.ChallengeError(oauth.ParseChallenges(challenge)) == "insufficient_scope"
	}
	return false
}

// authorize runs discovery → client choice → authorization → exchange.
// usedToken is the token the failed request carried: if another request has
// already replaced it, the caller just retries.
func (t *authTransport) authorize(ctx context.Context, challenge []string, usedToken string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != usedToken {
		return nil
	}
	d, err := oauth.Discover(ctx, t.hc, t.mcpURL, challenge)
	if err != nil {
		return err
	}
	ci, ok := t.clients[d.Issuer]
	if !ok {
		if ci, err = oauth.ChooseClient(ctx, t.hc, &d.AuthServer, t.opts); err != nil {
			return err
		}
		t.clients[d.Issuer] = ci
	}
	scopes := oauth.SelectScopes(oauth.ChallengeScope(oauth.ParseChallenges(challenge)), d.ScopesSupported)
	scopes = oauth.WithOfflineAccess(scopes, d.AuthServer.ScopesSupported)
	scopes = oauth.UnionScopes(t.requested[d.Issuer], scopes)

	authURL, pending, err := oauth.AuthorizationURL(d, ci, redirectURI, scopes)
	if err != nil {
		return err
	}
	q, err := t.fetchRedirect(ctx, authURL)
	if err != nil {
		return err
	}
	code, err := oauth.ParseCallback(q, pending, &d.AuthServer)
	if err != nil {
		return err
	}
	tok, err := oauth.Exchange(ctx, t.hc, pending, code, q.Get("iss"), ci, &d.AuthServer)
	if err != nil {
		return err
	}
	t.token = tok.AccessToken
	t.requested[d.Issuer] = scopes
	return nil
}

// fetchRedirect performs the headless authorization step: GET the
// authorization URL without following the redirect and return the query of
// the Location it points to.
func (t *authTransport) fetchRedirect(ctx context.Context, authURL string) (url.Values, error) {
	noFollow := *t.hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
		return nil, fmt.Errorf("authorization endpoint answered HTTP %d without a redirect", resp.StatusCode)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("authorization redirect: %w", err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != redirectURI {
		return nil, fmt.Errorf("authorization redirect to unexpected URI %q", got)
	}
	return u.Query(), nil
}
