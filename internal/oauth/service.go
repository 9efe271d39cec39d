package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rancher/ai-agent/internal/agents"
)

// callbackPath is where the authorization server sends the browser back.
const callbackPath = "/v1/api/oauth2/callback"

// proxyPrefix is Rancher's service-proxy path to the agent.
const proxyPrefix = "/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy"

// Identity is the user a flow runs for, as the WebSocket handshake saw it.
type Identity struct {
	UserID string
	// Host is the browser's host; the redirect URI is derived from it when
	// ServiceOptions.RedirectURI is empty.
	Host    string
	Cookies []*http.Cookie
}

// Emitter is how a sign-in talks to the browser (chat.Conn is one).
type Emitter interface {
	Send(ctx context.Context, frame string) error
	Ask(ctx context.Context, frame string, replies ...string) (string, error)
}

// Refusal is the MCP server's HTTP refusal that made a sign-in necessary.
type Refusal struct {
	Status          int // 401 or 403; 0 when none was seen
	WWWAuthenticate []string
}

// ServiceOptions configure a Service. Plain values; no environment reads.
type ServiceOptions struct {
	Vault  *Vault
	Sealer *Sealer
	// Agents finds an agent by name (callback, refresh).
	Agents agents.Source
	// Endpoint is the MCP URL of an agent.
	Endpoint func(agents.Agent) (string, error)
	// RedirectURI is OAUTH_REDIRECT_URI; empty derives
	// https://<host><Rancher proxy prefix>/v1/api/oauth2/callback.
	RedirectURI string
	// CIMDURL is our Client ID Metadata Document URL, if we publish one.
	CIMDURL string
	// InsecureSkipTLS disables TLS verification for OAuth requests of agents.
	InsecureSkipTLS bool
	// FlowTTL bounds a pending sign-in (state lifetime). Default 10m.
	FlowTTL time.Duration
	// SignInTimeout bounds the wait for authentication_confirmed/_canceled.
	// Default 5m.
	SignInTimeout time.Duration
	// RefreshReplyTimeout bounds the wait for token_refresh_confirmed.
	// Default 30s.
	RefreshReplyTimeout time.Duration
	Logger              *slog.Logger
	Now                 func() time.Time
	// Observer, when set, sees every sign-in and refresh (telemetry).
	Observer Observer
}

// Service runs OAuth2 for OAUTH2 agents, for many users at once: it gives
// each (user, agent) its own token, refreshes it silently (once, however
// many requests need it), and signs users in through the chat.
type Service struct {
	o   ServiceOptions
	log *slog.Logger

	mu        sync.Mutex
	disc      map[string]discEntry
	clients   map[string]*http.Client
	refreshed map[string]time.Time
	guarded   *http.Client
	dpopKeys  map[string]*DPoPKey // parsed DPoP keys (with their server nonces) by hash of the sealed key
}

type discEntry struct {
	d       *Discovery
	expires time.Time
}

// NewService returns a Service.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Vault == nil || o.Sealer == nil || o.Agents == nil || o.Endpoint == nil {
		return nil, errors.New("oauth: Vault, Sealer, Agents and Endpoint are required")
	}
	if o.FlowTTL <= 0 {
		o.FlowTTL = 10 * time.Minute
	}
	if o.SignInTimeout <= 0 {
		o.SignInTimeout = 5 * time.Minute
	}
	if o.RefreshReplyTimeout <= 0 {
		o.RefreshReplyTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{
		o: o, log: o.Logger,
		disc: map[string]discEntry{}, clients: map[string]*http.Client{}, refreshed: map[string]time.Time{},
		dpopKeys: map[string]*DPoPKey{},
		guarded:  NewOutboundClient(OutboundOptions{}),
	}, nil
}

// Run sweeps expired flows and tokens every minute until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.o.Vault.Sweep(ctx); err != nil {
				s.log.Warn("oauth sweep failed", "error", err)
			} else if n > 0 {
				s.log.Debug("oauth sweep", "removed", n)
			}
		}
	}
}

// RedirectURI is the callback URL for a browser host.
func (s *Service) RedirectURI(host string) string {
	if s.o.RedirectURI != "" {
		return s.o.RedirectURI
	}
	return "https://" + host + proxyPrefix + callbackPath
}

// httpClient is the outbound client for an agent's OAuth requests: guarded
// (timeouts, size limits, no cross-origin redirects, no metadata addresses),
// trusting the system pool plus the agent's CA bundle.
func (s *Service) httpClient(a agents.Agent) (*http.Client, error) {
	key := a.Name + "\x00" + a.Revision
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[key]; ok {
		return c, nil
	}
	pool, err := a.RootCAs()
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	c := NewOutboundClient(OutboundOptions{InsecureSkipTLS: s.o.InsecureSkipTLS, RootCAs: pool})
	s.clients[key] = c
	return c, nil
}

// discover returns the agent's authorization setup, cached for 10 minutes
// per agent revision (a fresh challenge bypasses the cache).
func (s *Service) discover(ctx context.Context, a agents.Agent, cfg AgentConfig, ch Refusal) (*Discovery, error) {
	key := a.Name + "\x00" + a.Revision
	if ch.Status == 0 {
		s.mu.Lock()
		e, ok := s.disc[key]
		s.mu.Unlock()
		if ok && s.o.Now().Before(e.expires) {
			return e.d, nil
		}
	}
	hc, err := s.httpClient(a)
	if err != nil {
		return nil, err
	}
	mcpURL, err := s.o.Endpoint(a)
	if err != nil {
		return nil, err
	}
	d, derr := Discover(ctx, hc, mcpURL, ch.WWWAuthenticate)
	if cfg.MetadataEndpoint != "" {
		as, err := FetchASMetadata(ctx, hc, cfg.MetadataEndpoint)
		if err != nil {
			return nil, fmt.Errorf("agent %q: authorization server metadata: %w", a.Name, err)
		}
		if !as.SupportsS256() {
			return nil, fmt.Errorf("agent %q: %w", a.Name, ErrPKCEUnsupported)
		}
		if derr != nil || d.Issuer != as.Issuer {
			// The admin named the authorization server: use it, for this MCP server.
			res, err := CanonicalResource(mcpURL)
			if err != nil {
				return nil, err
			}
			d = &Discovery{Resource: res, MCPURL: res, Issuer: as.Issuer, AuthServer: *as, MetadataURL: cfg.MetadataEndpoint}
			if derr == nil {
				d.ScopesSupported = nil
			}
		}
	} else if derr != nil {
		return nil, fmt.Errorf("agent %q: discovery: %w", a.Name, derr)
	}
	s.mu.Lock()
	s.disc[key] = discEntry{d: d, expires: s.o.Now().Add(10 * time.Minute)}
	s.mu.Unlock()
	return d, nil
}

// agentByName finds an enabled OAUTH2 agent.
func (s *Service) agentByName(ctx context.Context, name string) (agents.Agent, bool) {
	list, err := s.o.Agents.Agents(ctx)
	if err != nil {
		return agents.Agent{}, false
	}
	for _, a := range list {
		if a.Name == name && a.Spec.AuthenticationType == "OAUTH2" {
			return a, true
		}
	}
	return agents.Agent{}, false
}

// Forget drops what is cached for an agent (its config changed).
func (s *Service) Forget(agentName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.disc {
		if strings.HasPrefix(k, agentName+"\x00") {
			delete(s.disc, k)
		}
	}
}
