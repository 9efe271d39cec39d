package agent

import (
	"context"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// StaticCredentials is the CredentialProvider of the header-based auth
// types (NONE, RANCHER, BASIC, HEADER); OAUTH2 agents are passed to OAuth,
// or refused when it is nil.
type StaticCredentials struct {
	// RancherURL goes in the R_url header of RANCHER agents.
	RancherURL string
	// OAuth provides the credentials of OAUTH2 agents.
	OAuth CredentialProvider
}

// Credentials implements CredentialProvider.
func (p StaticCredentials) Credentials(ctx context.Context, a agentconfig.Agent, u User) (mcp.Credentials, error) {
	if a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 && p.OAuth != nil {
		return p.OAuth.Credentials(ctx, a, u)
	}
	return mcp.StaticCredentials(a, mcp.RancherIdentity{Token: u.Token, URL: p.RancherURL})
}
