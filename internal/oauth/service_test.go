package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/store"
)

// fakeAS serves RFC 8414 metadata and a token endpoint whose first
// `failures` refresh requests answer with status `code`.
func fakeAS(t testing.TB, failures int32, code int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
				"code_challenge_methods_supported": []string{"S256"},
			})
		case "/token":
			n := calls.Add(1)
			_ = r.ParseForm()
			if r.Form.Get("resource") == "" || r.Form.Get("refresh_token") != "rt-1" {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":"invalid_request"}`))
				return
			}
			if n <= failures {
				w.WriteHeader(code)
				if code == 400 {
					w.Write([]byte(`{"error":"invalid_grant"}`))
				}
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func testService(t *testing.T, as *httptest.Server) (*Service, *Vault, agentconfig.Agent) {
	t.Helper()
	sealer, _ := NewSealer(GenerateKey())
	v := NewVault(store.NewMemory(), sealer, nil)
	a := agentconfig.Agent{Name: "gh", Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{
		MCPURL: "http://127.0.0.1:1/mcp", AuthenticationType: v1alpha1.AuthOAuth2,
	}, AuthSecret: map[string][]byte{"clientID": []byte("c"), "metadataEndpoint": []byte(as.URL + "/.well-known/oauth-authorization-server")}}
	s, err := NewService(ServiceOptions{
		Vault: v, Sealer: sealer, Agents: agentconfig.StaticSource{a},
		Endpoint:    func(a agentconfig.Agent) (string, error) { return a.Spec.MCPURL, nil },
		RedirectURI: "http://127.0.0.1:9/v1/api/oauth2/callback",
		// The retries of a transient failure wait on a real timer (the
		// token endpoint is a real server): a short one.
		RetryWait: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, v, a
}

func expiredToken(t *testing.T, v *Vault, as *httptest.Server) TokenKey {
	key := NewTokenKey("u-a", "gh", as.URL)
	err := v.Put(context.Background(), key, TokenSet{AccessToken: "at-1", RefreshToken: "rt-1",
		Expiry: time.Now().Add(-time.Minute), Client: oauthproto.ClientInfo{ClientID: "c", AuthMethod: oauthproto.AuthMethodNone, Issuer: as.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestRefreshRetriesTransientErrors(t *testing.T) {
	as, calls := fakeAS(t, 2, http.StatusServiceUnavailable)
	s, v, a := testService(t, as)
	key := expiredToken(t, v, as)
	cred, err := s.Credentials(context.Background(), a, Identity{UserID: "u-a"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://mcp/", nil)
	if err := cred.Authorize(req); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer at-2" || calls.Load() != 3 {
		t.Fatalf("header %q after %d token requests", got, calls.Load())
	}
	ts, _ := v.Get(context.Background(), key)
	if ts.RefreshToken != "rt-2" {
		t.Fatalf("rotated refresh token not kept: %+v", ts)
	}
}

func TestRefreshInvalidGrantForgetsTokens(t *testing.T) {
	as, calls := fakeAS(t, 100, http.StatusBadRequest)
	s, v, a := testService(t, as)
	key := expiredToken(t, v, as)
	cred, _ := s.Credentials(context.Background(), a, Identity{UserID: "u-a"})
	req, _ := http.NewRequest(http.MethodPost, "http://mcp/", nil)
	_ = cred.Authorize(req)
	if req.Header.Get("Authorization") != "" || calls.Load() != 1 {
		t.Fatalf("header %q after %d requests (invalid_grant is not retried)", req.Header.Get("Authorization"), calls.Load())
	}
	if _, err := v.Get(context.Background(), key); !errors.Is(err, ErrNoToken) {
		t.Fatalf("tokens kept after invalid_grant: %v", err)
	}
}
