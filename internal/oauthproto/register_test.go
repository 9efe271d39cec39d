package oauthproto

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	tests := []struct {
		name       string
		supported  []string
		redirect   string
		resp       map[string]any
		wantMethod string // requested
		wantApp    string
		wantCI     ClientInfo
	}{
		{"confidential web, basic preferred", []string{"client_secret_post", "client_secret_basic"}, "https://rancher.example.com/cb",
			map[string]any{"client_id": "c1", "client_secret": "s1"}, AuthMethodBasic, "web",
			ClientInfo{ClientID: "c1", ClientSecret: "s1", AuthMethod: AuthMethodBasic}},
		{"post only", []string{"client_secret_post"}, "http://localhost:3000/callback",
			map[string]any{"client_id": "c2", "client_secret": "s2"}, AuthMethodPost, "native",
			ClientInfo{ClientID: "c2", ClientSecret: "s2", AuthMethod: AuthMethodPost}},
		{"public client", []string{"none"}, "http://127.0.0.1:8080/cb",
			map[string]any{"client_id": "c3", "token_endpoint_auth_method": "none"}, AuthMethodNone, "native",
			ClientInfo{ClientID: "c3", AuthMethod: AuthMethodNone}},
		{"AS returns its own method", nil, "https://r/cb",
			map[string]any{"client_id": "c4", "client_secret": "s4", "token_endpoint_auth_method": "client_secret_post"}, AuthMethodBasic, "web",
			ClientInfo{ClientID: "c4", ClientSecret: "s4", AuthMethod: AuthMethodPost}},
		{"no secret issued despite basic", []string{"client_secret_basic"}, "https://r/cb",
			map[string]any{"client_id": "c5"}, AuthMethodBasic, "web",
			ClientInfo{ClientID: "c5", AuthMethod: AuthMethodNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/register", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				json.NewEncoder(w).Encode(tt.resp)
			})
			meta := &ASMetadata{Issuer: as.URL, RegistrationEndpoint: as.URL + "/register", TokenEndpointAuthMethodsSupported: tt.supported}
			ci, err := Register(context.Background(), testClient(), meta, RegistrationRequest{RedirectURIs: []string{tt.redirect}})
			if err != nil {
				t.Fatal(err)
			}
			tt.wantCI.Issuer = as.URL
			if ci != tt.wantCI {
				t.Errorf("ClientInfo = %+v, want %+v", ci, tt.wantCI)
			}
			reqs := as.requests("/register")
			if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Header.Get("Content-Type") != "application/json" {
				t.Fatalf("requests = %+v", reqs)
			}
			var body map[string]any
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"client_name":                "Rancher AI Agent",
				"redirect_uris":              []any{tt.redirect},
				"grant_types":                []any{"authorization_code", "refresh_token"},
				"response_types":             []any{"code"},
				"token_endpoint_auth_method": tt.wantMethod,
				"application_type":           tt.wantApp,
			}
			for k, v := range want {
				if got, _ := json.Marshal(body[k]); string(got) != mustJSON(v) {
					t.Errorf("%s = %s, want %s", k, got, mustJSON(v))
				}
			}
		})
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestRegisterErrors(t *testing.T) {
	as := newFakeServer(t)
	as.handle("/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_redirect_uri","error_description":"nope"}`))
	})
	as.handle("/register-bad-json", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"client_id":"x","client_secret":"TOPSECRET"`))
	})
	req := RegistrationRequest{RedirectURIs: []string{"https://r/cb"}}

	_, err := Register(context.Background(), testClient(), &ASMetadata{Issuer: as.URL, RegistrationEndpoint: as.URL + "/register"}, req)
	var he *HTTPError
	if !errors.Is(err, ErrRegistration) || !errors.As(err, &he) || he.Code != "invalid_redirect_uri" {
		t.Fatalf("err = %v", err)
	}
	_, err = Register(context.Background(), testClient(), &ASMetadata{Issuer: as.URL, RegistrationEndpoint: as.URL + "/register-bad-json"}, req)
	if !errors.Is(err, ErrRegistration) || strings.Contains(err.Error(), "TOPSECRET") {
		t.Fatalf("err = %v (must not echo the body)", err)
	}

	// Registration endpoint on another origin than the metadata URL: refused
	// before any request.
	other := newFakeServer(t)
	req.SameOriginAs = as.URL + "/.well-known/oauth-authorization-server"
	_, err = Register(context.Background(), testClient(), &ASMetadata{Issuer: as.URL, RegistrationEndpoint: other.URL + "/register"}, req)
	if !errors.Is(err, ErrRegistration) || len(other.paths()) != 0 {
		t.Fatalf("err = %v, requests %v", err, other.paths())
	}
	// Mixed redirect URIs.
	_, err = Register(context.Background(), testClient(), &ASMetadata{Issuer: as.URL, RegistrationEndpoint: as.URL + "/register"},
		RegistrationRequest{RedirectURIs: []string{"https://r/cb", "http://localhost/cb"}})
	if !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("mixed: err = %v", err)
	}
}

