package oauth

import (
	"net/http"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/httpapi"
)

// Paths of the connection endpoints.
const (
	// ConnectionsPath is the calling user's connections (GET) and, with
	// /{agent}, a sign-out (DELETE).
	ConnectionsPath = "/v1/api/oauth2/connections"
	// UserConnectionsPath is an administrator's view of a user's
	// connections: GET, DELETE (all), and DELETE .../{agent}.
	UserConnectionsPath = "/v1/api/oauth2/users/{userId}/connections"
)

// ConnectionOptions are the checks of the connection endpoints, made by the
// caller (package server knows the user and Rancher's answers).
type ConnectionOptions struct {
	// MayUse keeps the agents the request's user may use (nil: all).
	MayUse func(r *http.Request, agents []agentconfig.Agent) ([]agentconfig.Agent, error)
	// MayAdminister is nil when the request's user may manage other users'
	// connections (the users who may update aiagentconfigs). A nil func
	// refuses everyone.
	MayAdminister func(r *http.Request) error
}

// ConnectionRoutes are the connection endpoints, to mount behind the
// caller's user check and browser guard (Origin, Sec-Fetch-Site) like the
// other /v1/api/ routes: a DELETE is state-changing.
//
//	GET    /v1/api/oauth2/connections                          the caller's connections
//	DELETE /v1/api/oauth2/connections/{agent}                  sign out of one agent
//	GET    /v1/api/oauth2/users/{userId}/connections           (admin) a user's connections
//	DELETE /v1/api/oauth2/users/{userId}/connections           (admin) end them all
//	DELETE /v1/api/oauth2/users/{userId}/connections/{agent}   (admin) end one
func (s *Service) ConnectionRoutes(user UserFunc, o ConnectionOptions) map[string]http.Handler {
	h := &handlers{s: s, user: user}
	c := connHandlers{h: h, o: o}
	return map[string]http.Handler{
		"GET " + ConnectionsPath:                     h.auth(c.list),
		"DELETE " + ConnectionsPath + "/{agent}":     h.auth(c.signOut),
		"GET " + UserConnectionsPath:                 h.auth(c.admin(c.adminList)),
		"DELETE " + UserConnectionsPath:              h.auth(c.admin(c.adminRevoke)),
		"DELETE " + UserConnectionsPath + "/{agent}": h.auth(c.admin(c.adminRevoke)),
	}
}

type connHandlers struct {
	h *handlers
	o ConnectionOptions
}

func (c connHandlers) list(w http.ResponseWriter, r *http.Request) {
	agents, err := c.h.s.oauthAgents(r.Context())
	if err == nil && c.o.MayUse != nil {
		agents, err = c.o.MayUse(r, agents)
	}
	if err != nil {
		c.h.s.log.Warn("listing connections: agents", "error", err)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The agents cannot be listed right now; try again."})
		return
	}
	c.writeConnections(w, r, identity(r).UserID, agents)
}

func (c connHandlers) writeConnections(w http.ResponseWriter, r *http.Request, user string, agents []agentconfig.Agent) {
	conns, err := c.h.s.Connections(r.Context(), user, agents)
	if err != nil {
		c.h.s.log.Warn("listing connections", "error", err)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The connections cannot be read right now; try again."})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, conns)
}

// signOut ends the caller's connection to an agent and clears its cookies.
func (c connHandlers) signOut(w http.ResponseWriter, r *http.Request) {
	id, agent := identity(r), r.PathValue("agent")
	if a, ok := c.h.s.agentByName(r.Context(), agent); ok {
		if cfg, err := ConfigFromSecret(a.AuthSecret); err == nil && cfg.actsAsAgent() {
			httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "This agent's connection is shared by all its users; only an administrator can end it, by changing the agent."})
			return
		}
	}
	res, err := c.h.s.Revoke(r.Context(), RevokeOptions{User: id.UserID, Agent: agent, Actor: id.UserID, Event: OpRevoke})
	c.clearCookies(w, id, agent)
	if err != nil {
		c.h.s.log.Warn("sign-out failed", "agent", agent, "error", err)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The sign-out could not be completed; try again."})
		return
	}
	writeRevocation(w, res, false)
}

// clearCookies expires the sealed mcp_oauth_* cookies of agent.
func (c connHandlers) clearCookies(w http.ResponseWriter, id Identity, agent string) {
	path := "/"
	if u := c.h.s.RedirectURI(id.Host); u != "" {
		path = cookiePath(u)
	}
	for _, kind := range []string{cookieAccess, cookieRefresh} {
		http.SetCookie(w, &http.Cookie{Name: CookieName(kind, agent), Value: "", Path: path, MaxAge: -1,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	}
}

func writeRevocation(w http.ResponseWriter, res Revocation, bulk bool) {
	body := map[string]any{"revokedAtServer": res.RevokedAtServer}
	if res.Reason != "" {
		body["reason"] = res.Reason
	}
	if bulk {
		body["revoked"] = res.Revoked
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
}

// admin refuses (403) a caller who may not manage other users' connections.
func (c connHandlers) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error = errNotAdmin
		if c.o.MayAdminister != nil {
			err = c.o.MayAdminister(r)
		}
		if err != nil {
			c.h.s.log.Info("connection administration refused", "user", identity(r).UserID, "reason", err)
			httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "Only users who may configure AI agents can manage other users' connections"})
			return
		}
		next(w, r)
	}
}

type adminError string

func (e adminError) Error() string { return string(e) }

const errNotAdmin = adminError("no administration check is configured")

func (c connHandlers) adminList(w http.ResponseWriter, r *http.Request) {
	agents, err := c.h.s.oauthAgents(r.Context())
	if err != nil {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The agents cannot be listed right now; try again."})
		return
	}
	c.writeConnections(w, r, r.PathValue("userId"), agents)
}

func (c connHandlers) adminRevoke(w http.ResponseWriter, r *http.Request) {
	user, agent := r.PathValue("userId"), r.PathValue("agent")
	res, err := c.h.s.Revoke(r.Context(), RevokeOptions{User: user, Agent: agent, Actor: identity(r).UserID, Event: OpAdminRevoke,
		Reason: "revoked by an administrator"})
	if err != nil {
		c.h.s.log.Warn("administrative revocation failed", "user", user, "agent", agent, "error", err)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The revocation could not be completed; try again."})
		return
	}
	writeRevocation(w, res, agent == "")
}
