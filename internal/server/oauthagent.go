package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
)

// OAuthAgent adapts an *oauth.Service to agent.CredentialProvider and
// agent.Authenticator: it is where an OAUTH2 agent's MCP requests get their
// per-user token. It lives in the wiring, not in package agent, so that the
// agent knows no HTTP and no OAuth: the identity OAuth needs (the host the
// browser used, the handshake's cookies) is built here from the WebSocket
// request the chat arrived on.
type OAuthAgent struct{ Service *oauth.Service }

// handshake is what the OAuth sign-in needs from a chat's WebSocket
// request; the chat's handler puts it in each Open and Turn context.
type handshake struct {
	// host is the host the client says it used (X-Forwarded-Host, else
	// Host). It is client-supplied: the OAuth redirect URI uses it only
	// when it names an allowed origin.
	host string
	// cookies are the handshake's cookies (the sealed OAuth refresh cookie
	// tells that a <token-refresh> may work).
	cookies []*http.Cookie
}

type handshakeKey struct{}

func handshakeOf(r *http.Request) *handshake {
	return &handshake{host: httpapi.RequestHost(r), cookies: r.Cookies()}
}

func withHandshake(ctx context.Context, h *handshake) context.Context {
	return context.WithValue(ctx, handshakeKey{}, h)
}

// identity is the one conversion of a user to what OAuth needs: the user
// with the request's handshake (the chat's, in ctx, when h is nil).
func identity(ctx context.Context, u agent.User, h *handshake) oauth.Identity {
	if h == nil {
		h, _ = ctx.Value(handshakeKey{}).(*handshake)
	}
	if h == nil {
		h = &handshake{}
	}
	return oauth.Identity{UserID: u.ID, Host: h.host, Cookies: h.cookies}
}

// Credentials implements agent.CredentialProvider.
func (o OAuthAgent) Credentials(ctx context.Context, a agentconfig.Agent, u agent.User) (mcp.Credentials, error) {
	c, err := o.Service.Credentials(ctx, a, identity(ctx, u, nil))
	if err != nil {
		return nil, agentError(a.Name, err)
	}
	return c, nil
}

// Authenticate implements agent.Authenticator.
func (o OAuthAgent) Authenticate(ctx context.Context, em chat.Emitter, a agentconfig.Agent, u agent.User, challenge error) error {
	var r oauth.Refusal
	if he, ok := errors.AsType[*mcp.HTTPStatusError](challenge); ok {
		r = oauth.Refusal{Status: he.StatusCode, WWWAuthenticate: he.WWWAuthenticate, AfterSignIn: agent.AfterSignIn(challenge)}
	}
	return agentError(a.Name, o.Service.Authenticate(ctx, chat.Browser{Emitter: em}, a, identity(ctx, u, nil), r))
}

// SignOutSentence implements agent.SignOutTeller.
func (o OAuthAgent) SignOutSentence(agent string) string { return oauth.SignOutSentence(agent, "") }

// agentError gives package agent what it reads in an OAuth error: the one
// cancel sentinel, and the user's sentence for the failures only package
// oauth knows (an oauth.RefusedError carries its own).
func agentError(name string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*oauth.RefusedError](err); ok {
		return err
	}
	switch {
	case errors.Is(err, oauth.ErrCanceled):
		return fmt.Errorf("%w: %w", agent.ErrAuthCanceled, err)
	case errors.Is(err, oauth.ErrSignInIncomplete):
		return &agent.SignInError{Err: err,
			Reason: fmt.Sprintf("The sign-in for agent %q did not complete (no token arrived in time); try again.", name)}
	case errors.Is(err, oauth.ErrBadSecret):
		return &agent.SignInError{Err: err,
			Reason: fmt.Sprintf("Agent %q cannot sign in: its OAuth2 Secret is invalid; ask the administrator to fix it.", name)}
	}
	return err
}
