package oauth

import (
	"context"
	"fmt"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

// Register prepares an OAUTH2 agent for sign-ins before anyone uses it: it
// reads the Secret, discovers the authorization server and, when the Secret
// has no client ID, registers our client (once per authorization server;
// later calls reuse the stored registration). The controller calls it on
// every check of the agent, whether or not its MCP server answered (the
// Python agent skipped it in the normal 401 case), for the default callback
// URL (OAUTH_REDIRECT_URI, else Rancher's); without one it waits for the
// first sign-in.
func (s *Service) Register(ctx context.Context, a agentconfig.Agent) error {
	cfg, err := ConfigFromSecret(a.AuthSecret)
	if err != nil {
		return err
	}
	d, err := s.discover(ctx, a, cfg, Refusal{})
	if err != nil {
		return err
	}
	redirect := s.RedirectURI("")
	if cfg.ClientID != "" || redirect == "" {
		return nil
	}
	if _, err := s.client(ctx, a, cfg, d, redirect); err != nil {
		return fmt.Errorf("register OAuth client: %w", err)
	}
	return nil
}
