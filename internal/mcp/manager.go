package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/outbound"
)

// Options configure a Manager.
type Options struct {
	Logger          *slog.Logger // nil discards logs
	InsecureSkipTLS bool         // skip TLS verification for MCP connections
	// Network is the proxy and resolver of MCP connections (zero: direct).
	Network        outbound.Network
	RancherMCPURL  string        // MCP URL override, applied only to RANCHER-auth agents
	Timeout        time.Duration // per HTTP request to MCP servers; default 60s
	SessionIdleTTL time.Duration // drop idle sessions after this; default 5m
	// ProtocolVersion is the MCP revision asked for; empty means the newest
	// the SDK speaks (2026-07-28, falling back to initialize for older servers).
	ProtocolVersion string
	// Elicit answers elicitation/create requests of MCP servers. Nil leaves the
	// elicitation capability unadvertised. Fields the answer omits get the
	// defaults of the requested schema (SEP-1034).
	Elicit func(context.Context, *sdk.ElicitRequest) (*sdk.ElicitResult, error)
}

var errClosed = errors.New("mcp manager is closed")

type sessionKey struct{ agent, revision, cred string }

type transportKey struct{ agent, revision string }

// Manager owns MCP sessions and tool lists per (agent, credential). It is safe
// for concurrent use.
type Manager struct {
	opts   Options
	log    *slog.Logger
	client *sdk.Client

	mu         sync.Mutex
	entries    map[sessionKey]*entry
	transports map[transportKey]*http.Transport
	closed     bool

	bufs        sync.Pool // *callBuffers of the lean tools/call
	maxResponse int       // bound of a tools/call answer (maxCallResponse)
	viaSDK      bool      // every tools/call through go-sdk (tests of both callers)

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // reaper and background session closes
}

// NewManager returns a Manager; call Close when done.
func NewManager(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.SessionIdleTTL <= 0 {
		opts.SessionIdleTTL = 5 * time.Minute
	}
	m := &Manager{
		opts:        opts,
		log:         opts.Logger,
		client:      sdk.NewClient(&sdk.Implementation{Name: "rancher-ai-agent", Version: "v1"}, &sdk.ClientOptions{Logger: opts.Logger, ElicitationHandler: opts.Elicit}),
		entries:     map[sessionKey]*entry{},
		transports:  map[transportKey]*http.Transport{},
		stop:        make(chan struct{}),
		maxResponse: maxCallResponse,
	}
	m.wg.Add(1)
	go m.reap()
	return m
}

// Tools connects (or reuses a session) and returns the agent's tools, filtered
// by spec.toolSet and without *Plan tools. The list is cached per (agent,
// revision, credential); a failure drops the cached list and the session.
func (m *Manager) Tools(ctx context.Context, a agentconfig.Agent, cred Credentials) ([]Tool, error) {
	for attempt := 0; ; attempt++ {
		e, err := m.entry(a, cred)
		if err != nil {
			return nil, err
		}
		tools, retry, err := e.listTools(ctx, m, a)
		if err == nil {
			return tools, nil
		}
		if !retry || attempt > 0 || !retryable(ctx, err) {
			return nil, fmt.Errorf("agent %q: list MCP tools: %w", a.Name, err)
		}
		m.log.Debug("retrying MCP tools/list on a new session", "agent", a.Name, "error", err)
	}
}

// Call runs tools/call for any tool name (including hidden *Plan tools)
// with the session's caller (caller.go): the package's own request
// (call.go) or, for the sessions that need it, go-sdk's. On a transport or session failure it
// reconnects once and retries; 401 and 403 are returned as *HTTPStatusError
// without retry; a JSON-RPC error, an answer too large or malformed, and a
// timeout are not retried. A tool error is not a Go error: it is reported in
// Result.IsError.
func (m *Manager) Call(ctx context.Context, a agentconfig.Agent, cred Credentials, name string, args json.RawMessage) (Result, error) {
	for attempt := 0; ; attempt++ {
		e, err := m.entry(a, cred)
		if err != nil {
			return Result{}, err
		}
		cs, rt, c, err := e.session(ctx, m, a)
		if err != nil {
			return Result{}, fmt.Errorf("agent %q: call MCP tool %q: %w", a.Name, name, err)
		}
		e.inflight.Add(1)
		res, err := c.call(ctx, m, name, args)
		e.inflight.Add(-1)
		e.touch()
		if err == nil {
			return res, nil
		}
		err = rt.authError(err)
		// Our own cancellation leaves the session healthy: the server is told
		// (notifications/cancelled), so keep the session for that. So does an
		// answer too large to read.
		if ctx.Err() == nil && !isProtocolError(err) && !isAuthError(err) && !errors.Is(err, errResponseTooLarge) {
			e.drop(m, cs)
			rt.resetConnections()
		}
		if attempt > 0 || !retryable(ctx, err) {
			return Result{}, fmt.Errorf("agent %q: call MCP tool %q: %w", a.Name, name, err)
		}
		m.log.Debug("retrying MCP tools/call on a new session", "agent", a.Name, "tool", name, "error", err)
	}
}

