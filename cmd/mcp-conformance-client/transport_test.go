package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/outbound"
)

// fakeStack serves PRM, AS metadata, /authorize (immediate redirect), /token
// and an MCP endpoint that needs scope "a" for anything and "b" for calls.
type fakeStack struct {
	*httptest.Server
	mu          sync.Mutex
	authScopes  []string // scope of each authorization request
	alwaysDeny  bool
	lastRequest []byte
}

func newFakeStack(t *testing.T) *fakeStack {
	f := &fakeStack{}
	mux := http.NewServeMux()
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
			"registration_endpoint": f.URL + "/register", "code_challenge_methods_supported": []string{"S256"},
			"authorization_response_iss_parameter_supported": true, "token_endpoint_auth_methods_supported": []string{"none"},
		})
	})
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		writeJSON(w, map[string]any{"client_id": "dcr", "token_endpoint_auth_method": "none"})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.authScopes = append(f.authScopes, q.Get("scope"))
		f.mu.Unlock()
		loc, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"code": {"code " + q.Get("scope")}, "state": {q.Get("state")}, "iss": {f.URL}}
		loc.RawQuery = v.Encode()
		http.Redirect(w, r, loc.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		writeJSON(w, map[string]any{"access_token": "tok " + strings.TrimPrefix(r.Form.Get("code"), "code "), "token_type": "Bearer"})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.lastRequest = body
		deny := f.alwaysDeny
		f.mu.Unlock()
		rm := `resource_metadata="` + f.URL + `/.well-known/oauth-protected-resource/mcp"`
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer scope="a", `+rm)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if deny || !strings.Contains(tok, "b") {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="b", `+rm)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, "ok")
	})
	return f
}

// post sends body to the fake MCP endpoint the way internal/mcp does:
// authorized by the credential, refusals as *mcp.HTTPStatusError.
func post(f *fakeStack, c *codeCredential, body string) error {
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/mcp", strings.NewReader(body))
	if err := c.Authorize(req); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == 401 || resp.StatusCode == 403 {
		return &mcp.HTTPStatusError{StatusCode: resp.StatusCode, WWWAuthenticate: resp.Header.Values("WWW-Authenticate")}
	}
	return nil
}

func newTestCredential(f *fakeStack) *codeCredential {
	return newCodeCredential(outbound.NewClient(outbound.Options{}), f.URL+"/mcp", codeClientOptions(conformanceContext{}))
}

func TestStepUpUnion(t *testing.T) {
	f := newFakeStack(t)
	c := newTestCredential(f)
	if err := withAuth(context.Background(), c, func() error { return post(f, c, `{"jsonrpc":"2.0"}`) }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.authScopes, "|"); got != "a|a b" {
		t.Fatalf("authorization scopes = %q, want initial \"a\" then the union \"a b\"", got)
	}
	if string(f.lastRequest) != `{"jsonrpc":"2.0"}` {
		t.Fatalf("retried body = %q", f.lastRequest)
	}
}

func TestRetryLimit(t *testing.T) {
	f := newFakeStack(t)
	f.alwaysDeny = true
	c := newTestCredential(f)
	err := withAuth(context.Background(), c, func() error { return post(f, c, `{}`) })
	if !errors.Is(err, errTooManyAuthorizations) {
		t.Fatalf("err = %v, want errTooManyAuthorizations", err)
	}
	if len(f.authScopes) != maxAuthorizations {
		t.Fatalf("%d authorizations, want %d", len(f.authScopes), maxAuthorizations)
	}
}

func TestClientOptionsFromContext(t *testing.T) {
	cc, err := parseContext(`{"name":"x","client_id":"pre","client_secret":"sec","issuer":"http://as"}`)
	if err != nil {
		t.Fatal(err)
	}
	opts := codeClientOptions(cc)
	if opts.Preregistered == nil || opts.Preregistered.ClientID != "pre" ||
		opts.Preregistered.ClientSecret != "sec" || opts.Preregistered.Issuer != "http://as" || opts.CIMDURL != cimdURL {
		t.Fatalf("opts = %+v", opts)
	}
	if _, err := parseContext(`{`); err == nil {
		t.Fatal("bad JSON accepted")
	}
}
