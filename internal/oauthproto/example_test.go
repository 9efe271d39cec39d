package oauthproto_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/rancher/ai-agent/internal/oauthproto"
)

// An MCP server's 401 names its protected resource metadata and the scope
// it needs (RFC 6750 §3, RFC 9728 §5.1); a malformed challenge beside it is
// skipped, not fatal.
func ExampleParseChallenges() {
	cs := oauthproto.ParseChallenges([]string{
		`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read", error="invalid_token"`,
		`Basic realm=`,
	})
	fmt.Println(oauthproto.ResourceMetadataURL(cs))
	fmt.Println(oauthproto.ChallengeScope(cs))
	fmt.Println(oauthproto.ChallengeError(cs))
	// Output:
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp
	// files:read
	// invalid_token
}

// The challenge's scope wins over the resource's scopes_supported (MCP
// authorization, scope selection); offline_access is added only where the
// authorization server lists it.
func ExampleSelectScopes() {
	prm := []string{"offline_access", "rancher:mcp"}
	fmt.Println(oauthproto.SelectScopes("", prm))
	fmt.Println(oauthproto.SelectScopes("files:write", prm))
	fmt.Println(oauthproto.WithOfflineAccess([]string{"files:write"}, []string{"openid", "offline_access"}))
	// Output:
	// [offline_access rancher:mcp]
	// [files:write]
	// [files:write offline_access]
}

// A client with a secret authenticates the way the authorization server
// prefers among those it lists (RFC 8414 token_endpoint_auth_methods_supported);
// a public client sends none.
func ExampleChooseAuthMethod() {
	fmt.Println(oauthproto.ChooseAuthMethod([]string{"client_secret_post", "client_secret_basic"}, true))
	fmt.Println(oauthproto.ChooseAuthMethod(nil, true))
	fmt.Println(oauthproto.ChooseAuthMethod([]string{"client_secret_basic"}, false))
	// Output:
	// client_secret_basic
	// client_secret_basic
	// none
}

// newExampleServers starts an MCP server that answers 401 with its
// protected resource metadata, and its authorization server (RFC 8414
// metadata with S256 and a registration endpoint).
func newExampleServers() (mcp, as *httptest.Server) {
	as = httptest.NewServer(nil)
	mcp = httptest.NewServer(nil)
	as.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": as.URL, "authorization_endpoint": as.URL + "/authorize", "token_endpoint": as.URL + "/token",
				"registration_endpoint": as.URL + "/register", "code_challenge_methods_supported": []string{"S256"},
				"response_types_supported": []string{"code"}, "scopes_supported": []string{"notes", "offline_access"},
			})
		case "/register":
			var req map[string]any
			_ = json.NewDecoder(r.Body).Decode(&req)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": "client-1", "redirect_uris": req["redirect_uris"], "token_endpoint_auth_method": "none"})
		default:
			http.NotFound(w, r)
		}
	})
	mcp.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-protected-resource/mcp" {
			_ = json.NewEncoder(w).Encode(map[string]any{"resource": mcp.URL + "/mcp", "authorization_servers": []string{as.URL}, "scopes_supported": []string{"notes"}})
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+mcp.URL+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	return mcp, as
}

// Discovery from nothing but the MCP server's URL (MCP authorization
// 2025-11-25): an unauthenticated request, the 401's resource_metadata,
// the protected resource metadata (RFC 9728), then the authorization
// server's metadata (RFC 8414), its issuer checked.
func ExampleDiscover() {
	mcp, as := newExampleServers()
	defer mcp.Close()
	defer as.Close()
	d, err := oauthproto.Discover(context.Background(), http.DefaultClient, mcp.URL+"/mcp", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Issuer == as.URL, d.Resource == mcp.URL+"/mcp", d.ScopesSupported, d.AuthServer.SupportsS256())
	// Output: true true [notes] true
}

// Dynamic client registration (RFC 7591) when the Secret names no client,
// then the authorization request with PKCE S256 and the resource indicator
// (RFC 7636, RFC 8707). The Pending record stays with the caller until the
// callback.
func ExampleAuthorizationURL() {
	mcp, as := newExampleServers()
	defer mcp.Close()
	defer as.Close()
	ctx := context.Background()
	d, err := oauthproto.Discover(ctx, http.DefaultClient, mcp.URL+"/mcp", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	redirect := "https://rancher.example.com/v1/api/oauth2/callback"
	ci, err := oauthproto.Register(ctx, http.DefaultClient, &d.AuthServer, oauthproto.RegistrationRequest{RedirectURIs: []string{redirect}})
	if err != nil {
		fmt.Println(err)
		return
	}
	authURL, pending, err := oauthproto.AuthorizationURL(d, ci, redirect, oauthproto.WithOfflineAccess(d.ScopesSupported, d.AuthServer.ScopesSupported))
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	fmt.Println(ci.ClientID, q.Get("client_id"), q.Get("code_challenge_method"), q.Get("scope"))
	fmt.Println(q.Get("resource") == mcp.URL+"/mcp", q.Get("state") == pending.State, pending.Verifier != "")
	// Output:
	// client-1 client-1 S256 notes offline_access
	// true true true
}
