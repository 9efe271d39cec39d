package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/outbound"
)

// callbackPath is where the authorization server sends the browser back.
const callbackPath = "/v1/api/oauth2/callback"

// Identity is the user a flow runs for, as the WebSocket handshake saw it.
type Identity struct {
	UserID string
	// Host is the host the client says it used (Host or X-Forwarded-Host).
	// It is client-supplied: RedirectURI uses it only when it names an
	// allowed origin.
	Host    string
	Cookies []*http.Cookie
}

// Browser is how a sign-in reaches the user's browser; chat.Browser, over
// the user's chat connection, is the one the agent uses. This package knows
// nothing of the frames it sends.
type Browser interface {
	// AskSignIn shows the authorization URL for agent and reports whether
	// the user says the sign-in completed (false: the user dismissed it).
	AskSignIn(ctx context.Context, authURL, agent string) (confirmed bool, err error)
	// AskRefresh asks the browser to refresh the agent's token with the
	// sealed refresh cookie it holds (POST /v1/api/oauth2/refresh).
	AskRefresh(ctx context.Context, agent string) error
}

// Refusal is the MCP server's HTTP refusal that made a sign-in necessary.
type Refusal struct {
	Status          int // 401 or 403; 0 when none was seen
	WWWAuthenticate []string
	// AfterSignIn says the MCP server refused the token of a sign-in made
	// moments ago (in the same turn): the user is asked again only for
	// something new (more scopes, or a Bearer instead of a DPoP-bound
	// token); otherwise Authenticate returns a *RefusedError.
	AfterSignIn bool
}

// RefusedError is the MCP server refusing the token the user just signed
// in for. Error is the chain; Sentence is what the user reads.
type RefusedError struct {
	Agent       string
	Status      int
	Code        string // the challenge's error ("invalid_token", ...)
	Description string // its error_description
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("agent %q: the MCP server refused the token after sign-in: HTTP %d %s %s", e.Agent, e.Status, e.Code, e.Description)
}

// Sentence is the one sentence the user reads.
func (e *RefusedError) Sentence() string {
	reason := e.Code
	if e.Description != "" {
		if reason != "" {
			reason += ": "
		}
		reason += e.Description
	}
	if reason == "" {
		reason = fmt.Sprintf("it answered HTTP %d without a reason", e.Status)
	}
	return fmt.Sprintf("You signed in for agent %q, but its MCP server refused the token (%s); ask the administrator to check the agent's OAuth2 settings.", e.Agent, reason)
}

// ServiceOptions configure a Service. Plain values; no environment reads.
type ServiceOptions struct {
	Vault  *Vault
	Sealer *Sealer
	// Agents finds an agent by name (callback, refresh).
	Agents agentconfig.Source
	// Endpoint is the MCP URL of an agent.
	Endpoint func(agentconfig.Agent) (string, error)
	// RedirectURI is OAUTH_REDIRECT_URI: when set, the only callback URL.
	RedirectURI string
	// Origins are the allowed browser origins. When RedirectURI is empty,
	// a request whose host names one of them gets
	// <origin><Rancher proxy prefix>/v1/api/oauth2/callback, the URL the UI
	// shows the administrator.
	Origins *origins.Policy
	// BaseURL is Rancher's public URL (its server-url setting, else
	// RANCHER_URL): when RedirectURI is empty, every other request gets its
	// origin's callback URL. A client-supplied host never does.
	BaseURL string
	// MaxClients caps the stored client registrations (default 1000);
	// registrations for redirect URIs no longer in use are swept anyway.
	MaxClients int
	// OutboundTimeout bounds each request made on a user's behalf
	// (default outbound.DefaultTimeout).
	OutboundTimeout time.Duration
	// CIMDURL is our Client ID Metadata Document URL, if we publish one.
	CIMDURL string
	// InsecureSkipTLS disables TLS verification for OAuth requests of agents.
	InsecureSkipTLS bool
	// Network is the proxy and resolver of every OAuth request (zero:
	// direct); the guarded client still judges each final target.
	Network outbound.Network
	// FlowTTL bounds a pending sign-in (state lifetime). Default 10m.
	FlowTTL time.Duration
	// SignInTimeout bounds the wait for authentication_confirmed/_canceled.
	// Default 5m.
	SignInTimeout time.Duration
	// RefreshReplyTimeout bounds the wait for token_refresh_confirmed.
	// Default 30s.
	RefreshReplyTimeout time.Duration
	// ExpiryLeeway renews a token this long before it expires. Default 30s.
	ExpiryLeeway time.Duration
	// RefreshCoalesce: a token obtained less than this long ago is reused
	// by a refresh instead of being refreshed again (concurrent refreshes,
	// other replicas). Default 2s.
	RefreshCoalesce time.Duration
	// RefreshAgain: a 401 less than this long after a refresh means the
	// refreshed token is refused too, so the user must sign in. Default 30s.
	RefreshAgain time.Duration
	// RetryWait is the first wait before a transient token-endpoint failure
	// is retried (twice, doubling). Default 200ms.
	RetryWait time.Duration
	// DiscoveryTTL is how long an agent's discovery is reused. Default 10m.
	DiscoveryTTL time.Duration
	// SweepInterval is how often Run removes expired state. Default 1m.
	SweepInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
	// Observer, when set, sees every sign-in and refresh (telemetry).
	Observer Observer
	// UserExists, when set, says whether a Rancher user still exists
	// (false only when Rancher says it does not: /v3/users/{id} is 404);
	// the sweep revokes and deletes the tokens of users who do not.
	UserExists func(ctx context.Context, userID string) (bool, error)
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
	dpopKeys  map[string]*oauthproto.DPoPKey // parsed DPoP keys (with their server nonces) by hash of the sealed key
	// bearerOnly holds the resources (MCP servers) that refused a
	// DPoP-bound token with a Bearer-only challenge.
	bearerOnly map[string]bool
	// base is the origin of BaseURL ("" when none).
	base string
	// used is when each token's use was last written to the store
	// (connections.go: lastUsedAt at most once a minute per replica).
	used map[string]time.Time
	// agentsChanged wakes Run to revoke the tokens of deleted or moved
	// agents (Forget).
	agentsChanged chan struct{}
}

