package oauthtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// env is one AS + one protected MCP server + a redirect target that must
// never be requested.
type env struct {
	as       *oauthtest.AuthServer
	mcp      *oauthtest.ProtectedMCP
	redirect string
}

func newEnv(t *testing.T, opts oauthtest.ASOptions) *env {
	t.Helper()
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect_uri was requested: %s", r.URL)
	}))
	t.Cleanup(cb.Close)
	if opts.Scopes == nil {
		opts.Scopes = []string{"mcp:read", "mcp:write"}
	}
	as := oauthtest.StartAuthServer(t, opts)
	m := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, WriteScope: "mcp:write"})
	return &env{as: as, mcp: m, redirect: cb.URL + "/callback"}
}

type registered struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types"`
}

func register(t *testing.T, e *env, meta map[string]any) registered {
	t.Helper()
	body, _ := json.Marshal(meta)
	resp, err := http.Post(e.as.RegistrationEndpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("DCR: HTTP %d: %s", resp.StatusCode, b)
	}
	var r registered
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.ClientID == "" {
		t.Fatalf("DCR: no client_id: %s", b)
	}
	return r
}

func registerPublic(t *testing.T, e *env) registered {
	t.Helper()
	r := register(t, e, map[string]any{
		"client_name":                "oauthtest public",
		"redirect_uris":              []string{e.redirect},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
		"application_type":           "web",
	})
	if r.ClientSecret != "" || r.AuthMethod != "none" {
		t.Fatalf("public client got secret %q / auth method %q", r.ClientSecret, r.AuthMethod)
	}
	return r
}

func (e *env) config(c registered) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if c.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  e.redirect,
		Scopes:       []string{"mcp:read"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.as.AuthorizationEndpoint,
			TokenURL:  e.as.TokenEndpoint,
			AuthStyle: style,
		},
	}
}

