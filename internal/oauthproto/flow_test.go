package oauthproto

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func testDiscovery(as *fakeServer, issSupported bool) *Discovery {
	return &Discovery{
		Resource: "https://mcp.example.com/mcp",
		MCPURL:   "https://mcp.example.com/mcp",
		Issuer:   as.URL,
		AuthServer: ASMetadata{
			Issuer:                        as.URL,
			AuthorizationEndpoint:         as.URL + "/authorize",
			TokenEndpoint:                 as.URL + "/token",
			CodeChallengeMethodsSupported: []string{"S256"},
			AuthorizationResponseIssParameterSupported: issSupported,
		},
	}
}

func tokenOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": "RT-1", "scope": "mcp:read offline_access",
	})
}

func TestAuthorizationURL(t *testing.T) {
	as := newFakeServer(t)
	d := testDiscovery(as, true)
	ci := ClientInfo{ClientID: "client-1", Issuer: as.URL}
	raw, p, err := AuthorizationURL(d, ci, "https://rancher.example.com/cb", []string{"mcp:read", "offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != as.URL+"/authorize" {
		t.Errorf("endpoint = %s", raw)
	}
	want := map[string]string{
		"response_type":         "code",
		"client_id":             "client-1",
		"redirect_uri":          "https://rancher.example.com/cb",
		"code_challenge_method": "S256",
		"resource":              "https://mcp.example.com/mcp",
		"scope":                 "mcp:read offline_access",
		"state":                 p.State,
		"prompt":                "consent", // OIDC Core §11, for offline_access
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	sum := sha256.Sum256([]byte(p.Verifier))
	if q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Error("code_challenge is not S256(verifier)")
	}
	if b, err := base64.RawURLEncoding.DecodeString(p.State); err != nil || len(b) != 32 {
		t.Errorf("state %q is not 32 random bytes base64url", p.State)
	}
	if p.Issuer != as.URL || p.Resource != d.Resource || p.ClientID != "client-1" || p.RedirectURI != "https://rancher.example.com/cb" || len(p.Scopes) != 2 {
		t.Errorf("pending = %+v", p)
	}
	_, p2, _ := AuthorizationURL(d, ci, "https://rancher.example.com/cb", nil)
	if p2.State == p.State || p2.Verifier == p.Verifier {
		t.Error("state/verifier reused")
	}
	raw, _, _ = AuthorizationURL(d, ci, "https://rancher.example.com/cb", nil)
	if strings.Contains(raw, "scope=") || strings.Contains(raw, "prompt=") {
		t.Errorf("scope and prompt must be omitted when no scope is asked: %s", raw)
	}
	if raw, _, _ = AuthorizationURL(d, ci, "https://rancher.example.com/cb", []string{"mcp:read"}); strings.Contains(raw, "prompt=") {
		t.Errorf("prompt without offline_access: %s", raw)
	}

	noPKCE := *d
	noPKCE.AuthServer.CodeChallengeMethodsSupported = nil
	if _, _, err := AuthorizationURL(&noPKCE, ci, "https://r/cb", nil); !errors.Is(err, ErrPKCEUnsupported) {
		t.Errorf("no S256: err = %v", err)
	}
	if _, _, err := AuthorizationURL(d, ClientInfo{ClientID: "c", Issuer: "https://other"}, "https://r/cb", nil); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("foreign client: err = %v", err)
	}
}

