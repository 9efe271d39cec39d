package demo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"github.com/rancher/ai-agent/internal/httpapi"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// token serves the authorization_code and refresh_token grants.
func (a *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	a.mu.Lock()
	defer a.mu.Unlock()
	var g grant
	switch f.Get("grant_type") {
	case "authorization_code":
		c, ok := a.codes[f.Get("code")]
		delete(a.codes, f.Get("code"))
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if !ok || time.Now().After(c.Expires) || c.Client != f.Get("client_id") || c.Redirect != f.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.Challenge || (f.Get("resource") != "" && f.Get("resource") != c.Resource) {
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		g = c
	case "refresh_token":
		old, ok := a.refresh[f.Get("refresh_token")]
		delete(a.refresh, f.Get("refresh_token")) // rotation: each refresh token works once
		if !ok || old.Client != f.Get("client_id") {
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		g = old
	default:
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	at, rt := random(), random()
	g.Expires = time.Now().Add(a.accessTTL)
	a.access[at] = g
	a.refresh[rt] = grant{Client: g.Client, User: g.User, Resource: g.Resource, Scopes: g.Scopes}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(a.accessTTL.Seconds()),
		"refresh_token": rt, "scope": strings.Join(g.Scopes, " "),
	})
}

// Verifier checks the demo's access tokens for one resource (the protected
// MCP server's URL): a token issued for another resource is refused.
func (a *AuthServer) Verifier(resource string) auth.TokenVerifier {
	return func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		a.mu.Lock()
		g, ok := a.access[token]
		a.mu.Unlock()
		if !ok || time.Now().After(g.Expires) || (g.Resource != "" && g.Resource != resource) {
			return nil, fmt.Errorf("%w: unknown, expired or not for this server", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{Scopes: slices.Clone(g.Scopes), Expiration: g.Expires, UserID: g.User}, nil
	}
}