// login runs the authorization code flow with PKCE and resource for user and
// returns the token response.
func (e *env) login(t *testing.T, cfg *oauth2.Config, user, resource string) *oauth2.Token {
	t.Helper()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	state := "st-" + user + "-" + oauth2.GenerateVerifier()[:8]
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	got, err := e.as.Approve(ctx, authURL, user)
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if want, _ := url.Parse(e.redirect); got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path {
		t.Fatalf("Approve returned %s, want a redirect to %s", got, e.redirect)
	}
	q := got.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s", got)
	}
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("iss") != e.as.Issuer {
		t.Fatalf("iss = %q, want %q", q.Get("iss"), e.as.Issuer)
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", got)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connect(t *testing.T, e *env, accessToken string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "oauthtest-client", Version: "1"}, nil)
	s, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:             e.mcp.URL,
		HTTPClient:           &http.Client{Transport: bearer{accessToken}},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err != nil {
		t.Fatalf("MCP connect: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func callText(t *testing.T, s *mcp.ClientSession, name string, args map[string]any) (string, error) {
	t.Helper()
	res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("%s: unexpected result %+v", name, res)
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

func whoami(t *testing.T, e *env, accessToken string) string {
	t.Helper()
	got, err := callText(t, connect(t, e, accessToken), "whoami", nil)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return got
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	status       int
}

// refresh is a plain HTTP refresh_token grant for a public client, with resource.
func refresh(t *testing.T, e *env, clientID, rt, resource string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}}
	if resource != "" {
		form.Set("resource", resource)
	}
	resp, err := http.PostForm(e.as.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	tr.status = resp.StatusCode
	return tr
}

// rawMCP posts one JSON-RPC message without the SDK.
func rawMCP(t *testing.T, e *env, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.mcp.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
const writeBody = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write","arguments":{"text":"x"}}}`

func TestMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oauthtest.ASOptions{})
	var md map[string]any
	getJSON(t, e.as.MetadataURL, &md)
	if md["issuer"] != e.as.Issuer || !strings.HasPrefix(e.as.Issuer, "http://127.0.0.1:") {
		t.Errorf("issuer %v / %s", md["issuer"], e.as.Issuer)
	}
	if md["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("iss parameter not advertised: %v", md)
	}
	if got := md["code_challenge_methods_supported"]; !equalJSON(got, []any{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	if got := md["scopes_supported"]; !equalJSON(got, []any{"openid", "offline_access", "mcp:read", "mcp:write"}) {
		t.Errorf("scopes_supported = %v", got)
	}
	if md["registration_endpoint"] != e.as.Issuer+"/reg" {
		t.Errorf("registration_endpoint = %v", md["registration_endpoint"])
	}

	var prm map[string]any
	getJSON(t, e.mcp.PRMURL, &prm)
	if !strings.HasSuffix(e.mcp.URL, "/mcp") || prm["resource"] != e.mcp.URL {
		t.Errorf("PRM resource = %v, URL = %s", prm["resource"], e.mcp.URL)
	}
	if !equalJSON(prm["authorization_servers"], []any{e.as.Issuer}) {
		t.Errorf("PRM authorization_servers = %v", prm["authorization_servers"])
	}
	if !equalJSON(prm["scopes_supported"], []any{"mcp:read", "mcp:write"}) {
		t.Errorf("PRM scopes_supported = %v", prm["scopes_supported"])
	}
}

func TestRoundTripRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oauthtest.ASOptions{AccessTokenTTL: time.Minute, RotateRefreshTokens: true})
	pub := registerPublic(t, e)
	if !slices.Contains(pub.GrantTypes, "refresh_token") {
		t.Fatalf("grant_types = %v", pub.GrantTypes)
	}
	cfg := e.config(pub)

	tok := e.login(t, cfg, "alice", e.mcp.URL)
	cl, err := oauthtest.ParseUnverifiedClaims(tok.AccessToken)
	if err != nil {
		t.Fatalf("access token is not a JWT: %v", err)
	}
	if len(cl.Audience) != 1 || cl.Audience[0] != e.mcp.URL || cl.Subject != "alice" || cl.Issuer != e.as.Issuer || cl.ClientID != pub.ClientID {
		t.Fatalf("claims = %+v", cl)
	}
	if cl.Scope != "mcp:read" {
		t.Errorf("scope = %q, want mcp:read", cl.Scope)
	}
	if ttl := time.Until(time.Unix(cl.Expiry, 0)); ttl < 50*time.Second || ttl > 61*time.Second {
		t.Errorf("access token TTL %s, want ~1m", ttl)
	}
	if h := jwtHeader(t, tok.AccessToken); h["alg"] != "RS256" {
		t.Errorf("alg = %v", h["alg"])
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token issued (scope mcp:read, no offline_access, no prompt)")
	}

	if got := whoami(t, e, tok.AccessToken); got != "alice" {
		t.Fatalf("whoami = %q, want alice", got)
	}
	s := connect(t, e, tok.AccessToken)
	if got, err := callText(t, s, "echo", map[string]any{"text": "hi"}); err != nil || got != "hi" {
		t.Fatalf("echo = %q, %v", got, err)
	}

	// Refresh with resource: new AT and (rotation) new RT.
	r1 := refresh(t, e, pub.ClientID, tok.RefreshToken, e.mcp.URL)
	if r1.status != 200 || r1.AccessToken == "" || r1.RefreshToken == "" {
		t.Fatalf("refresh: %+v", r1)
	}
	if r1.RefreshToken == tok.RefreshToken || r1.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	if cl2, _ := oauthtest.ParseUnverifiedClaims(r1.AccessToken); cl2 == nil || !slices.Contains(cl2.Audience, e.mcp.URL) || cl2.Subject != "alice" {
		t.Fatalf("refreshed claims = %+v", cl2)
	}
	if got := whoami(t, e, r1.AccessToken); got != "alice" {
		t.Fatalf("whoami after refresh = %q", got)
	}

	// Reuse of the rotated RT: invalid_grant, and the grant is revoked.
	r2 := refresh(t, e, pub.ClientID, tok.RefreshToken, e.mcp.URL)
	if r2.status != 400 || r2.Error != "invalid_grant" {
		t.Fatalf("reuse of rotated RT: %+v", r2)
	}
	r3 := refresh(t, e, pub.ClientID, r1.RefreshToken, e.mcp.URL)
	if r3.status != 400 || r3.Error != "invalid_grant" {
		t.Fatalf("newest RT after reuse detection: %+v", r3)
	}

	c := e.as.TokenRequests()
	if c.AuthorizationCode != 1 || c.RefreshToken != 3 || c.Total != 4 {
		t.Fatalf("TokenRequests = %+v, want 1 code + 3 refresh", c)
	}
	if got := e.mcp.Calls(); !slices.Equal(got, []string{"alice", "alice", "alice"}) {
		t.Fatalf("Calls = %v", got)
	}
}

func TestTwoUsersAndConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oauthtest.ASOptions{})
	conf := register(t, e, map[string]any{
		"redirect_uris":              []string{e.redirect},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	if conf.ClientSecret == "" || conf.AuthMethod != "client_secret_basic" {
		t.Fatalf("confidential DCR: %+v", conf)
	}
	cfg := e.config(conf)
	alice := e.login(t, cfg, "alice", e.mcp.URL)
	bob := e.login(t, cfg, "bob", e.mcp.URL)
	if got := whoami(t, e, bob.AccessToken); got != "bob" {
		t.Fatalf("whoami(bob) = %q", got)
	}
	if got := whoami(t, e, alice.AccessToken); got != "alice" {
		t.Fatalf("whoami(alice) = %q", got)
	}
	if got := e.mcp.Calls(); !slices.Equal(got, []string{"bob", "alice"}) {
		t.Fatalf("Calls = %v", got)
	}

	// A wrong secret is refused by the token endpoint.
	bad := *cfg
	bad.ClientSecret = "wrong"
	v := oauth2.GenerateVerifier()
	u, err := e.as.Approve(context.Background(), bad.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("resource", e.mcp.URL)), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Exchange(context.Background(), u.Query().Get("code"), oauth2.VerifierOption(v), oauth2.SetAuthURLParam("resource", e.mcp.URL)); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("exchange with wrong secret: %v", err)
	}

	// Without rotation the refresh token stays usable.
	rt := alice.RefreshToken
	for i := range 2 {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {e.mcp.URL}}
		req, _ := http.NewRequest(http.MethodPost, e.as.TokenEndpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(conf.ClientID), url.QueryEscape(conf.ClientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tr tokenResponse
		json.NewDecoder(resp.Body).Decode(&tr)
		resp.Body.Close()
		if resp.StatusCode != 200 || tr.AccessToken == "" || (tr.RefreshToken != "" && tr.RefreshToken != rt) {
			t.Fatalf("refresh %d without rotation: HTTP %d %+v", i, resp.StatusCode, tr)
		}
	}
	if c := e.as.TokenRequests(); c.AuthorizationCode != 3 || c.RefreshToken != 2 {
		t.Fatalf("TokenRequests = %+v", c)
	}
}

func TestChallenges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oauthtest.ASOptions{SigningAlg: "ES256"})
	other := oauthtest.StartProtectedMCP(t, e.as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}})
	want401 := `Bearer resource_metadata="` + e.mcp.PRMURL + `", scope="mcp:read"`
	if e.mcp.Challenge401 != want401 {
		t.Errorf("Challenge401 = %s", e.mcp.Challenge401)
	}

	resp := rawMCP(t, e, "", initBody)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want401 {
		t.Fatalf("no token: HTTP %d, WWW-Authenticate %q, want %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want401)
	}
	if resp := rawMCP(t, e, "garbage", initBody); resp.StatusCode != 401 {
		t.Fatalf("garbage token: HTTP %d", resp.StatusCode)
	}

	pub := registerPublic(t, e)
	cfg := e.config(pub)
	readTok := e.login(t, cfg, "alice", e.mcp.URL)
	if h := jwtHeader(t, readTok.AccessToken); h["alg"] != "ES256" {
		t.Fatalf("alg = %v, want ES256", h["alg"])
	}
	// Tampered signature.
	parts := strings.Split(readTok.AccessToken, ".")
	sig := []byte(parts[2])
	sig[5] ^= 1
	if resp := rawMCP(t, e, parts[0]+"."+parts[1]+"."+string(sig), initBody); resp.StatusCode != 401 {
		t.Fatalf("tampered token: HTTP %d", resp.StatusCode)
	}
	// A token for another resource is refused (aud check).
	otherTok := e.login(t, cfg, "alice", other.URL)
	if resp := rawMCP(t, e, otherTok.AccessToken, initBody); resp.StatusCode != 401 {
		t.Fatalf("token for %s accepted by %s: HTTP %d", other.URL, e.mcp.URL, resp.StatusCode)
	}

	// write without mcp:write: 403 insufficient_scope.
	want403 := `Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="` + e.mcp.PRMURL + `"`
	resp = rawMCP(t, e, readTok.AccessToken, writeBody)
	if resp.StatusCode != 403 || resp.Header.Get("WWW-Authenticate") != want403 {
		t.Fatalf("write without scope: HTTP %d, WWW-Authenticate %q, want %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want403)
	}
	s := connect(t, e, readTok.AccessToken)
	if _, err := callText(t, s, "write", map[string]any{"text": "x"}); err == nil {
		t.Fatal("write without mcp:write succeeded")
	}
	// (The go-sdk client closes its session after a 403; use a new one.)
	if got := whoami(t, e, readTok.AccessToken); got != "alice" {
		t.Fatalf("whoami = %q", got)
	}

	wcfg := *cfg
	wcfg.Scopes = []string{"mcp:read", "mcp:write"}
	writeTok := e.login(t, &wcfg, "bob", e.mcp.URL)
	if got, err := callText(t, connect(t, e, writeTok.AccessToken), "write", map[string]any{"text": "x"}); err != nil || got != "wrote x" {
		t.Fatalf("write with scope = %q, %v", got, err)
	}

	rc := e.mcp.Requests()
	if rc.Unauthorized != 4 || rc.Forbidden != 2 || rc.Total <= 6 {
		t.Fatalf("Requests = %+v, want 4 unauthorized, 2 forbidden", rc)
	}
	if got := e.mcp.Calls(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("Calls = %v", got)
	}
}

func TestExpiryRevokeAndPKCE(t *testing.T) {
	t.Parallel()
	cb := "http://127.0.0.1:9/callback"
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{
		Scopes:  []string{"mcp:read"},
		Clients: []oauthtest.Client{{ID: "pre-registered", Secret: "s3cret", RedirectURIs: []string{cb}}},
	})
	var skew atomic.Int64 // the MCP server's clock runs this far ahead
	m := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, Leeway: time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	e := &env{as: as, mcp: m, redirect: cb}
	cfg := e.config(registered{ClientID: "pre-registered", ClientSecret: "s3cret"})

	// PKCE is required: no code_challenge → error redirect.
	u, err := as.Approve(context.Background(), cfg.AuthCodeURL("s1", oauth2.SetAuthURLParam("resource", m.URL)), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("error") != "invalid_request" || u.Query().Get("code") != "" {
		t.Fatalf("authorize without PKCE: %s", u)
	}
	// Unknown redirect_uri: an error page, not a redirect.
	bad := *cfg
	bad.RedirectURL = "http://127.0.0.1:9/other"
	if _, err := as.Approve(context.Background(), bad.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice"); err == nil {
		t.Fatal("Approve with unregistered redirect_uri succeeded")
	}

	tok := e.login(t, cfg, "carol", m.URL)
	if got := whoami(t, e, tok.AccessToken); got != "carol" {
		t.Fatalf("whoami = %q", got)
	}
	cl, err := oauthtest.ParseUnverifiedClaims(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// The MCP server's clock moves past the token's expiry.
	skew.Store(int64(time.Until(time.Unix(cl.Expiry, 0).Add(time.Second))))
	if resp := rawMCP(t, e, tok.AccessToken, initBody); resp.StatusCode != 401 {
		t.Fatalf("expired token: HTTP %d", resp.StatusCode)
	}

	if n := as.RevokeAll(); n < 1 {
		t.Fatalf("RevokeAll revoked %d grants", n)
	}
	_, err = cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh after RevokeAll: %v", err)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
