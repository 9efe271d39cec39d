package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

// ErrRBAC is wrapped by every AgentFilter failure. The filter fails closed:
// on this error the caller must offer the user no agent at all.
var ErrRBAC = errors.New("rancher: cannot determine the user's agents")

// steveType is the Steve collection of AIAgentConfigs.
const steveType = "ai.cattle.io.aiagentconfigs"

// maxSteveBody bounds one Steve page; an agent is a few KB.
const maxSteveBody = 8 << 20

// AgentFilter keeps the agents a user may use: those whose AIAgentConfig
// Rancher's Steve API lists for the user's own session. Rancher applies the
// user's RBAC (global roles, project and cluster roles), which the agent's
// ServiceAccount could not reproduce. It is safe for concurrent use.
type AgentFilter struct {
	base   *url.URL
	client *http.Client
}

// NewAgentFilter returns a filter asking the Rancher at rancherURL;
// hc nil means newHTTPClient(nil).
func NewAgentFilter(rancherURL string, hc *http.Client) (*AgentFilter, error) {
	u, err := url.Parse(strings.TrimRight(rancherURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: bad Rancher URL %q", ErrRBAC, rancherURL)
	}
	if hc == nil {
		hc = newHTTPClient(nil)
	}
	return &AgentFilter{base: u, client: hc}, nil
}

// Filter returns the agents of all that the user with session token may
// list, in their order. Any failure (no token, Rancher unreachable, non-200,
// malformed answer) returns an error wrapping ErrRBAC.
func (f *AgentFilter) Filter(ctx context.Context, token string, all []agentconfig.Agent) ([]agentconfig.Agent, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no session token", ErrRBAC)
	}
	visible, err := f.visible(ctx, token)
	if err != nil {
		return nil, err
	}
	out := make([]agentconfig.Agent, 0, len(all))
	for _, a := range all {
		if visible[a.Name] {
			out = append(out, a)
		}
	}
	return out, nil
}

type steveList struct {
	Data []struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	} `json:"data"`
	Pagination *struct {
		Next string `json:"next"`
	} `json:"pagination"`
}

// visible lists the agent names Steve shows the user, following pages.
func (f *AgentFilter) visible(ctx context.Context, token string) (map[string]bool, error) {
	next := f.base.JoinPath("v1", steveType, agentconfig.Namespace).String()
	names := map[string]bool{}
	for pages := 0; next != ""; pages++ {
		if pages == 100 {
			return nil, fmt.Errorf("%w: too many pages", ErrRBAC)
		}
		page, err := f.page(ctx, token, next)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Data {
			if d.Metadata.Namespace == agentconfig.Namespace {
				names[d.Metadata.Name] = true
			}
		}
		next = ""
		if page.Pagination != nil && page.Pagination.Next != "" {
			if next, err = f.sameOrigin(page.Pagination.Next); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}

// sameOrigin refuses pagination links elsewhere: the user's cookie must
// not leave Rancher.
func (f *AgentFilter) sameOrigin(link string) (string, error) {
	u, err := f.base.Parse(link)
	if err != nil || u.Scheme != f.base.Scheme || u.Host != f.base.Host {
		return "", fmt.Errorf("%w: pagination link %q leaves Rancher", ErrRBAC, link)
	}
	return u.String(), nil
}

func (f *AgentFilter) page(ctx context.Context, token, u string) (*steveList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRBAC, err)
	}
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRBAC, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSteveBody))
		return nil, fmt.Errorf("%w: Steve answered %s", ErrRBAC, resp.Status)
	}
	var l steveList
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSteveBody)).Decode(&l); err != nil {
		return nil, fmt.Errorf("%w: decode Steve list: %w", ErrRBAC, err)
	}
	return &l, nil
}
