package server

import (
	"net/http"

	"github.com/rancher/ai-agent/internal/oauth"
)

// OAuthUser is the oauth.UserFunc of the OAuth endpoints: the request's
// principal (withPrincipal) with what the sign-in needs from the request
// itself, built here so that the user type of package agent carries no
// HTTP. The Host is the one the browser used (httpapi.RequestHost), which
// picks the callback URL among the allowed origins (handshakeOf).
func OAuthUser(r *http.Request) (oauth.Identity, error) {
	u, err := principalOf(r.Context())
	if err != nil {
		return oauth.Identity{}, err
	}
	return identity(r.Context(), u, handshakeOf(r)), nil
}
