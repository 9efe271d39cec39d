package mcp

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

// testServer is a real go-sdk MCP server on loopback that records the
// request headers and counts tools/list requests.
type testServer struct {
	*httptest.Server
	lists atomic.Int32
	calls atomic.Int32
	posts atomic.Int32 // HTTP POST requests, rejected or not
	// reject, when non-zero, answers every HTTP request with that status.
	reject atomic.Int32

	mu      sync.Mutex
	headers []http.Header
}

func newMCPServer(ts *testServer) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "test", Version: "v1"}, nil)
	s.AddReceivingMiddleware(func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			switch method {
			case "tools/list":
				ts.lists.Add(1)
			case "tools/call":
				ts.calls.Add(1)
			}
			return next(ctx, method, req)
		}
	})
	schema := map[string]any{"type": "object"}
	text := func(ss ...string) sdk.ToolHandler {
		return func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			res := &sdk.CallToolResult{}
			for _, s := range ss {
				res.Content = append(res.Content, &sdk.TextContent{Text: s})
			}
			return res, nil
		}
	}
	add := func(name, toolset string, h sdk.ToolHandler) {
		t := &sdk.Tool{Name: name, Description: name + " tool", InputSchema: schema}
		if toolset != "" {
			t.Meta = sdk.Meta{"toolset": toolset}
		}
		s.AddTool(t, h)
	}
	add("listPods", "core", text("pods"))
	add("updateThing", "admin", text("updated"))
	add("updateThingPlan", "admin", text("plan: would update"))
	add("json", "core", text(`{"llm":"summary for model","uiContext":{"kind":"Pod"},"docLinks":["https://docs/a","https://docs/b"]}`))
	add("llmObject", "core", text(`{"llm":{"n":1},"uiContext":[1,2]}`))
	add("plain", "core", text("hello ", "world"))
	add("fail", "core", func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: "boom"}}}, nil
	})
	add("slow", "core", func(ctx context.Context, _ *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		select {
		case <-ctx.Done():
		case <-time.After(600 * time.Millisecond):
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "late"}}}, nil
	})
	add("echo", "", func(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(req.Params.Arguments)}}}, nil
	})
	return s
}

func (ts *testServer) handler() http.Handler {
	s := newMCPServer(ts)
	mcpH := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.headers = append(ts.headers, r.Header.Clone())
		ts.mu.Unlock()
		if r.Method == http.MethodPost {
			ts.posts.Add(1)
		}
		if code := ts.reject.Load(); code != 0 {
			w.Header().Add("WWW-Authenticate", `Bearer resource_metadata="http://x/.well-known/oauth-protected-resource"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="x"`)
			http.Error(w, "no", int(code))
			return
		}
		mcpH.ServeHTTP(w, r)
	})
}

// startServer starts a plain HTTP MCP server; addr "" picks a free port.
func startServer(t testing.TB, addr string) *testServer {
	t.Helper()
	ts := &testServer{}
	srv := httptest.NewUnstartedServer(ts.handler())
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen %s: %v", addr, err)
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	ts.Server = srv
	t.Cleanup(srv.Close)
	return ts
}

func startTLSServer(t testing.TB) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(ts.handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// certPEM is the PEM of the TLS server's certificate.
func (ts *testServer) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
}

// lastHeaders returns the headers of the last request that reached the server.
func (ts *testServer) lastHeaders(t *testing.T) http.Header {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.headers) == 0 {
		t.Fatal("no request reached the server")
	}
	return ts.headers[len(ts.headers)-1]
}

func testAgent(name, url string) agentconfig.Agent {
	return agentconfig.Agent{
		Name:     name,
		Revision: "1",
		Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName:        name,
			MCPURL:             url,
			AuthenticationType: v1alpha1.AuthNone,
		},
	}
}

func noneCred(t testing.TB) Credentials {
	t.Helper()
	c, err := FixedHeaderCredentials(testAgent("x", ""), RancherIdentity{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestManager(t testing.TB, opts Options) *Manager {
	t.Helper()
	m := NewManager(opts)
	t.Cleanup(func() { _ = m.Close() })
	return m
}
