package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/rancher/ranchertest"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/uitools"
)

// mathServer is a real go-sdk MCP server with the tools the tests use.
type mathServer struct {
	*httptest.Server
	slowStarted chan struct{}
	slowCtxDone chan struct{}
}

type ab struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

func startMath(t testing.TB) *mathServer {
	t.Helper()
	ms := &mathServer{slowStarted: make(chan struct{}, 8), slowCtxDone: make(chan struct{}, 8)}
	s := sdk.NewServer(&sdk.Implementation{Name: "math", Version: "v1"}, nil)
	text := func(s string) *sdk.CallToolResult {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
	}
	sdk.AddTool(s, &sdk.Tool{Name: "add", Description: "Add two numbers."},
		func(_ context.Context, _ *sdk.CallToolRequest, in ab) (*sdk.CallToolResult, any, error) {
			return text(fmt.Sprintf("sum is %g", in.A+in.B)), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "addPlan", Description: "What add would do."},
		func(_ context.Context, _ *sdk.CallToolRequest, in ab) (*sdk.CallToolResult, any, error) {
			return text(fmt.Sprintf(`[{"type":"create","resource":{"kind":"Sum","name":"s","namespace":"","cluster":"local"},"payload":{"a":%g,"b":%g}}]`, in.A, in.B)), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "listPods", Description: "List pods."},
		func(_ context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
			return text(`{"llm":"2 pods: a, b","uiContext":[{"kind":"Pod","type":"pod","name":["a","b"],"namespace":"default","cluster":"local"}],"docLinks":["https://ranchermanager.docs.rancher.com/pods"]}`), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "slow", Description: "Waits until cancelled."},
		func(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
			ms.slowStarted <- struct{}{}
			select {
			case <-ctx.Done():
				ms.slowCtxDone <- struct{}{}
			case <-time.After(20 * time.Second):
			}
			return text("slow done"), nil, nil
		})
	ms.Server = httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(ms.Close)
	return ms
}

func (ms *mathServer) url() string { return ms.URL + "/mcp" }

func newAgent(name, url string) agentconfig.Agent {
	return agentconfig.Agent{
		Name: name, Revision: "r1",
		Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName: strings.ToUpper(name[:1]) + name[1:], Description: name + " things",
			SystemPrompt: "You are the " + name + " agent.", MCPURL: url,
			AuthenticationType: v1alpha1.AuthNone,
		},
	}
}

// env is a running ai-agent server with a scripted model.
type env struct {
	t      testing.TB
	srv    *server.Server
	http   *httptest.Server
	model  *llm.Scripted
	store  *store.Memory
	source *agentconfig.StaticSource
	users  *rancher.UserResolver
	// uiTools starts empty: no UI-tools selection until a test sets a document.
	uiTools *uitools.Registry
	// admins may configure agents (u-alice unless a test changes it).
	admins sync.Map
	// reviews counts the access reviews Rancher was asked.
	reviews atomic.Int32

	rmu sync.Mutex
	// revoked sessions are unknown to the fake Rancher; rancherDown makes
	// it answer 503.
	revoked     map[string]bool
	rancherDown bool
	// userSkew is added to the user resolver's clock.
	userSkew time.Duration
}

// rancherOrigin is the Rancher the harness's browsers come from.
const rancherOrigin = "https://rancher.example.com"

