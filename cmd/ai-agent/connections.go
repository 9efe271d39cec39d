package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/server"
)

// connectionChecks are the checks of the OAuth connection endpoints: the
// agents a user may use (filter, nil: all) and who may manage other users'
// connections (mayConfigure: users who may update aiagentconfigs).
func connectionChecks(mayConfigure func(context.Context, agent.User) error,
	filter func(context.Context, agent.User, []agentconfig.Agent) ([]agentconfig.Agent, error)) oauth.ConnectionOptions {
	return oauth.ConnectionOptions{
		MayUse: func(r *http.Request, agents []agentconfig.Agent) ([]agentconfig.Agent, error) {
			u, ok := server.UserFrom(r.Context())
			if !ok {
				return nil, errors.New("no user")
			}
			if filter == nil {
				return agents, nil
			}
			return filter(r.Context(), u, agents)
		},
		MayAdminister: func(r *http.Request) error {
			u, ok := server.UserFrom(r.Context())
			if !ok {
				return errors.New("no user")
			}
			return mayConfigure(r.Context(), u)
		},
	}
}

// rancherUserExists asks Rancher whether a user still exists
// (GET /v3/users/{id} with RANCHER_API_TOKEN: 404 is no), for the OAuth
// sweep that deletes the tokens of departed users. Without a URL or token
// it is nil: no user is ever taken for gone.
func (a *app) rancherUserExists() func(context.Context, string) (bool, error) {
	if a.env.RancherURL == "" || a.env.RancherAPIToken == "" {
		return nil
	}
	hc := a.rancherHC
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return func(ctx context.Context, id string) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.env.RancherURL+"/v3/users/"+url.PathEscape(id), nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Authorization", "Bearer "+a.env.RancherAPIToken)
		resp, err := hc.Do(req)
		if err != nil {
			return false, fmt.Errorf("rancher user %q: %w", id, err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return false, nil
		case resp.StatusCode == http.StatusOK:
			return true, nil
		}
		return false, fmt.Errorf("rancher user %q: HTTP %d", id, resp.StatusCode)
	}
}
