package controller_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube"
)

// flappingMCP is an MCP server on a fixed address that a test takes down
// (nothing listens: connection refused) and brings back.
type flappingMCP struct {
	addr string
	mcp  http.Handler
	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

func newFlappingMCP(t *testing.T) *flappingMCP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down until up
	s := sdk.NewServer(&sdk.Implementation{Name: "flapping", Version: "v1"}, nil)
	s.AddTool(&sdk.Tool{Name: "ping", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "pong"}}}, nil
		})
	f := &flappingMCP{addr: addr, mcp: sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)}
	t.Cleanup(f.down)
	return f
}

func (f *flappingMCP) url() string { return "http://" + f.addr + "/mcp" }

// up listens on the address again (retrying briefly should the kernel
// not have released it yet).
func (f *flappingMCP) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the port's release is not an event we can wait on
	}
	if err != nil {
		t.Fatalf("listen %s again: %v", f.addr, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.srv = &http.Server{Handler: f.mcp, ReadHeaderTimeout: 5 * time.Second}
	f.done = make(chan struct{})
	srv, done := f.srv, f.done
	go func() { defer close(done); _ = srv.Serve(ln) }()
}

// down closes the listener and every connection.
func (f *flappingMCP) down() {
	f.mu.Lock()
	srv, done := f.srv, f.done
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
		<-done
	}
}

// statusWatch records every status an agent goes through, from a watch on
// the API server (every write, not samples of them).
type statusWatch struct {
	t      *testing.T
	events <-chan watch.Event
	seen   []string
}

func watchStatus(t *testing.T, name string) *statusWatch {
	t.Helper()
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(t.Context(), &v1alpha1.AIAgentConfigList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &statusWatch{t: t, events: w.ResultChan()}
}

func describe(obj *v1alpha1.AIAgentConfig) string {
	c := readyCondition(obj)
	if c == nil {
		return "no status"
	}
	return fmt.Sprintf("phase=%q Ready=%s reason=%s", obj.Status.Phase, c.Status, c.Reason)
}

// until reads status changes until want holds, failing on a Failed phase.
func (w *statusWatch) until(what string, want func(*v1alpha1.AIAgentConfig, *metav1.Condition) bool) *v1alpha1.AIAgentConfig {
	w.t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-w.events:
			if !ok {
				w.t.Fatalf("watch ended waiting for %s; statuses: %q", what, w.seen)
			}
			obj, ok := ev.Object.(*v1alpha1.AIAgentConfig)
			if !ok {
				continue
			}
			d := describe(obj)
			if len(w.seen) == 0 || w.seen[len(w.seen)-1] != d {
				w.seen = append(w.seen, d)
			}
			if obj.Status.Phase == v1alpha1.PhaseFailed {
				w.t.Fatalf("a passing outage made the agent Failed: %s (%s); statuses: %q", d, readyCondition(obj).Message, w.seen)
			}
			if c := readyCondition(obj); c != nil && want(obj, c) {
				return obj
			}
		case <-deadline.C:
			w.t.Fatalf("timed out waiting for %s; statuses: %q", what, w.seen)
		}
	}
}

func retrying(obj *v1alpha1.AIAgentConfig, c *metav1.Condition) bool {
	return obj.Status.Phase == "" && c.Status == metav1.ConditionUnknown && c.Reason == controller.ReasonUnreachable &&
		strings.HasPrefix(c.Message, "MCP server not reachable yet, retrying with backoff: ")
}

func ready(obj *v1alpha1.AIAgentConfig, c *metav1.Condition) bool {
	return obj.Status.Phase == v1alpha1.PhaseReady && c.Status == metav1.ConditionTrue && c.Message == controller.MessageReady
}

// TestMCPOutageIsRetriedNotFailed (upstream rancher-ai-agent #205): an
// agent created while its MCP server is down is Ready=Unknown (reason
// MCPServerUnreachable, no phase) and retried with backoff, and becomes
// Ready by itself once the server listens; when the server goes down
// again, the next periodic check makes it Unknown, not Failed, and it is
// Ready again when the server returns. Every status written is seen
// through a watch on the real kube-apiserver.
func TestMCPOutageIsRetriedNotFailed(t *testing.T) {
	r := start(t, 500*time.Millisecond)
	srv := newFlappingMCP(t)
	w := watchStatus(t, "outage-agent")
	createAgent(t, "outage-agent", noneSpec(srv.url()))

	w.until("Unknown while the server is down at creation", retrying)
	// More than one check: the work queue retries it (1 s doubling).
	probes := r.rec.count(r.rec.probes, "outage-agent")
	start := time.Now()
	srv.up(t)
	w.until("Ready once the server listens", ready)
	if r.rec.count(r.rec.probes, "outage-agent") <= probes {
		t.Fatal("Ready without a new check")
	}
	t.Logf("Ready %s after the server came back", time.Since(start).Round(100*time.Millisecond))

	srv.down()
	w.until("Unknown when the server goes away during periodic checks", retrying)
	srv.up(t)
	w.until("Ready again when it returns", ready)
	t.Logf("statuses: %q", w.seen)
	if len(w.seen) < 4 {
		t.Fatalf("statuses %q: want Unknown, Ready, Unknown, Ready", w.seen)
	}
}
