package controller

import (
	"context"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

// Prober checks that an agent's MCP server answers (connect and list tools).
// The error of an OAUTH2 agent whose server wants a token must match
// mcp.ErrUnauthorized (errors.Is).
type Prober interface {
	Probe(ctx context.Context, a agentconfig.Agent) error
}

// OAuthRegistrar makes an OAUTH2 agent's client known to the OAuth service:
// it discovers the authorization server and registers the client (the
// Secret's clientID, or dynamic registration when there is none). It must be
// idempotent; the controller calls it on every reconcile of an OAUTH2 agent,
// whether or not the MCP check succeeded.
type OAuthRegistrar interface {
	Register(ctx context.Context, a agentconfig.Agent) error
}

// Forgetter drops everything cached for an agent (MCP sessions, OAuth
// clients). mcp.Manager and oauth.Service implement it.
type Forgetter interface {
	Forget(agentName string)
}

// AgentReader resolves an AIAgentConfig and its Secrets; *kube.Source
// implements it over the informer cache.
type AgentReader interface {
	Agent(ctx context.Context, name string) (agentconfig.Agent, error)
	Referencing(ctx context.Context, secret string) ([]string, error)
}