func TestCheckAuthorizationURL(t *testing.T) {
	as := newFakeServer(t)
	d := testDiscovery(as, true)
	ci := ClientInfo{ClientID: "client-1", Issuer: as.URL}
	raw, p, err := AuthorizationURL(d, ci, "https://rancher.example.com/cb", []string{"mcp:read"})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAuthorizationURL(raw, &d.AuthServer, p); err != nil {
		t.Fatalf("the flow's own URL: %v", err)
	}
	_, other, _ := AuthorizationURL(d, ci, "https://rancher.example.com/cb", nil)
	with := func(f func(u *url.URL, q url.Values)) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		f(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	for name, tc := range map[string]struct {
		url  string
		p    Pending
		want string
	}{
		"another origin": {with(func(u *url.URL, _ url.Values) { u.Host = "evil.example" }), p, "origin"},
		"another scheme": {with(func(u *url.URL, _ url.Values) {
			u.Scheme = map[string]string{"http": "https", "https": "http"}[u.Scheme]
		}), p, "origin"},
		"another path":         {with(func(u *url.URL, _ url.Values) { u.Path = "/login" }), p, "path"},
		"userinfo":             {with(func(u *url.URL, _ url.Values) { u.User = url.User("x") }), p, "userinfo"},
		"another flow's state": {raw, other, "state"},
		"no state":             {with(func(_ *url.URL, q url.Values) { q.Del("state") }), p, "state"},
		"two states":           {with(func(_ *url.URL, q url.Values) { q.Add("state", p.State) }), p, "state"},
		"another client":       {with(func(_ *url.URL, q url.Values) { q.Set("client_id", "evil") }), p, "client_id"},
		"another redirect":     {with(func(_ *url.URL, q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }), p, "redirect_uri"},
		"implicit grant":       {with(func(_ *url.URL, q url.Values) { q.Set("response_type", "token") }), p, "response_type"},
		"plain PKCE":           {with(func(_ *url.URL, q url.Values) { q.Set("code_challenge_method", "plain") }), p, "code_challenge_method"},
		"no challenge":         {with(func(_ *url.URL, q url.Values) { q.Del("code_challenge") }), p, "code_challenge"},
		"garbage":              {"://", p, "unparsable"},
	} {
		err := CheckAuthorizationURL(tc.url, &d.AuthServer, tc.p)
		if !errors.Is(err, ErrForeignAuthorizationURL) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrForeignAuthorizationURL naming %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), p.State) {
			t.Errorf("%s: the error carries the state: %v", name, err)
		}
	}
	if err := CheckAuthorizationURL(raw, &ASMetadata{}, p); !errors.Is(err, ErrForeignAuthorizationURL) {
		t.Errorf("no endpoint: err = %v", err)
	}
}

func TestExchangeSendsVerifierResourceAndClientAuth(t *testing.T) {
	for _, tt := range []struct {
		ci        ClientInfo
		wantBasic bool
		wantForm  map[string]string // extra form fields
		absent    []string
	}{
		{ClientInfo{ClientID: "id:1", ClientSecret: "s&1", AuthMethod: AuthMethodBasic}, true, nil, []string{"client_id", "client_secret"}},
		{ClientInfo{ClientID: "id2", ClientSecret: "s2", AuthMethod: AuthMethodPost}, false, map[string]string{"client_id": "id2", "client_secret": "s2"}, nil},
		{ClientInfo{ClientID: "id3", AuthMethod: AuthMethodNone}, false, map[string]string{"client_id": "id3"}, []string{"client_secret"}},
	} {
		t.Run(tt.ci.AuthMethod, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/token", tokenOK)
			d := testDiscovery(as, true)
			tt.ci.Issuer = as.URL
			raw, p, err := AuthorizationURL(d, tt.ci, "http://localhost:3000/callback", []string{"mcp:read"})
			if err != nil {
				t.Fatal(err)
			}
			challenge, _ := url.Parse(raw)
			tok, err := Exchange(context.Background(), testClient(), p, "CODE", as.URL, tt.ci, &d.AuthServer)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "AT-1" || tok.RefreshToken != "RT-1" || tok.Expiry.IsZero() ||
				strings.Join(TokenScopes(tok), " ") != "mcp:read offline_access" {
				t.Errorf("token = %+v", tok)
			}
			reqs := as.requests("/token")
			if len(reqs) != 1 {
				t.Fatalf("%d token requests", len(reqs))
			}
			f := reqs[0].Form
			for k, v := range map[string]string{
				"grant_type": "authorization_code", "code": "CODE",
				"redirect_uri": "http://localhost:3000/callback", "resource": "https://mcp.example.com/mcp",
				"code_verifier": p.Verifier,
			} {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if challenge.Query().Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
				t.Error("verifier sent does not match the challenge sent")
			}
			if challenge.Query().Get("resource") != f.Get("resource") {
				t.Error("resource differs between authorize and token requests")
			}
			for k, v := range tt.wantForm {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			for _, k := range tt.absent {
				if f.Has(k) {
					t.Errorf("%s must not be sent", k)
				}
			}
			user, pass, ok := (&http.Request{Header: reqs[0].Header}).BasicAuth()
			if ok != tt.wantBasic {
				t.Fatalf("basic auth present = %v", ok)
			}
			if ok {
				if uu, _ := url.QueryUnescape(user); uu != "id:1" {
					t.Errorf("basic user = %q", user)
				}
				if pp, _ := url.QueryUnescape(pass); pp != "s&1" {
					t.Errorf("basic password mismatch")
				}
			}
		})
	}
}

