package oauthtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// ASOptions configures StartAuthServer. The zero value is usable.
type ASOptions struct {
	// AccessTokenTTL is the access token lifetime (seconds granularity,
	// minimum 1s). Default one hour.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token;
	// reusing a rotated one fails with invalid_grant and revokes the grant.
	RotateRefreshTokens bool
	// Clients are statically registered clients (besides DCR at /reg).
	Clients []Client
	// Scopes are advertised in scopes_supported (besides openid and
	// offline_access) and grantable for any resource.
	Scopes []string
	// SigningAlg signs JWT access tokens: "RS256" (default) or "ES256".
	SigningAlg string
	// DPoP enables RFC 9449: the metadata advertises
	// dpop_signing_alg_values_supported and token requests with a proof get
	// DPoP-bound tokens (cnf.jkt). DPoPNonce also requires server nonces.
	DPoP, DPoPNonce bool
	// OpaqueAccessTokens issues opaque (reference) access tokens instead of
	// JWTs: oidc-provider can revoke (RFC 7009) and introspect (RFC 7662)
	// only those; a JWT access token stays valid until it expires. An MCP
	// server started with MCPOptions.Introspect needs them.
	OpaqueAccessTokens bool
	// Host, a name under .test (e.g. "auth.test"), makes the issuer and
	// every endpoint http://HOST:PORT instead of http://127.0.0.1:PORT,
	// so that clients resolving it to 127.0.0.1 send their requests
	// through a proxy (see hostname.go). Empty: 127.0.0.1.
	Host string
}

// Client is a statically registered client. It may use the
// authorization_code and refresh_token grants.
type Client struct {
	ID           string
	Secret       string   // empty: public client (token_endpoint_auth_method none)
	RedirectURIs []string // exact redirect URIs, e.g. http://127.0.0.1:1234/callback
	// AuthMethod overrides token_endpoint_auth_method: default
	// client_secret_basic with a Secret, none without.
	AuthMethod string
	// ApplicationType is "web" (default) or "native".
	ApplicationType string
	// GrantTypes overrides the allowed grants (default authorization_code
	// and refresh_token), e.g. {"client_credentials"}.
	GrantTypes []string
	// JWK is the public key (a JWK object) of a private_key_jwt client.
	JWK map[string]any
}

// AuthServer is a running oidc-provider instance.
type AuthServer struct {
	Issuer        string // http://127.0.0.1:PORT or http://ASOptions.Host:PORT (no trailing slash)
	MetadataURL   string // RFC 8414: Issuer + /.well-known/oauth-authorization-server
	OIDCConfigURL string // Issuer + /.well-known/openid-configuration
	// Endpoints, from the metadata document.
	AuthorizationEndpoint string
	TokenEndpoint         string
	RegistrationEndpoint  string
	JWKSURI               string
	RevocationEndpoint    string
	// IntrospectionEndpoint is RFC 7662's (see Introspect).
	IntrospectionEndpoint string

	introSecret string
	opaque      bool // OpaqueAccessTokens
	t           testing.TB
	secret      string
	stderr      *logtest.Buffer
}

// TokenCounts counts token endpoint requests (successful or not).
type TokenCounts struct {
	AuthorizationCode int
	RefreshToken      int
	Total             int
	ByGrantType       map[string]int // "unknown" when no grant_type was parsed
}

type providerConfig struct {
	Secret              string           `json:"secret"`
	Scopes              []string         `json:"scopes"`
	AccessTokenTTL      int              `json:"accessTokenTTL"`
	RotateRefreshTokens bool             `json:"rotateRefreshTokens"`
	SigningAlg          string           `json:"signingAlg"`
	Clients             []providerClient `json:"clients"`
	DPoP                bool             `json:"dpop"`
	DPoPNonce           bool             `json:"dpopNonce"`
	OpaqueAccessTokens  bool             `json:"opaqueAccessTokens"`
	Host                string           `json:"host,omitempty"`
}

