package agent

import (
	"errors"
	"fmt"

	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// sentencer is an error that carries the user's sentence (SignInError,
// oauth.RefusedError).
type sentencer interface {
	error
	Sentence() string
}

// authErrorText is the text of <auth-error> for a failed sign-in of
// agent: what failed and what to do, then how to sign out when the
// Authenticator can say.
func (s *Session) authErrorText(agent string, err error) string {
	msg := authErrorSentence(agent, err)
	if t, ok := s.r.o.Auth.(SignOutTeller); ok {
		msg += " " + t.SignOutSentence(agent)
	}
	return msg
}

// authErrorSentence is the one sentence of <auth-error> for a failed
// sign-in of agent: what failed and what to do, never the error chain
// (which goes to the log).
func authErrorSentence(agent string, err error) string {
	if e, ok := errors.AsType[sentencer](err); ok {
		return e.Sentence()
	}
	he, isHTTP := errors.AsType[*mcp.HTTPStatusError](err)
	switch {
	case errors.Is(err, oauthproto.ErrRegistration), errors.Is(err, oauthproto.ErrNoClient):
		return fmt.Sprintf("Agent %q cannot sign in: client registration failed at the authorization server; the administrator can set a clientID in the agent's Secret.", agent)
	case errors.Is(err, oauthproto.ErrInvalidGrant), errors.Is(err, oauthproto.ErrInvalidClient), errors.Is(err, oauthproto.ErrTokenEndpoint):
		return fmt.Sprintf("Agent %q cannot sign in: the authorization server did not issue a token; try again, or ask the administrator to check the agent's OAuth2 settings.", agent)
	case isHTTP:
		return fmt.Sprintf("You signed in for agent %q, but its MCP server answered HTTP %d; try again later, and tell the administrator if it persists.", agent, he.StatusCode)
	case errors.Is(err, oauthproto.ErrTransient):
		return fmt.Sprintf("Agent %q cannot sign in because a server it needs cannot be reached; try again later, and tell the administrator if it persists.", agent)
	}
	return fmt.Sprintf("Signing in for agent %q failed; try again, and tell the administrator if it persists (the agent's log has the reason).", agent)
}