// fakeRancher answers /v3/users?me=true for tokens "tok-<user>" that are
// not revoked and, as Rancher's proxy of the local cluster,
// SelfSubjectAccessReviews posted as the user (ranchertest): users in
// e.admins may update AIAgentConfigs; Rancher cannot answer for tok-down.
func (e *env) fakeRancher(t testing.TB) *httptest.Server {
	admin := func(user string) bool { _, ok := e.admins.Load(user); return ok }
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == rancher.SelfSubjectAccessPath {
			e.reviews.Add(1)
			if r.Header.Get("Authorization") == "Bearer tok-down" { // Rancher cannot answer for this one
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			ranchertest.SelfSubjectAccessReviews(t, admin)(w, r)
			return
		}
		e.rmu.Lock()
		down := e.rancherDown
		e.rmu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		c, err := r.Cookie("R_SESS")
		if err != nil || !strings.HasPrefix(c.Value, "tok-") || e.isRevoked(c.Value) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"data":[{"id":"u-%s"}]}`, strings.TrimPrefix(c.Value, "tok-"))
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (e *env) isRevoked(token string) bool {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	return e.revoked[token]
}

// revoke makes Rancher forget a session (a logout, an expired token).
func (e *env) revoke(token string) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	if e.revoked == nil {
		e.revoked = map[string]bool{}
	}
	e.revoked[token] = true
}

func (e *env) setRancherDown(down bool) { e.rmu.Lock(); e.rancherDown = down; e.rmu.Unlock() }

// advanceUsers moves the user resolver's clock (past its cache TTL).
func (e *env) advanceUsers(d time.Duration) { e.rmu.Lock(); e.userSkew += d; e.rmu.Unlock() }

func (e *env) usersNow() time.Time {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	return time.Now().Add(e.userSkew)
}

func newEnv(t *testing.T, list ...agentconfig.Agent) *env { return newEnvTB(t, list...) }

func newEnvTB(t testing.TB, list ...agentconfig.Agent) *env { return newEnvWith(t, nil, list...) }

// withOAuth, when given, builds the OAuth service of an env whose base URL
// is known; it returns the routes to mount and the runner options to set.
type withOAuth func(e *env, tools *mcp.Manager, base string) (oauth.Routes, agent.CredentialProvider, agent.Authenticator)

func newEnvWith(t testing.TB, oauthFn withOAuth, list ...agentconfig.Agent) *env {
	return newEnvOn(t, nil, oauthFn, list...)
}

// newEnvOn serves on ln (a new loopback listener when nil).
func newEnvOn(t testing.TB, ln net.Listener, oauthFn withOAuth, list ...agentconfig.Agent) *env {
	return newEnvFull(t, ln, oauthFn, nil, list...)
}

// newEnvOpts lets a test set server options before the server starts.
func newEnvOpts(t testing.TB, set func(*server.Options), list ...agentconfig.Agent) *env {
	return newEnvFull(t, nil, nil, set, list...)
}

func newEnvFull(t testing.TB, ln net.Listener, oauthFn withOAuth, set func(*server.Options), list ...agentconfig.Agent) *env {
	t.Helper()
	e := &env{t: t, model: llm.NewScripted(), store: store.NewMemory(), uiTools: &uitools.Registry{}}
	src := agentconfig.StaticSource(list)
	e.source = &src
	tools := mcp.NewManager(mcp.Options{})
	t.Cleanup(func() { tools.Close() })
	if ln == nil {
		ln = listen(t)
	}
	base := "http://" + ln.Addr().String()
	var (
		routes oauth.Routes
		creds  agent.CredentialProvider = agent.CredentialsByAuthType{}
		auth   agent.Authenticator
	)
	if oauthFn != nil {
		var oc agent.CredentialProvider
		routes, oc, auth = oauthFn(e, tools, base)
		creds = agent.CredentialsByAuthType{OAuth: oc}
	}
	runner := agent.New(agent.Options{
		Model: e.model, Tools: tools, Store: e.store,
		Credentials: creds, Auth: auth, LoadTimeout: 5 * time.Second, UITools: e.uiTools,
	})
	e.admins.Store("u-alice", true)
	rs := e.fakeRancher(t)
	e.users = rancher.NewUserResolver(rancher.UserOptions{RancherURL: rs.URL, Now: e.usersNow})
	policy, err := origins.New(rancherOrigin, base)
	if err != nil {
		t.Fatal(err)
	}
	access := rancher.NewCachedAccess(rancher.SelfSubjectAccessReviews{RancherURL: rs.URL}, time.Minute, nil)
	opts := server.Options{
		Origins: policy,
		MayConfigure: func(ctx context.Context, u agent.User) error {
			return access.Allow(ctx, rancher.User{ID: u.ID, Token: u.Token}, rancher.ConfigureAgents())
		},
		Users: server.UserResolverFunc(func(ctx context.Context, r *http.Request) (agent.User, error) {
			u, err := e.users.Resolve(ctx, r)
			return agent.User{ID: u.ID, Token: u.Token}, err
		}),
		Agents: sourceFunc(func() []agentconfig.Agent { return *e.source }), Runner: runner, Store: e.store,
		Extra: routes.Public, Protected: routes.Protected,
	}
	if set != nil {
		set(&opts)
	}
	e.srv = server.New(opts)
	e.srv.SetReady(true)
	e.http = httptest.NewUnstartedServer(e.srv.Handler())
	e.http.Listener.Close()
	e.http.Listener = ln
	e.http.Start()
	t.Cleanup(e.http.Close)
	return e
}

type sourceFunc func() []agentconfig.Agent

func (f sourceFunc) Agents(context.Context) ([]agentconfig.Agent, error) { return f(), nil }

func (e *env) dial(path, token string) *chattest.Client {
	e.t.Helper()
	c, err := e.dialErr(path, token)
	if err != nil {
		e.t.Fatalf("dial %s: %v", path, err)
	}
	return c
}

func (e *env) dialErr(path, token string) (*chattest.Client, error) {
	cookie := ""
	if token != "" {
		cookie = "R_SESS=" + token
	}
	return e.dialCookie(path, cookie)
}

// dialCookie dials with a whole Cookie header.
func (e *env) dialCookie(path, cookie string) (*chattest.Client, error) {
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	c, _, err := e.dialHeader(path, h)
	return c, err
}

// dialHeader dials with the handshake headers h (Origin, Host, ...) and
// returns the handshake response too.
func (e *env) dialHeader(path string, h http.Header) (*chattest.Client, *http.Response, error) {
	return chattest.DialErr(e.t, e.http.URL+path, h)
}

func prompt(text string, extra ...string) string {
	if len(extra) > 0 {
		return `{"prompt":` + quote(text) + `,` + strings.Join(extra, ",") + `}`
	}
	return `{"prompt":` + quote(text) + `,"context":{}}`
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func call(name, args string) llm.Entry {
	return llm.Entry{ToolCalls: []llm.ScriptedCall{{Name: name, Args: json.RawMessage(args)}}}
}

func equalFrames(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("frames:\n got  %q\n want %q", got, want)
	}
}

// msgs renders model messages compactly for exact comparison.
func msgs(ms []llm.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		s := m.Role + ": " + modeltext.ToolResultData(m.Content)
		for _, c := range m.ToolCalls {
			s += fmt.Sprintf(" [call %s %s %s]", c.ID, c.Name, c.Arguments)
		}
		if m.ToolCallID != "" {
			s += " (for " + m.ToolCallID + ")"
		}
		out[i] = s
	}
	return out
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