type providerClient struct {
	ID              string         `json:"id"`
	Secret          string         `json:"secret,omitempty"`
	RedirectURIs    []string       `json:"redirectURIs"`
	AuthMethod      string         `json:"authMethod,omitempty"`
	ApplicationType string         `json:"applicationType,omitempty"`
	GrantTypes      []string       `json:"grantTypes,omitempty"`
	JWK             map[string]any `json:"jwk,omitempty"`
}

// StartAuthServer starts oidc-provider on a random loopback port and stops it
// in t.Cleanup. The provider's stderr is logged if the test fails.
func StartAuthServer(t testing.TB, opts ASOptions) *AuthServer {
	t.Helper()
	rt := ensureRuntime(t)

	secret := randomHex(16)
	cfg := providerConfig{
		Secret:              secret,
		Scopes:              opts.Scopes,
		RotateRefreshTokens: opts.RotateRefreshTokens,
		SigningAlg:          opts.SigningAlg,
		DPoP:                opts.DPoP,
		DPoPNonce:           opts.DPoPNonce,
		OpaqueAccessTokens:  opts.OpaqueAccessTokens,
		Host:                opts.Host,
	}
	if !checkHost(opts.Host) {
		t.Fatalf("oauthtest: Host %q is not a name under .test", opts.Host)
	}
	if opts.AccessTokenTTL > 0 {
		cfg.AccessTokenTTL = max(1, int(opts.AccessTokenTTL.Round(time.Second)/time.Second))
	}
	switch cfg.SigningAlg {
	case "", "RS256", "ES256":
	default:
		t.Fatalf("oauthtest: unsupported SigningAlg %q (RS256 or ES256)", cfg.SigningAlg)
	}
	for _, c := range opts.Clients {
		cfg.Clients = append(cfg.Clients, providerClient(c))
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}

	stderr := &logtest.Buffer{}
	cmd := exec.Command(rt.node, rt.script)
	cmd.Env = append(cmd.Environ(), "OAUTHTEST_CONFIG="+string(cfgJSON), "NODE_NO_WARNINGS=1")
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closed when we exit: the provider then exits too
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		unavailable(t, "cannot start %s: %v", rt.node, err)
	}
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(waited)
	}()
	as := &AuthServer{t: t, secret: secret, stderr: stderr, introSecret: secret, opaque: opts.OpaqueAccessTokens}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Signal(interruptSignal())
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			t.Logf("oauthtest: oidc-provider stderr:\n%s", stderr.String())
		}
	})

	// The first stdout line announces the issuer.
	type hello struct {
		Issuer string `json:"issuer"`
	}
	lines := make(chan hello, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var h hello
		if sc.Scan() {
			_ = json.Unmarshal(sc.Bytes(), &h)
		}
		lines <- h
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case h := <-lines:
		if h.Issuer == "" {
			<-waited
			t.Fatalf("oauthtest: oidc-provider did not start (%s %s); stderr:\n%s", rt.node, rt.script, stderr.String())
		}
		as.Issuer = h.Issuer
	case <-waited:
		t.Fatalf("oauthtest: oidc-provider exited at start-up; stderr:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("oauthtest: oidc-provider did not start within 60s; stderr:\n%s", stderr.String())
	}
	as.MetadataURL = as.Issuer + "/.well-known/oauth-authorization-server"
	as.OIDCConfigURL = as.Issuer + "/.well-known/openid-configuration"

	var md struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		RegistrationEndpoint  string `json:"registration_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
		RevocationEndpoint    string `json:"revocation_endpoint"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	}
	// provider.mjs writes its line once it listens with every handler
	// attached: the metadata answers now or never.
	if err := getJSON(context.Background(), as.MetadataURL, nil, &md); err != nil {
		t.Fatalf("oauthtest: %s did not answer: %v; stderr:\n%s", as.MetadataURL, err, stderr.String())
	}
	if md.Issuer != as.Issuer {
		t.Fatalf("oauthtest: metadata issuer %q, want %q", md.Issuer, as.Issuer)
	}
	as.AuthorizationEndpoint = md.AuthorizationEndpoint
	as.TokenEndpoint = md.TokenEndpoint
	as.RegistrationEndpoint = md.RegistrationEndpoint
	as.JWKSURI = md.JWKSURI
	as.RevocationEndpoint = md.RevocationEndpoint
	as.IntrospectionEndpoint = md.IntrospectionEndpoint
	return as
}

