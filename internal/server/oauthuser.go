package server

import (
	"net/http"

	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/oauth"
)

// OAuthUser is the oauth.UserFunc of the OAuth endpoints: for the routes
// mounted behind the server's user check (oauth.Routes.Protected, as
// Options.Protected) the user that check resolved, for the callback
// (oauth.Routes.Public, as Options.Extra) the user users resolves. The
// Host is the one the browser used (httpapi.RequestHost), which picks the callback
// URL among the allowed origins.
func OAuthUser(users UserResolver) oauth.UserFunc {
	return func(r *http.Request) (oauth.Identity, error) {
		u, ok := UserFrom(r.Context())
		if !ok {
			var err error
			if u, err = users.Resolve(r.Context(), r); err != nil {
				return oauth.Identity{}, err
			}
		}
		return oauth.Identity{UserID: u.ID, Host: httpapi.RequestHost(r), Cookies: r.Cookies()}, nil
	}
}