type discEntry struct {
	d       *oauthproto.Discovery
	expires time.Time
}

// NewService returns a Service.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Vault == nil || o.Sealer == nil || o.Agents == nil || o.Endpoint == nil {
		return nil, errors.New("oauth: Vault, Sealer, Agents and Endpoint are required")
	}
	defaultDuration(&o.FlowTTL, 10*time.Minute)
	defaultDuration(&o.SignInTimeout, 5*time.Minute)
	defaultDuration(&o.RefreshReplyTimeout, 30*time.Second)
	defaultDuration(&o.ExpiryLeeway, 30*time.Second)
	defaultDuration(&o.RefreshCoalesce, 2*time.Second)
	defaultDuration(&o.RefreshAgain, 30*time.Second)
	defaultDuration(&o.RetryWait, 200*time.Millisecond)
	defaultDuration(&o.DiscoveryTTL, 10*time.Minute)
	defaultDuration(&o.SweepInterval, time.Minute)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 1000
	}
	var base string
	if o.BaseURL != "" {
		var err error
		if base, err = origins.Of(o.BaseURL); err != nil {
			return nil, fmt.Errorf("oauth: base URL: %w", err)
		}
	}
	return &Service{
		o: o, log: o.Logger, base: base,
		disc: map[string]discEntry{}, clients: map[string]*http.Client{}, refreshed: map[string]time.Time{},
		dpopKeys: map[string]*oauthproto.DPoPKey{}, bearerOnly: map[string]bool{}, used: map[string]time.Time{}, agentsChanged: make(chan struct{}, 1),
		guarded: outbound.NewClient(outbound.Options{Timeout: o.OutboundTimeout, Network: o.Network}),
	}, nil
}

// defaultDuration sets *d to def when it is not positive.
func defaultDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Run sweeps client registrations for redirect URIs no longer in use at
// once, then expired flows and tokens (and registrations) every
// SweepInterval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.sweepClients(ctx)
	t := time.NewTicker(s.o.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.agentsChanged:
			s.sweepAgents(ctx)
		case <-t.C:
			s.sweepOwners(ctx)
			if n, err := s.o.Vault.Sweep(ctx); err != nil {
				s.log.Warn("oauth sweep failed", "error", err)
			} else if n > 0 {
				s.log.Debug("oauth sweep", "removed", n)
			}
			s.sweepClients(ctx)
		}
	}
}

// SweepClients deletes the stored client registrations whose redirect URI
// is no longer one of RedirectURIs, then the least recently written beyond
// MaxClients, and reports how many. With no redirect URI configured it
// deletes nothing: none can be told in use.
func (s *Service) SweepClients(ctx context.Context) (int, error) {
	uris := s.RedirectURIs()
	if len(uris) == 0 {
		return 0, nil
	}
	return s.o.Vault.SweepClients(ctx, uris, s.o.MaxClients)
}