func TestExchangeIssRules(t *testing.T) {
	for _, tt := range []struct {
		name       string
		advertised bool
		iss        string // "@" = the issuer
		want       error
	}{
		{"advertised and correct", true, "@", nil},
		{"advertised and missing", true, "", ErrIssMissing},
		{"advertised and wrong", true, "https://evil.example.com", ErrIssMismatch},
		{"trailing slash is a mismatch", true, "@/", ErrIssMismatch},
		{"not advertised, absent", false, "", nil},
		{"not advertised, correct", false, "@", nil},
		{"not advertised, wrong", false, "https://evil.example.com", ErrIssMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/token", tokenOK)
			d := testDiscovery(as, tt.advertised)
			ci := ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone, Issuer: as.URL}
			_, p, err := AuthorizationURL(d, ci, "https://r/cb", nil)
			if err != nil {
				t.Fatal(err)
			}
			iss := strings.Replace(tt.iss, "@", as.URL, 1)
			_, err = Exchange(context.Background(), testClient(), p, "CODE", iss, ci, &d.AuthServer)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if called := len(as.requests("/token")) > 0; called != (tt.want == nil) {
				t.Fatalf("token endpoint called = %v", called)
			}
		})
	}
}

func TestExchangeRejectsFlowFromOtherIssuer(t *testing.T) {
	as := newFakeServer(t)
	as.handle("/token", tokenOK)
	d := testDiscovery(as, false)
	ci := ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}
	_, p, _ := AuthorizationURL(d, ci, "https://r/cb", nil)
	other := d.AuthServer
	other.Issuer = as.URL + "/other"
	if _, err := Exchange(context.Background(), testClient(), p, "CODE", "", ci, &other); !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Exchange(context.Background(), testClient(), p, "CODE", "", ClientInfo{ClientID: "other", AuthMethod: AuthMethodNone}, &d.AuthServer); !errors.Is(err, ErrNoClient) {
		t.Fatalf("client swap: err = %v", err)
	}
	if len(as.paths()) != 0 {
		t.Fatal("token endpoint called")
	}
}

func TestParseCallback(t *testing.T) {
	as := &ASMetadata{Issuer: "https://as", AuthorizationResponseIssParameterSupported: true}
	p := Pending{State: "S", Issuer: "https://as"}
	for _, tt := range []struct {
		q    string
		want error
	}{
		{"code=C&state=S&iss=https%3A%2F%2Fas", nil},
		{"code=C&state=X&iss=https%3A%2F%2Fas", ErrStateMismatch},
		{"code=C&iss=https%3A%2F%2Fas", ErrStateMismatch},
		{"code=C&state=S", ErrIssMissing},
		// An error response from a mixed-up AS is not acted upon: iss first.
		{"error=access_denied&state=S&iss=https%3A%2F%2Fevil", ErrIssMismatch},
		{"error=access_denied&state=S&iss=https%3A%2F%2Fas", ErrAuthorizationDenied},
		{"state=S&iss=https%3A%2F%2Fas", ErrAuthorizationDenied},
	} {
		q, _ := url.ParseQuery(tt.q)
		code, err := ParseCallback(q, p, as)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.q, err, tt.want)
		}
		if tt.want == nil && code != "C" {
			t.Errorf("%s: code = %q", tt.q, code)
		}
	}
}
