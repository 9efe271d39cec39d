package demo

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rancher/ai-agent/internal/httpapi"
)

// AuthServer is the demo's OAuth 2.1 authorization server: RFC 8414
// metadata, dynamic client registration, an authorization page where the
// user picks a name and approves, PKCE S256 (required), RFC 8707 resource
// binding, RFC 9207 iss, rotating refresh tokens and RFC 7009 revocation
// (revoke.go). Tokens are opaque and live in memory; the demo MCP server
// checks them with Verify. It is for the demo only: there are no passwords.
type AuthServer struct {
	issuer    string
	accessTTL time.Duration

	mu      sync.Mutex
	clients map[string][]string // client_id -> redirect URIs
	codes   map[string]grant
	access  map[string]grant
	refresh map[string]grant
}

// grant is what a code or token stands for.
type grant struct {
	Client, User, Resource, Challenge, Redirect string
	Scopes                                      []string
	Expires                                     time.Time
}

// DemoScopes are the scopes the demo authorization server grants.
func DemoScopes() []string { return []string{"notes:read", "notes:write"} }

// NewAuthServer returns an authorization server whose issuer is the URL
// it will be served at. Access tokens last accessTTL.
func NewAuthServer(issuer string, accessTTL time.Duration) *AuthServer {
	return &AuthServer{issuer: issuer, accessTTL: accessTTL, clients: map[string][]string{},
		codes: map[string]grant{}, access: map[string]grant{}, refresh: map[string]grant{}}
}

// Handler serves the authorization server's endpoints.
func (a *AuthServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", a.metadata)
	mux.HandleFunc("POST /register", a.register)
	mux.HandleFunc("GET /authorize", a.authorizePage)
	mux.HandleFunc("POST /authorize", a.approve)
	mux.HandleFunc("POST /token", a.token)
	mux.HandleFunc("POST /revoke", a.revoke) // revoke.go
	return mux
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *AuthServer) metadata(w http.ResponseWriter, _ *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer": a.issuer, "authorization_endpoint": a.issuer + "/authorize",
		"token_endpoint": a.issuer + "/token", "registration_endpoint": a.issuer + "/register",
		"revocation_endpoint": a.issuer + "/revoke", "revocation_endpoint_auth_methods_supported": []string{"none"},
		"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported": []string{"S256"}, "token_endpoint_auth_methods_supported": []string{"none"},
		"scopes_supported": DemoScopes(), "authorization_response_iss_parameter_supported": true,
	})
}

func (a *AuthServer) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || len(req.RedirectURIs) == 0 {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata"})
		return
	}
	id := "demo-" + random()
	a.mu.Lock()
	a.clients[id] = req.RedirectURIs
	a.mu.Unlock()
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{
		"client_id": id, "redirect_uris": req.RedirectURIs, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
	})
}

var approvePage = template.Must(template.New("approve").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo sign-in</title>
<style>body{font-family:system-ui,sans-serif;margin:2.5rem;max-width:32rem}input{padding:.4rem}button{padding:.4rem 1rem;margin-right:.5rem}</style></head>
<body><h1>Demo authorization server</h1>
<p>The Rancher AI agent asks to use the <b>notes</b> MCP server as you, with the scopes <code>{{.Scope}}</code>.</p>
<form method="post" action="authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<p><label>Sign in as <input name="user" value="{{.User}}" required></label></p>
<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button>
</form></body></html>
`))

// checkRequest validates an authorization request and returns the client's
// registered redirect URI.
func (a *AuthServer) checkRequest(q url.Values) (string, bool) {
	a.mu.Lock()
	uris := a.clients[q.Get("client_id")]
	a.mu.Unlock()
	ok := slices.Contains(uris, q.Get("redirect_uri")) && q.Get("response_type") == "code" &&
		q.Get("code_challenge_method") == "S256" && q.Get("code_challenge") != "" && q.Get("state") != ""
	return q.Get("redirect_uri"), ok
}

func (a *AuthServer) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := a.checkRequest(q); !ok {
		http.Error(w, "invalid authorization request (unknown client or redirect URI, or no PKCE S256)", http.StatusBadRequest)
		return
	}
	params := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "scope", "resource"} {
		params[k] = q.Get(k)
	}
	// The name field starts as the demo user of this browser: the page's
	// cookie is host-wide (cookies ignore ports, RFC 6265 §8.5), so it
	// reaches this loopback server too. It only fills the field in.
	who, err := User(r)
	if err != nil {
		who = DefaultUser
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = approvePage.Execute(w, map[string]any{"Params": params, "Scope": q.Get("scope"), "User": who})
}

func (a *AuthServer) approve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	redirect, ok := a.checkRequest(r.PostForm)
	if !ok {
		http.Error(w, "invalid authorization request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {r.PostForm.Get("state")}, "iss": {a.issuer}}
	if user := strings.TrimSpace(r.PostForm.Get("user")); r.PostForm.Get("decision") != "allow" || user == "" {
		back.Set("error", "access_denied")
	} else {
		code := random()
		a.mu.Lock()
		a.codes[code] = grant{Client: r.PostForm.Get("client_id"), User: user, Resource: r.PostForm.Get("resource"),
			Challenge: r.PostForm.Get("code_challenge"), Redirect: redirect,
			Scopes: strings.Fields(r.PostForm.Get("scope")), Expires: time.Now().Add(time.Minute)}
		a.mu.Unlock()
		back.Set("code", code)
	}
	http.Redirect(w, r, redirect+"?"+back.Encode(), http.StatusFound)
}
