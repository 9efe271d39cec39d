package server

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/guard"
	"github.com/rancher/ai-agent/internal/origins"
)

// AllowEveryone is a MayConfigure that lets every user configure agents
// (RBAC_ENABLED=false, development).
func AllowEveryone(context.Context, agent.User) error { return nil }

// checks are the server's guard.Checks, which withPrincipal puts in every
// request's context: the routes' owners choose which run (package guard).
type checks struct {
	log          *slog.Logger
	origins      *origins.Policy
	mayConfigure func(ctx context.Context, u agent.User) error
}

// SameSite stops a browser from being used by another site (cross-site
// WebSocket hijacking, CSRF):
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
func (c checks) SameSite(r *http.Request) guard.Refusal {
	if err := c.origins.Check(r); err != nil {
		c.log.Info("browser request refused", "method", r.Method, "path", r.URL.Path, "reason", err)
		return guard.Refusal{Status: http.StatusForbidden, Detail: "Cross-site request refused"}
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return guard.Refusal{Status: http.StatusUnsupportedMediaType, Detail: "Content-Type must be application/json"}
		}
	}
	return guard.Refusal{}
}

// SignedIn answers 401 {"detail"} when the request has no Rancher user.
func (c checks) SignedIn(r *http.Request) guard.Refusal {
	if _, err := principalOf(r.Context()); err != nil {
		c.log.Info("unauthorized request", "path", r.URL.Path, "error", err)
		return guard.Refusal{Status: http.StatusUnauthorized, Detail: "Unauthorized"}
	}
	return guard.Refusal{}
}

// Admin answers 403 {"detail"} unless the user may configure agents: only
// they make the agent fetch a URL they name (OAuth discovery and
// registration, a model list with parameters) or read the agents' status.
func (c checks) Admin(r *http.Request) guard.Refusal {
	u, err := principalOf(r.Context())
	if err != nil {
		return c.SignedIn(r)
	}
	if c.mayConfigure == nil {
		err = errors.New("no access check is configured")
	} else {
		err = c.mayConfigure(r.Context(), u)
	}
	if err != nil {
		c.log.Info("request refused: the user may not configure agents", "path", r.URL.Path, "user", u.ID, "reason", err)
		return guard.Refusal{Status: http.StatusForbidden, Detail: "Only users who may configure AI agents can do this"}
	}
	return guard.Refusal{}
}
