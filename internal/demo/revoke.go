package demo

import (
	"net/http"

	"github.com/rancher/ai-agent/internal/httpapi"
)

// revoke serves RFC 7009 token revocation for the demo's public clients
// (client_id in the body, §2.1): the token, access or refresh, is
// forgotten if that client holds it; revoking a refresh token also
// revokes the access tokens of the same client, user and resource (§2.1:
// "SHOULD also invalidate all access tokens based on the same
// authorization grant"). An unknown token is success too (§2.2).
func (a *AuthServer) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	client, token := r.PostForm.Get("client_id"), r.PostForm.Get("token")
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.clients[client]; !ok {
		httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if g, ok := a.access[token]; ok && g.Client == client {
		delete(a.access, token)
	}
	if g, ok := a.refresh[token]; ok && g.Client == client {
		delete(a.refresh, token)
		for at, ag := range a.access {
			if ag.Client == g.Client && ag.User == g.User && ag.Resource == g.Resource {
				delete(a.access, at)
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}