func TestApplicationType(t *testing.T) {
	for _, tt := range []struct {
		uris    []string
		want    string
		wantErr bool
	}{
		{[]string{"https://rancher.example.com/v1/oauth/callback"}, "web", false},
		{[]string{"http://localhost:3000/callback"}, "native", false},
		{[]string{"http://127.0.0.1/cb", "http://[::1]/cb"}, "native", false},
		{[]string{"com.example.app:/cb"}, "native", false},
		{[]string{"http://rancher.example.com/cb"}, "", true},
		{[]string{"https://a/cb", "http://localhost/cb"}, "", true},
		{nil, "", true},
	} {
		got, err := ApplicationType(tt.uris)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ApplicationType(%v) = %q, %v", tt.uris, got, err)
		}
	}
}

func TestChooseClientPriority(t *testing.T) {
	as := newFakeServer(t)
	as.json("/register", map[string]any{"client_id": "dcr-client", "client_secret": "dcr-secret"})
	meta := &ASMetadata{
		Issuer: as.URL, RegistrationEndpoint: as.URL + "/register",
		ClientIDMetadataDocumentSupported: true, TokenEndpointAuthMethodsSupported: []string{"client_secret_post"},
	}
	const cimd = "https://agent.example.com/oauth/client.json"
	pre := &ClientInfo{ClientID: "pre", ClientSecret: "pre-secret"}
	dcr := &RegistrationRequest{RedirectURIs: []string{"https://r/cb"}}
	ctx := context.Background()

	ci, err := ChooseClient(ctx, testClient(), meta, ClientOptions{Preregistered: pre, CIMDURL: cimd, Registration: dcr})
	if err != nil || ci.ClientID != "pre" || ci.AuthMethod != AuthMethodPost || ci.Issuer != as.URL {
		t.Fatalf("pre-registered: %+v, %v", ci, err)
	}
	// Pre-registered for another AS: not used.
	ci, err = ChooseClient(ctx, testClient(), meta, ClientOptions{
		Preregistered: &ClientInfo{ClientID: "pre", ClientSecret: "x", Issuer: "https://other-as"}, CIMDURL: cimd, Registration: dcr})
	if err != nil || ci.ClientID != cimd || ci.AuthMethod != AuthMethodNone {
		t.Fatalf("CIMD: %+v, %v", ci, err)
	}
	if len(as.paths()) != 0 {
		t.Fatalf("registration happened although CIMD was possible: %v", as.paths())
	}
	// AS without CIMD support → DCR.
	noCIMD := *meta
	noCIMD.ClientIDMetadataDocumentSupported = false
	ci, err = ChooseClient(ctx, testClient(), &noCIMD, ClientOptions{CIMDURL: cimd, Registration: dcr})
	if err != nil || ci.ClientID != "dcr-client" || !slices.Equal(as.paths(), []string{"/register"}) {
		t.Fatalf("DCR: %+v, %v, %v", ci, err, as.paths())
	}
	// Nothing possible.
	noDCR := noCIMD
	noDCR.RegistrationEndpoint = ""
	if _, err := ChooseClient(ctx, testClient(), &noDCR, ClientOptions{CIMDURL: cimd, Registration: dcr}); !errors.Is(err, ErrNoClient) {
		t.Fatalf("err = %v, want ErrNoClient", err)
	}
	// Invalid CIMD URL.
	if _, err := ChooseClient(ctx, testClient(), meta, ClientOptions{CIMDURL: "https://agent.example.com"}); !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("err = %v, want ErrInvalidURL", err)
	}
}
