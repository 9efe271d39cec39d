package server

import (
	"net/http"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/httpapi"
)

// AgentInfo is one entry of GET /v1/api/agents.
type AgentInfo struct {
	Name               string `json:"name"`
	DisplayName        string `json:"displayName"`
	AuthenticationType string `json:"authenticationType"`
	MCPURL             string `json:"mcpURL,omitempty"`
	// Status is "active" or "error"; Reason says what is wrong and how to
	// fix it when it is "error".
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// listAgents is GET /v1/api/agents: every enabled agent with the status of
// its configuration, for administrators only (the MayConfigure check, 403
// otherwise). Readiness stays 200 with broken agents: the others work.
func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	if s.o.MayConfigure == nil || s.o.MayConfigure(r.Context(), u) != nil {
		s.log.Info("request refused: the user may not configure agents", "path", r.URL.Path, "user", u.ID)
		httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "Only users who may configure AI agents can do this"})
		return
	}
	list, err := s.o.Agents.Agents(r.Context())
	if err != nil {
		s.log.Error("listing agents failed", "error", err)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "The agents could not be read; the agent's log has the reason"})
		return
	}
	out := make([]AgentInfo, 0, len(list))
	for _, a := range list {
		status, reason := s.agentStatus(a)
		out = append(out, AgentInfo{Name: a.Name, DisplayName: a.Spec.DisplayName, AuthenticationType: string(a.Spec.AuthenticationType),
			MCPURL: a.Spec.MCPURL, Status: status, Reason: reason})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"agents": out})
}

// agentStatus is Options.AgentStatus, or what the agent's ConfigError says.
func (s *Server) agentStatus(a agentconfig.Agent) (status, reason string) {
	if s.o.AgentStatus != nil {
		return s.o.AgentStatus(a)
	}
	if a.ConfigError != "" {
		return "error", a.ConfigError
	}
	return "active", ""
}
