package controller_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/mcp"
)

const ns = agentconfig.Namespace

// mcpServer is a real go-sdk MCP server whose HTTP answers a test can
// change: status != 0 answers every request with that status, and
// wantHeader requires a header value (else 401).
type mcpServer struct {
	*httptest.Server
	status     atomic.Int32
	mu         sync.Mutex
	wantHeader [2]string
	seen       []string // values of wantHeader[0] received
}

func newMCPServer(t *testing.T) *mcpServer {
	s := sdk.NewServer(&sdk.Implementation{Name: "test", Version: "v1"}, nil)
	s.AddTool(&sdk.Tool{Name: "ping", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "pong"}}}, nil
		})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
	m := &mcpServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := m.status.Load(); code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+m.URL+`/.well-known/oauth-protected-resource"`)
			}
			http.Error(w, http.StatusText(int(code)), int(code))
			return
		}
		m.mu.Lock()
		name, want := m.wantHeader[0], m.wantHeader[1]
		if name != "" {
			m.seen = append(m.seen, r.Header.Get(name))
		}
		m.mu.Unlock()
		if name != "" && r.Header.Get(name) != want {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *mcpServer) require(name, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wantHeader = [2]string{name, value}
}

func (m *mcpServer) lastSeen() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.seen) == 0 {
		return ""
	}
	return m.seen[len(m.seen)-1]
}

// recorder implements controller.Forgetter, OAuthRegistrar and wraps a
// Prober to count its calls per agent.
type recorder struct {
	mu         sync.Mutex
	forgot     map[string]int
	registered map[string]int
	probes     map[string]int
	prober     controller.Prober
}

func newRecorder(p controller.Prober) *recorder {
	return &recorder{forgot: map[string]int{}, registered: map[string]int{}, probes: map[string]int{}, prober: p}
}

func (r *recorder) Forget(name string) { r.mu.Lock(); r.forgot[name]++; r.mu.Unlock() }

func (r *recorder) Register(_ context.Context, a agentconfig.Agent) error {
	r.mu.Lock()
	r.registered[a.Name]++
	r.mu.Unlock()
	return nil
}

func (r *recorder) Probe(ctx context.Context, a agentconfig.Agent) error {
	r.mu.Lock()
	r.probes[a.Name]++
	r.mu.Unlock()
	return r.prober.Probe(ctx, a)
}

func (r *recorder) count(m map[string]int, name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[name]
}

// running is a started manager with the controller and a Source.
type running struct {
	src      *kube.Source
	rec      *recorder
	calls    *atomic.Int64 // HTTP requests of the manager to the API server
	changed  chan string   // kube.Notify events
	tools    *mcp.Manager  // a chat-side MCP manager, for "next chat" checks
	interval time.Duration
}

func testLogger() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// start runs the controller against the shared API server until the test ends.
func start(t *testing.T, interval time.Duration) *running {
	t.Helper()
	env.Skip(t, skipWhy)
	ctx, cancel := context.WithCancel(t.Context())
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	log := testLogger()
	mgr, err := manager.New(kubetest.Counting(env.Config, calls), manager.Options{
		Scheme: scheme, Cache: kube.CacheOptions(scheme, ns), Logger: logr.FromSlogHandler(log.Handler()),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.IndexSecretRefs(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	src := kube.NewSource(mgr.GetCache(), ns)
	probes := mcp.NewManager(mcp.Options{Timeout: 5 * time.Second})
	tools := mcp.NewManager(mcp.Options{Timeout: 5 * time.Second})
	rec := newRecorder(controller.MCPProber{Manager: probes})
	r := &running{src: src, rec: rec, calls: calls, changed: make(chan string, 100), tools: tools, interval: interval}
	if err := kube.Notify(ctx, mgr.GetCache(), src, func(n string) {
		tools.Forget(n)
		select {
		case r.changed <- n:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	err = controller.Setup(mgr, controller.Options{
		Namespace: ns, Agents: src, Prober: rec, OAuth: rec, Forget: []controller.Forgetter{rec},
		Interval: interval, ProbeTimeout: 5 * time.Second, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
		_ = probes.Close()
		_ = tools.Close()
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	return r
}

// createAgent creates an AIAgentConfig and deletes it when the test ends.
func createAgent(t *testing.T, name string, spec v1alpha1.AIAgentConfigSpec) {
	t.Helper()
	obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
}

func createSecret(t *testing.T, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := env.Client.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), s) })
	return s
}

func getAgent(t *testing.T, name string) *v1alpha1.AIAgentConfig {
	t.Helper()
	var obj v1alpha1.AIAgentConfig
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &obj); err != nil {
		t.Fatal(err)
	}
	return &obj
}

// settled waits until every agent in the namespace (the built-ins too) has
// a Ready condition for its current generation: the controller has written
// every status it is going to write at rest.
func settled(t *testing.T) {
	t.Helper()
	kubetest.Eventually(t, 20*time.Second, "every agent has a current status", func() bool {
		var list v1alpha1.AIAgentConfigList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for i := range list.Items {
			if c := readyCondition(&list.Items[i]); c == nil || c.ObservedGeneration != list.Items[i].Generation {
				return false
			}
		}
		return len(list.Items) > 0
	})
}

// readyCondition returns the agent's Ready condition, or nil.
func readyCondition(obj *v1alpha1.AIAgentConfig) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == v1alpha1.ConditionReady {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

// waitStatus waits until the agent's phase and Ready message are as given.
func waitStatus(t *testing.T, name, phase, message string) *v1alpha1.AIAgentConfig {
	t.Helper()
	var obj *v1alpha1.AIAgentConfig
	kubetest.Eventually(t, 20*time.Second, name+" "+phase+" "+message, func() bool {
		obj = getAgent(t, name)
		c := readyCondition(obj)
		return obj.Status.Phase == phase && c != nil && c.Message == message
	})
	return obj
}
