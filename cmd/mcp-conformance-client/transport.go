package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// maxAuthorizations bounds authorization attempts per operation (scope
// step-up loops must end; the suite's scope-retry-limit expects ≤ 3).
const maxAuthorizations = 3

// errTooManyAuthorizations ends an operation whose authorization never succeeds.
var errTooManyAuthorizations = errors.New("authorization still refused after the maximum number of attempts")

// codeCredential is the authorization-code credential of the one fake user:
// an mcp.Credentials that presents the current token (Bearer, or DPoP with a
// fresh proof when the token is DPoP-bound) on every MCP request. When the
// MCP server refuses a request, withAuth runs the OAuth flow through
// internal/oauth and the operation is retried, as the agent does after a
// sign-in. Client registrations and requested scopes are kept per issuer, so
// credentials of one authorization server are never presented to another.
type codeCredential struct {
	hc     *http.Client // guarded client for discovery/registration/token
	mcpURL string
	opts   oauthproto.ClientOptions

	mu        sync.Mutex
	token     string
	tokenType string
	dpop      *oauthproto.DPoPKey
	clients   map[string]oauthproto.ClientInfo // by issuer
	requested map[string][]string              // scopes requested so far, by issuer
	// bearerOnly: the MCP server refused a DPoP-bound token with a
	// Bearer-only challenge, so its tokens are Bearer tokens from then on.
	bearerOnly bool
}

func newCodeCredential(hc *http.Client, mcpURL string, opts oauthproto.ClientOptions) *codeCredential {
	return &codeCredential{
		hc: hc, mcpURL: mcpURL, opts: opts,
		clients:   map[string]oauthproto.ClientInfo{},
		requested: map[string][]string{},
	}
}

func (c *codeCredential) CacheKey() string { return "conformance-user" }

func (c *codeCredential) current() (token, typ string, k *oauthproto.DPoPKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.tokenType, c.dpop
}

// Authorize implements mcp.Credentials.
func (c *codeCredential) Authorize(req *http.Request) error {
	tok, typ, k := c.current()
	switch {
	case tok == "":
		return nil
	case typ == oauthproto.TokenTypeDPoP && k != nil:
		return k.Authorize(req, tok, time.Now())
	default:
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// Answer implements mcp.ChallengeAnswerer: a DPoP use_dpop_nonce challenge
// is answered by retrying with the server's nonce (RFC 9449 §9).
func (c *codeCredential) Answer(resp *http.Response) bool {
	_, _, k := c.current()
	return k != nil && k.Observe(resp)
}

// withAuth runs op, and after a 401 or a 403 insufficient_scope authorizes
// and runs it again, at most maxAuthorizations times.
func withAuth(ctx context.Context, c *codeCredential, op func() error) error {
	if c == nil {
		return op()
	}
	for attempt := 0; ; attempt++ {
		used, _, _ := c.current()
		err := op()
		var herr *mcp.HTTPStatusError
		if !errors.As(err, &herr) || !needsAuthorization(herr.StatusCode, herr.WWWAuthenticate) {
			return err
		}
		if attempt >= maxAuthorizations {
			return fmt.Errorf("HTTP %d: %w", herr.StatusCode, errTooManyAuthorizations)
		}
		if err := c.authorize(ctx, herr.WWWAuthenticate, used); err != nil {
			return fmt.Errorf("authorization: %w", err)
		}
	}
}

// needsAuthorization: 401, or 403 with error="insufficient_scope" (step-up).
func needsAuthorization(status int, challenge []string) bool {
	switch status {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		return oauthproto.ChallengeError(oauthproto.ParseChallenges(challenge)) == "insufficient_scope"
	}
	return false
}

// authorize runs discovery → client choice → authorization → exchange.
// usedToken is the token the failed request carried: if another request has
// already replaced it, the caller just retries.
func (c *codeCredential) authorize(ctx context.Context, challenge []string, usedToken string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != usedToken {
		return nil
	}
	if c.tokenType == oauthproto.TokenTypeDPoP && oauthproto.RefusesDPoP(oauthproto.ParseChallenges(challenge)) {
		c.bearerOnly = true
	}
	d, err := oauthproto.Discover(ctx, c.hc, c.mcpURL, challenge)
	if err != nil {
		return err
	}
	ci, ok := c.clients[d.Issuer]
	if !ok {
		if ci, err = oauthproto.ChooseClient(ctx, c.hc, &d.AuthServer, c.opts); err != nil {
			return err
		}
		c.clients[d.Issuer] = ci
	}
	scopes := oauthproto.SelectScopes(oauthproto.ChallengeScope(oauthproto.ParseChallenges(challenge)), d.ScopesSupported)
	scopes = oauthproto.WithOfflineAccess(scopes, d.AuthServer.ScopesSupported)
	scopes = oauthproto.UnionScopes(c.requested[d.Issuer], scopes)

	authURL, pending, err := oauthproto.AuthorizationURL(d, ci, redirectURI, scopes)
	if err != nil {
		return err
	}
	q, err := c.fetchRedirect(ctx, authURL)
	if err != nil {
		return err
	}
	code, err := oauthproto.ParseCallback(q, pending, &d.AuthServer)
	if err != nil {
		return err
	}
	// RFC 9449: bind the token to a key only when the MCP server accepts
	// DPoP (its PRM or its challenge says so), whatever the AS supports.
	var k *oauthproto.DPoPKey
	if !c.bearerOnly && d.UseDPoP(oauthproto.BindingAuto) {
		if k, err = oauthproto.NewDPoPKey(); err != nil {
			return err
		}
	}
	tok, err := oauthproto.Exchange(ctx, oauthproto.DPoPClient(c.hc, k, nil), pending, code, q.Get("iss"), ci, &d.AuthServer)
	if err != nil {
		return err
	}
	c.token, c.tokenType, c.dpop = tok.AccessToken, tok.TokenType, k
	c.requested[d.Issuer] = scopes
	return nil
}

// fetchRedirect performs the headless authorization step: GET the
// authorization URL without following the redirect and return the query of
// the Location it points to.
func (c *codeCredential) fetchRedirect(ctx context.Context, authURL string) (url.Values, error) {
	noFollow := *c.hc
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
