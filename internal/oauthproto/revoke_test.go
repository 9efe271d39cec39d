package oauthproto

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRevokeRequest checks the request of RFC 7009 §2.1 for each client
// authentication method: a form POST with token and token_type_hint, the
// client authenticated as at the token endpoint (RFC 6749 §2.3.1: Basic
// with form-encoded ID and secret, or both in the body; a public client
// sends only its client_id).
func TestRevokeRequest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ci    ClientInfo
		basic [2]string // the decoded Basic credentials, if any
		form  url.Values
	}{
		{"client_secret_basic", ClientInfo{ClientID: "app:1", ClientSecret: "s e/cret", AuthMethod: AuthMethodBasic},
			[2]string{"app%3A1", "s+e%2Fcret"}, url.Values{"token": {"RT-1"}, "token_type_hint": {"refresh_token"}}},
		{"client_secret_post", ClientInfo{ClientID: "app", ClientSecret: "secret", AuthMethod: AuthMethodPost},
			[2]string{}, url.Values{"token": {"RT-1"}, "token_type_hint": {"refresh_token"}, "client_id": {"app"}, "client_secret": {"secret"}}},
		{"none", ClientInfo{ClientID: "public", AuthMethod: AuthMethodNone},
			[2]string{}, url.Values{"token": {"RT-1"}, "token_type_hint": {"refresh_token"}, "client_id": {"public"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/revoke", func(w http.ResponseWriter, r *http.Request) {}) // 200, empty body (§2.2)
			meta := &ASMetadata{Issuer: as.URL, RevocationEndpoint: as.URL + "/revoke"}
			if err := Revoke(context.Background(), testClient(), meta, tc.ci, "RT-1", HintRefreshToken); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			reqs := as.requests("/revoke")
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Fatalf("%s with %q, want a form POST", r.Method, r.Header.Get("Content-Type"))
			}
			if r.Form.Encode() != tc.form.Encode() {
				t.Errorf("form %q, want %q", r.Form.Encode(), tc.form.Encode())
			}
			req := &http.Request{Header: r.Header}
			id, secret, ok := req.BasicAuth()
			if tc.basic == ([2]string{}) {
				if ok || r.Header.Get("Authorization") != "" {
					t.Errorf("Authorization %q, want none", r.Header.Get("Authorization"))
				}
			} else if !ok || id != tc.basic[0] || secret != tc.basic[1] {
				t.Errorf("Basic %q:%q, want %q:%q", id, secret, tc.basic[0], tc.basic[1])
			}
		})
	}
}

// TestRevokeWithoutHint: the hint is optional (§2.1); none is sent when
// the caller gives none.
func TestRevokeWithoutHint(t *testing.T) {
	as := newFakeServer(t)
	as.handle("/revoke", func(w http.ResponseWriter, r *http.Request) {})
	meta := &ASMetadata{Issuer: as.URL, RevocationEndpoint: as.URL + "/revoke"}
	if err := Revoke(context.Background(), testClient(), meta, ClientInfo{ClientID: "p", AuthMethod: AuthMethodNone}, "AT-1", ""); err != nil {
		t.Fatal(err)
	}
	if f := as.requests("/revoke")[0].Form; f.Has("token_type_hint") || f.Get("token") != "AT-1" {
		t.Fatalf("form %v", f)
	}
}

// TestRevokeAnswers maps the server's answers (§2.2, §2.2.1): 200 is
// success whatever the body; 503 and other 5xx are transient; an OAuth
// error keeps its code; no error names the token or echoes the body.
func TestRevokeAnswers(t *testing.T) {
	const token = "RT-secret-value-42"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error // nil: success
		code   string
	}{
		{"200 empty", 200, "", nil, ""},
		{"200 with a body", 200, `{"ignored":true}`, nil, ""},
		{"503 retry later", 503, `{"error":"temporarily_unavailable"}`, ErrTransient, "temporarily_unavailable"},
		{"500 HTML", 500, "<html>" + token + "</html>", ErrTransient, ""},
		{"429", 429, "", ErrTransient, ""},
		{"unsupported_token_type", 400, `{"error":"unsupported_token_type","error_description":"JWT access tokens cannot be revoked"}`, ErrUnsupportedTokenType, "unsupported_token_type"},
		{"invalid_client", 401, `{"error":"invalid_client"}`, ErrInvalidClient, "invalid_client"},
		{"invalid_request", 400, `{"error":"invalid_request","error_description":"` + token + `"}`, ErrTokenEndpoint, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/revoke", func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(tc.body, "{") {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			meta := &ASMetadata{Issuer: as.URL, RevocationEndpoint: as.URL + "/revoke"}
			err := Revoke(context.Background(), testClient(), meta, ClientInfo{ClientID: "c", ClientSecret: "s", AuthMethod: AuthMethodBasic}, token, HintRefreshToken)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Revoke: %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Revoke: %v, want %v", err, tc.want)
			}
			var te *TokenError
			if !errors.As(err, &te) || te.StatusCode != tc.status || te.Code != tc.code {
				t.Errorf("TokenError %+v, want HTTP %d code %q", te, tc.status, tc.code)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "cannot be revoked") {
				t.Errorf("the error %q carries the token or the response body", err)
			}
		})
	}
}

// TestRevokeNoEndpoint: without a revocation_endpoint nothing is sent; a
// non-http(s) endpoint is refused before any request.
func TestRevokeNoEndpoint(t *testing.T) {
	ci := ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}
	if err := Revoke(context.Background(), testClient(), &ASMetadata{Issuer: "https://as.example"}, ci, "t", ""); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("no endpoint: %v, want ErrNoRevocation", err)
	}
	if err := Revoke(context.Background(), testClient(), nil, ci, "t", ""); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("no metadata: %v, want ErrNoRevocation", err)
	}
	err := Revoke(context.Background(), testClient(), &ASMetadata{Issuer: "https://as.example", RevocationEndpoint: "file:///etc/passwd"}, ci, "t", "")
	if !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("file: endpoint: %v, want ErrInvalidURL", err)
	}
}

// TestRevokeUnreachable: a server that cannot be reached is transient.
func TestRevokeUnreachable(t *testing.T) {
	as := newFakeServer(t)
	endpoint := as.URL + "/revoke"
	as.Close()
	err := Revoke(context.Background(), testClient(), &ASMetadata{Issuer: as.URL, RevocationEndpoint: endpoint}, ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}, "t", "")
	if !errors.Is(err, ErrTransient) {
		t.Fatalf("unreachable: %v, want ErrTransient", err)
	}
}
