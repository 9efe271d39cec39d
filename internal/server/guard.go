package server

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/origins"
)

// browserExempt are the paths under the guarded prefixes that a browser
// reaches from another site by design: the authorization server sends the
// sign-in popup to the callback (a cross-site navigation), authorization
// servers fetch our client metadata document, and probes call health and
// readiness.
func browserExempt(path string) bool {
	switch path {
	case "/v1/api/oauth2/callback", "/v1/api/oauth2/client-metadata.json", "/v1/api/health", "/v1/api/readiness":
		return true
	}
	return false
}

// guarded reports whether checkBrowser applies to a path: the agent's API,
// the chat WebSocket and the seed's /oauth/* forms.
func guarded(path string) bool {
	for _, p := range []string{"/v1/api/", "/v1/ws/", "/oauth/"} {
		if strings.HasPrefix(path, p) {
			return !browserExempt(path)
		}
	}
	return false
}

// checkBrowser is middleware that stops a browser from being used by
// another site (cross-site WebSocket hijacking, CSRF):
//
//   - a request whose Origin is present and not allowed, or whose
//     Sec-Fetch-Site is cross-site, gets 403 {"detail"}: a WebSocket
//     handshake is refused before any frame;
//   - a POST, PUT or PATCH must be Content-Type: application/json (415
//     otherwise), which a cross-site HTML form or a "simple" fetch cannot
//     send without a CORS preflight, and the agent answers no preflight.
//
// Requests without these headers (curl, the seed's commands) pass: they
// carry no victim's cookies. The real UI calls through Rancher's proxy,
// same origin as Rancher, with JSON bodies (ui-protocol.md §1.1).
func checkBrowser(log *slog.Logger, p *origins.Policy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !guarded(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if err := p.Check(r); err != nil {
			log.Info("browser request refused", "method", r.Method, "path", r.URL.Path, "reason", err)
			httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "Cross-site request refused"})
			return
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				httpapi.WriteJSON(w, http.StatusUnsupportedMediaType, map[string]string{"detail": "Content-Type must be application/json"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// fetchRoutes make the agent fetch a URL that the caller names: OAuth
// discovery and registration for the settings form (and the seed's forms),
// and a model list at a URL or with credentials.
func fetchRoutes() []string {
	return []string{
		"GET /v1/api/oauth2/metadata", "POST /v1/api/oauth2/dynamic-registration",
		"GET /oauth/metadata", "GET /oauth/dynamic-registration",
		"GET /v1/api/llm/{provider}/models",
	}
}

// AllowEveryone is a MayConfigure that lets every user configure agents
// (RBAC_ENABLED=false, development).
func AllowEveryone(context.Context, agent.User) error { return nil }

// guardFetch is middleware in front of the routes of fetchRoutes: the
// caller must be a user who may configure agents (403 {"detail"} when the
// answer is no or there is none). A model list without parameters names
// nothing to fetch and stays open to every user.
func (s *Server) guardFetch(next http.Handler) http.Handler {
	guard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Pattern == "GET /v1/api/llm/{provider}/models" && r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.o.Users.Resolve(r.Context(), r)
		if err != nil {
			s.log.Info("unauthorized request", "path", r.URL.Path, "error", err)
			httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
			return
		}
		if s.o.MayConfigure == nil {
			err = errors.New("no access check is configured")
		} else {
			err = s.o.MayConfigure(r.Context(), u)
		}
		if err != nil {
			s.log.Info("request refused: the user may not configure agents", "path", r.URL.Path, "user", u.ID, "reason", err)
			httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "Only users who may configure AI agents can do this"})
			return
		}
		next.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/", next)
	for _, p := range fetchRoutes() {
		mux.Handle(p, guard)
	}
	return mux
}
