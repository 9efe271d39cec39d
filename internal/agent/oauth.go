package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauthproto"
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
		_, r.AfterSignIn = errors.AsType[afterSignIn](challenge)
	}
	return o.Service.Authenticate(ctx, chat.Browser{Emitter: em}, a, identity(u), r)
}

// authErrorSentence is the one sentence of <auth-error> for a failed
// sign-in of agent: what failed and what to do, never the error chain
// (which goes to the log).
func authErrorSentence(agent string, err error) string {
	if e, ok := errors.AsType[*oauth.RefusedError](err); ok {
		return e.Sentence()
	}
	he, isHTTP := errors.AsType[*mcp.HTTPStatusError](err)
	switch {
	case errors.Is(err, oauth.ErrSignInIncomplete):
		return fmt.Sprintf("The sign-in for agent %q did not complete (no token arrived in time); try again.", agent)
	case errors.Is(err, oauth.ErrBadSecret):
		return fmt.Sprintf("Agent %q cannot sign in: its OAuth2 Secret is invalid; ask the administrator to fix it.", agent)
	case errors.Is(err, oauthproto.ErrRegistration), errors.Is(err, oauthproto.ErrNoClient):
		return fmt.Sprintf("Agent %q cannot sign in: client registration failed at the authorization server; the administrator can set a clientID in the agent's Secret.", agent)
	case errors.Is(err, oauthproto.ErrInvalidGrant), errors.Is(err, oauthproto.ErrInvalidClient), errors.Is(err, oauthproto.ErrTokenEndpoint):
		return fmt.Sprintf("Agent %q cannot sign in: the authorization server did not issue a token; try again, or ask the administrator to check the agent's OAuth2 settings.", agent)
	case isHTTP:
		return fmt.Sprintf("You signed in for agent %q, but its MCP server answered HTTP %d; try again later.", agent, he.StatusCode)
	case errors.Is(err, oauthproto.ErrTransient):
		return fmt.Sprintf("Agent %q cannot sign in: a server it needs cannot be reached; try again later.", agent)
	}
	return fmt.Sprintf("Signing in for agent %q failed; the agent's log has the reason.", agent)
}