// retryable reports whether a failed request may be retried on a new session.
// Timeouts are not retried: the server may have run the tool already.
func retryable(ctx context.Context, err error) bool {
	var nerr net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout())
	return ctx.Err() == nil && !timeout && !isAuthError(err) && !isProtocolError(err) &&
		!errors.Is(err, errResponseTooLarge) && !errors.Is(err, errMalformedResponse)
}

// isProtocolError reports a JSON-RPC error answered by the server: the
// session is fine, the request was not.
func isProtocolError(err error) bool {
	var werr *jsonrpcError
	return errors.As(err, &werr) && !isRejected(err)
}

// isRejected matches (by code, see jsonrpc.Error.Is) the SDK's "rejected by
// transport" error: the request got no JSON-RPC answer.
func isRejected(err error) bool { return errors.Is(err, &jsonrpcError{Code: -32005}) }

// entry returns the cache entry of (agent, revision, credential), creating it.
// Creating an entry for a new revision drops the agent's older revisions.
func (m *Manager) entry(a agentconfig.Agent, cred Credentials) (*entry, error) {
	if cred == nil {
		return nil, fmt.Errorf("agent %q: no MCP credentials", a.Name)
	}
	key := sessionKey{agent: a.Name, revision: a.Revision, cred: cred.CacheKey()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	e, ok := m.entries[key]
	if !ok {
		m.removeLocked(func(k sessionKey, _ *entry) bool { return k.agent == a.Name && k.revision != a.Revision })
		e = &entry{key: key, cred: cred}
		m.entries[key] = e
	}
	e.touch()
	return e, nil
}

// transport returns the shared HTTP transport of an agent revision.
func (m *Manager) transport(a agentconfig.Agent) (*http.Transport, error) {
	key := transportKey{agent: a.Name, revision: a.Revision}
	m.mu.Lock()
	defer m.mu.Unlock()
	if tr, ok := m.transports[key]; ok {
		return tr, nil
	}
	tr, err := newTransport(a, m.opts.InsecureSkipTLS, m.opts.Network)
	if err != nil {
		return nil, err
	}
	m.transports[key] = tr
	return tr, nil
}

// Forget drops every cached session and tool list of the named agent.
func (m *Manager) Forget(agentName string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(func(k sessionKey, _ *entry) bool { return k.agent == agentName })
}

// ForgetCredential drops the sessions and tool lists of the agent that used
// this credential cache key.
func (m *Manager) ForgetCredential(agentName, credKey string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(func(k sessionKey, _ *entry) bool { return k.agent == agentName && k.cred == credKey })
}

// Close closes every session. The Manager must not be used afterwards.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.removeLocked(func(sessionKey, *entry) bool { return true })
		m.mu.Unlock()
		close(m.stop)
	})
	m.wg.Wait()
	return nil
}

// removeLocked drops matching entries, closing their sessions in the
// background, and the transports no entry uses any more. m.mu must be held.
func (m *Manager) removeLocked(match func(sessionKey, *entry) bool) {
	for k, e := range m.entries {
		if match(k, e) {
			delete(m.entries, k)
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				e.drop(m, nil)
			}()
		}
	}
	used := map[transportKey]bool{}
	for k := range m.entries {
		used[transportKey{k.agent, k.revision}] = true
	}
	for k, tr := range m.transports {
		if !used[k] {
			delete(m.transports, k)
			tr.CloseIdleConnections()
		}
	}
}

// reap drops sessions idle for longer than SessionIdleTTL.
func (m *Manager) reap() {
	defer m.wg.Done()
	t := time.NewTicker(max(m.opts.SessionIdleTTL/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			m.reapIdle(now)
		}
	}
}

// reapIdle drops the sessions that are idle at now for longer than
// SessionIdleTTL.
func (m *Manager) reapIdle(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.removeLocked(func(_ sessionKey, e *entry) bool {
			return e.inflight.Load() == 0 && e.idleSince(now) > m.opts.SessionIdleTTL
		})
	}
}
