package controller

import (
	"context"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// MCPProber checks an agent by listing its tools through an mcp.Manager of
// its own, which it empties after each check so that the result reflects
// the server now, not a cached tool list. RANCHER agents use the
// service's own Rancher identity (RANCHER_API_TOKEN, RANCHER_URL), as the
// Python controller did; OAUTH2 agents go without a token and expect 401.
type MCPProber struct {
	Manager *mcp.Manager
	Rancher mcp.RancherIdentity
}

// Probe lists the agent's tools once.
func (p MCPProber) Probe(ctx context.Context, a agentconfig.Agent) error {
	probe := a
	if a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 {
		probe.Spec.AuthenticationType = v1alpha1.AuthNone
	}
	defer p.Manager.Forget(a.Name)
	cred, err := mcp.FixedHeaderCredentials(probe, p.Rancher)
	if err != nil {
		return err
	}
	_, err = p.Manager.Tools(ctx, probe, cred)
	return err
}
