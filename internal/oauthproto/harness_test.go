package oauthproto

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/internal/outbound"
)

// recorded is one request seen by the fake server.
type recorded struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
	Body         []byte
}

// fakeServer is a real local HTTP server whose routes are set per test; it
// records every request so tests can assert order and parameters.
type fakeServer struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	log    []recorded
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{routes: map[string]http.HandlerFunc{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			rec.Form, _ = url.ParseQuery(string(body))
		}
		f.mu.Lock()
		f.log = append(f.log, rec)
		h := f.routes[r.URL.Path]
		f.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[path] = h
}

func (f *fakeServer) json(path string, v any) {
	f.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	})
}

func (f *fakeServer) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var p []string
	for _, r := range f.log {
		p = append(p, r.Path)
	}
	return p
}

func (f *fakeServer) requests(path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.log {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeServer) requested(path string) bool { return slices.Contains(f.paths(), path) }

// asDoc returns a valid AS metadata document for issuer with endpoints on base.
func asDoc(issuer, base string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"registration_endpoint":                 base + "/register",
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      []string{"mcp:read", "offline_access"},
		"response_types_supported":              []string{"code"},
	}
}

func testClient() *http.Client { return outbound.NewClient(outbound.Options{}) }
