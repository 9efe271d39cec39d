package agent

import (
	"context"
	"errors"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
)

// OAuth adapts an *oauth.Service to CredentialProvider and Authenticator:
// it is where an OAUTH2 agent's MCP requests get their per-user token.
type OAuth struct{ Service *oauth.Service }

func identity(u User) oauth.Identity {
	return oauth.Identity{UserID: u.ID, Host: u.Host, Cookies: u.Cookies}
}

// Credentials implements CredentialProvider.
func (o OAuth) Credentials(ctx context.Context, a agentconfig.Agent, u User) (mcp.Credentials, error) {
	c, err := o.Service.Credentials(ctx, a, identity(u))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Authenticate implements Authenticator.
func (o OAuth) Authenticate(ctx context.Context, em chat.Emitter, a agentconfig.Agent, u User, challenge error) error {
	var r oauth.Refusal
	if he, ok := errors.AsType[*mcp.HTTPStatusError](challenge); ok {
		r = oauth.Refusal{Status: he.StatusCode, WWWAuthenticate: he.WWWAuthenticate}
	}
	return o.Service.Authenticate(ctx, chat.Browser{Emitter: em}, a, identity(u), r)
}
