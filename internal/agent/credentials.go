package agent

import (
	"context"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// CredentialsByAuthType is the CredentialProvider that dispatches on the
// agent's authenticationType: OAUTH2 agents get their per-user token from
// OAuth (refused when it is nil), the fixed-header types (NONE, RANCHER,
// BASIC, HEADER) get mcp.FixedHeaderCredentials.
type CredentialsByAuthType struct {
	// RancherURL goes in the R_url header of RANCHER agents.
	RancherURL string
	// OAuth provides the credentials of OAUTH2 agents.
	OAuth CredentialProvider
}

// Credentials implements CredentialProvider.
func (p CredentialsByAuthType) Credentials(ctx context.Context, a agentconfig.Agent, u User) (mcp.Credentials, error) {
	if a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 && p.OAuth != nil {
		return p.OAuth.Credentials(ctx, a, u)
	}
	return mcp.FixedHeaderCredentials(a, mcp.RancherIdentity{Token: u.Token, URL: p.RancherURL})
}