// Stderr returns what the provider has written to stderr so far.
func (as *AuthServer) Stderr() string { return as.stderr.String() }

// Approve performs the authorization request authorizeURL headlessly: it
// logs in as user, grants every requested scope and resource, and returns
// the authorization response, i.e. the redirect to the client's redirect_uri
// (with code, state and iss, or error) which is not requested. A fresh
// session is used each time, so consecutive calls may use different users.
// An error is returned if the provider answers with an error page instead of
// redirecting (e.g. unknown client, bad redirect_uri, missing PKCE).
func (as *AuthServer) Approve(ctx context.Context, authorizeURL, user string) (*url.URL, error) {
	if user == "" {
		return nil, errors.New("oauthtest: Approve needs a user")
	}
	issuer, err := url.Parse(as.Issuer)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	client := loopbackClient(30 * time.Second)
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer client.CloseIdleConnections()
	next, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("oauthtest: authorize URL: %w", err)
	}
	for range 20 {
		if next.Scheme != issuer.Scheme || next.Host != issuer.Host {
			return next, nil
		}
		if strings.HasPrefix(next.Path, "/interaction/") {
			q := next.Query()
			q.Set("oauthtest_user", user)
			next.RawQuery = q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Oauthtest-Secret", as.secret)
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("oauthtest: GET %s: %w", next.Redacted(), err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return nil, fmt.Errorf("oauthtest: GET %s: HTTP %d (no redirect): %s", next.Path, resp.StatusCode, bytes.TrimSpace(body))
		}
		next, err = next.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("oauthtest: bad Location %q: %w", loc, err)
		}
	}
	return nil, errors.New("oauthtest: too many redirects during authorization")
}

// TokenRequests returns counts of token endpoint requests so far by
// grant_type. Failures are reported with t.Errorf.
func (as *AuthServer) TokenRequests() TokenCounts {
	var m map[string]int
	if err := getJSON(context.Background(), as.Issuer+"/__oauthtest/token-requests", as.testHeader(), &m); err != nil {
		as.t.Errorf("oauthtest: TokenRequests: %v", err)
	}
	c := TokenCounts{ByGrantType: map[string]int{}}
	for k, v := range m {
		c.ByGrantType[k] = v
		c.Total += v
	}
	c.AuthorizationCode = m["authorization_code"]
	c.RefreshToken = m["refresh_token"]
	return c
}

// RevokeAll revokes every grant issued so far with its refresh tokens,
// authorization codes and opaque access tokens, and returns how many grants
// it revoked. Already issued JWT access tokens stay valid until they expire
// (resource servers verify them offline). Failures are reported with
// t.Errorf.
func (as *AuthServer) RevokeAll() int {
	req, err := http.NewRequest(http.MethodPost, as.Issuer+"/__oauthtest/revoke-all", nil)
	if err != nil {
		as.t.Errorf("oauthtest: RevokeAll: %v", err)
		return 0
	}
	for k, v := range as.testHeader() {
		req.Header[k] = v
	}
	hc := loopbackClient(30 * time.Second)
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		as.t.Errorf("oauthtest: RevokeAll: %v", err)
		return 0
	}
	defer resp.Body.Close()
	var out struct {
		Revoked int `json:"revoked"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		as.t.Errorf("oauthtest: RevokeAll: HTTP %d: %s", resp.StatusCode, b)
		return 0
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		as.t.Errorf("oauthtest: RevokeAll: %v", err)
	}
	return out.Revoked
}

func (as *AuthServer) testHeader() http.Header {
	return http.Header{"X-Oauthtest-Secret": {as.secret}}
}

func getJSON(ctx context.Context, u string, h http.Header, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for k, vv := range h {
		req.Header[k] = vv
	}
	c := loopbackClient(10 * time.Second)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