// sweepClients is SweepClients with the outcome logged.
func (s *Service) sweepClients(ctx context.Context) {
	if n, err := s.SweepClients(ctx); err != nil {
		s.log.Warn("oauth client registration sweep failed", "error", err)
	} else if n > 0 {
		s.log.Info("oauth client registrations removed (redirect URI no longer in use, or over the cap)", "removed", n)
	}
}

// RedirectURI is the callback URL for a request whose client says it used
// host: OAUTH_REDIRECT_URI; else the callback of the allowed origin that
// host names; else the callback of BaseURL's origin; "" when none is
// configured. Any other host is ignored, so a forged Host or
// X-Forwarded-Host cannot choose where codes are sent.
func (s *Service) RedirectURI(host string) string {
	if s.o.RedirectURI != "" {
		return s.o.RedirectURI
	}
	if o, ok := s.o.Origins.ForHost(host); ok {
		return o + httpapi.ProxyPrefix + callbackPath
	}
	if s.base != "" {
		return s.base + httpapi.ProxyPrefix + callbackPath
	}
	return ""
}

// RedirectURIs are all the callback URLs RedirectURI can return.
func (s *Service) RedirectURIs() []string {
	if s.o.RedirectURI != "" {
		return []string{s.o.RedirectURI}
	}
	var out []string
	for _, o := range append(s.o.Origins.List(), s.base) {
		if u := o + httpapi.ProxyPrefix + callbackPath; o != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// httpClient is the outbound client for an agent's OAuth requests: guarded
// (timeouts, size limits, no cross-origin redirects, no metadata addresses),
// trusting the system pool plus the agent's CA bundle.
func (s *Service) httpClient(a agentconfig.Agent) (*http.Client, error) {
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
	c := outbound.NewClient(outbound.Options{InsecureSkipTLS: s.o.InsecureSkipTLS, RootCAs: pool, Timeout: s.o.OutboundTimeout, Network: s.o.Network})
	s.clients[key] = c
	return c, nil
}

// discover returns the agent's authorization setup, cached for
// DiscoveryTTL per agent revision (a fresh challenge bypasses the cache).
func (s *Service) discover(ctx context.Context, a agentconfig.Agent, cfg AgentConfig, ch Refusal) (*oauthproto.Discovery, error) {
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
	d, derr := oauthproto.Discover(ctx, hc, mcpURL, ch.WWWAuthenticate)
	if cfg.MetadataEndpoint != "" {
		as, err := oauthproto.FetchASMetadata(ctx, hc, cfg.MetadataEndpoint)
		if err != nil {
			return nil, fmt.Errorf("agent %q: authorization server metadata: %w", a.Name, err)
		}
		if !as.SupportsS256() {
			return nil, fmt.Errorf("agent %q: %w", a.Name, oauthproto.ErrPKCEUnsupported)
		}
		if derr != nil || d.Issuer != as.Issuer {
			// The admin named the authorization server: use it, for this MCP server.
			res, err := oauthproto.CanonicalResource(mcpURL)
			if err != nil {
				return nil, err
			}
			d = &oauthproto.Discovery{Resource: res, MCPURL: res, Issuer: as.Issuer, AuthServer: *as, MetadataURL: cfg.MetadataEndpoint}
			if derr == nil {
				d.ScopesSupported = nil
			}
		}
	} else if derr != nil {
		return nil, fmt.Errorf("agent %q: discovery: %w", a.Name, derr)
	}
	s.mu.Lock()
	s.disc[key] = discEntry{d: d, expires: s.o.Now().Add(s.o.DiscoveryTTL)}
	s.mu.Unlock()
	return d, nil
}

// agentByName finds an enabled OAUTH2 agent.
func (s *Service) agentByName(ctx context.Context, name string) (agentconfig.Agent, bool) {
	list, err := s.o.Agents.Agents(ctx)
	if err != nil {
		return agentconfig.Agent{}, false
	}
	for _, a := range list {
		if a.Name == name && a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 {
			return a, true
		}
	}
	return agentconfig.Agent{}, false
}

// Forget drops what is cached for an agent (its config changed).
func (s *Service) Forget(agentName string) {
	select { // Run revokes the tokens of an agent deleted or moved to another server
	case s.agentsChanged <- struct{}{}:
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.disc {
		if strings.HasPrefix(k, agentName+"\x00") {
			delete(s.disc, k)
		}
	}
}
