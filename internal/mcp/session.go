package mcp

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

type jsonrpcError = jsonrpc.Error

// entry is the session and tool list of one (agent, revision, credential).
type entry struct {
	key      sessionKey
	cred     Credentials
	lastUsed atomic.Int64 // unix nanoseconds
	inflight atomic.Int32 // running tools/call requests; the reaper spares busy entries

	mu        sync.Mutex // held while connecting or listing tools: one connect per key
	cs        *sdk.ClientSession
	rt        *authTransport
	caller    caller // tools/call on cs
	tools     []Tool
	haveTools bool
}

func (e *entry) touch() { e.lastUsed.Store(time.Now().UnixNano()) }

func (e *entry) idleSince(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, e.lastUsed.Load()))
}

// session returns the live session, connecting when there is none.
func (e *entry) session(ctx context.Context, m *Manager, a agentconfig.Agent) (*sdk.ClientSession, *authTransport, caller, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.connectLocked(ctx, m, a); err != nil {
		return nil, nil, nil, err
	}
	return e.cs, e.rt, e.caller, nil
}

// listTools returns the cached tool list or lists the tools. retry reports that
// the failure happened on an existing session, which was dropped.
func (e *entry) listTools(ctx context.Context, m *Manager, a agentconfig.Agent) (_ []Tool, retry bool, _ error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.haveTools {
		return append([]Tool(nil), e.tools...), false, nil
	}
	reused := e.cs != nil
	if err := e.connectLocked(ctx, m, a); err != nil {
		return nil, false, err
	}
	var all []*sdk.Tool
	for t, err := range e.cs.Tools(ctx, nil) {
		if err != nil {
			err = e.rt.authError(err)
			e.rt.resetConnections()
			e.dropLocked(m)
			return nil, reused, err
		}
		all = append(all, t)
	}
	tools, err := convertTools(all, a.Spec.ToolSet)
	if err != nil {
		return nil, false, err
	}
	e.tools, e.haveTools = tools, true
	m.log.Debug("listed MCP tools", "agent", a.Name, "count", len(tools), "total", len(all))
	return append([]Tool(nil), tools...), false, nil
}

// connectLocked opens the session unless one is open. e.mu must be held.
func (e *entry) connectLocked(ctx context.Context, m *Manager, a agentconfig.Agent) error {
	if e.cs != nil {
		return nil
	}
	endpoint, err := m.EndpointURL(a)
	if err != nil {
		return err
	}
	base, err := m.transport(a)
	if err != nil {
		return err
	}
	rt := &authTransport{base: base, cred: e.cred}
	hc := &http.Client{Transport: rt, Timeout: m.opts.Timeout}
	t := &sdk.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: hc,
		// Servers may send elicitation requests on the standalone stream;
		// without an elicitation handler nothing would answer them.
		DisableStandaloneSSE: m.opts.Elicit == nil,
	}
	cs, err := m.client.Connect(ctx, t, &sdk.ClientSessionOptions{ProtocolVersion: m.opts.ProtocolVersion})
	if err != nil {
		base.CloseIdleConnections()
		return fmt.Errorf("connect to MCP server: %w", rt.authError(err))
	}
	e.cs, e.rt, e.caller = cs, rt, newCaller(m, endpoint, hc, cs)
	e.tools, e.haveTools = nil, false
	m.log.Debug("connected to MCP server", "agent", a.Name)
	return nil
}

// drop closes the session when it is still cs (any session when cs is nil)
// and forgets the tool list.
func (e *entry) drop(m *Manager, cs *sdk.ClientSession) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cs == nil || e.cs == cs {
		e.dropLocked(m)
	}
}

func (e *entry) dropLocked(m *Manager) {
	e.tools, e.haveTools = nil, false
	if e.cs == nil {
		return
	}
	cs := e.cs
	e.cs, e.rt, e.caller = nil, nil, nil
	if err := cs.Close(); err != nil {
		m.log.Debug("closing MCP session", "agent", e.key.agent, "error", err)
	}
}
