package rancher_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/rancher/ranchertest"
)

// TestSubjectAccessReviewsWithRealRBAC asks a real API server, where a
// RoleBinding lets u-admin update AIAgentConfigs and nobody else.
func TestSubjectAccessReviewsWithRealRBAC(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	ctx := t.Context()
	if err := env.Grant(ctx, agentconfig.Namespace, "agent-admin", "u-admin",
		rbacv1.PolicyRule{APIGroups: []string{"ai.cattle.io"}, Resources: []string{"aiagentconfigs"}, Verbs: []string{"update"}}); err != nil {
		t.Fatal(err)
	}
	r := rancher.SubjectAccessReviews{Client: env.Client}
	if err := r.Allow(ctx, rancher.User{ID: "u-admin"}, rancher.ConfigureAgents()); err != nil {
		t.Fatalf("admin: %v", err)
	}
	if err := r.Allow(ctx, rancher.User{ID: "u-viewer"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("viewer: %v, want ErrForbidden", err)
	}
	other := rancher.ConfigureAgents()
	other.Namespace = "default"
	if err := r.Allow(ctx, rancher.User{ID: "u-admin"}, other); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("admin in another namespace: %v, want ErrForbidden", err)
	}
}

// TestSelfSubjectAccessReviews posts the review as the user to Rancher's
// proxy of the local cluster (the double checks path, bearer and body).
func TestSelfSubjectAccessReviews(t *testing.T) {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		ranchertest.SelfSubjectAccessReviews(t, func(u string) bool { return u == "u-admin" })(w, r)
	}))
	defer srv.Close()
	r := rancher.SelfSubjectAccessReviews{RancherURL: srv.URL + "/"}
	ctx := context.Background()
	if err := r.Allow(ctx, rancher.User{ID: "u-admin", Token: "tok-admin"}, rancher.ConfigureAgents()); err != nil {
		t.Fatalf("admin: %v", err)
	}
	if err := r.Allow(ctx, rancher.User{ID: "u-viewer", Token: "tok-viewer"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("viewer: %v", err)
	}
	if err := r.Allow(ctx, rancher.User{ID: "u-x"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("no session: %v", err)
	}
	down.Store(true)
	if err := r.Allow(ctx, rancher.User{ID: "u-admin", Token: "tok-admin"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrAccessUnknown) {
		t.Fatalf("Rancher down: %v, want ErrAccessUnknown", err)
	}
	if err := (rancher.SelfSubjectAccessReviews{RancherURL: "http://127.0.0.1:1"}).Allow(ctx, rancher.User{ID: "u-admin", Token: "tok-admin"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrAccessUnknown) {
		t.Fatalf("Rancher unreachable: %v, want ErrAccessUnknown", err)
	}
}

// countingReviewer answers from a table and counts the questions.
type countingReviewer struct {
	calls  atomic.Int32
	mu     sync.Mutex
	answer map[string]error
}

func (c *countingReviewer) Allow(_ context.Context, u rancher.User, _ authv1.ResourceAttributes) error {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answer[u.ID]
}

func (c *countingReviewer) set(user string, err error) {
	c.mu.Lock()
	c.answer[user] = err
	c.mu.Unlock()
}

// TestCachedAccess: yes and no are kept for the TTL per user and session
// (by the injected clock); a failure to answer is not kept.
func TestCachedAccess(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	next := &countingReviewer{answer: map[string]error{"u-viewer": rancher.ErrForbidden}}
	c := rancher.NewCachedAccess(next, 30*time.Second, clock)
	ctx := context.Background()
	admin, viewer := rancher.User{ID: "u-admin", Token: "t1"}, rancher.User{ID: "u-viewer", Token: "t2"}
	for range 3 {
		if err := c.Allow(ctx, admin, rancher.ConfigureAgents()); err != nil {
			t.Fatal(err)
		}
		if err := c.Allow(ctx, viewer, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
			t.Fatal(err)
		}
	}
	if n := next.calls.Load(); n != 2 {
		t.Fatalf("%d reviews, want 2 (one per user)", n)
	}
	next.set("u-admin", rancher.ErrForbidden) // the role was taken away
	advance(29 * time.Second)
	if err := c.Allow(ctx, admin, rancher.ConfigureAgents()); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	advance(2 * time.Second)
	if err := c.Allow(ctx, admin, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("after the TTL: %v, want ErrForbidden", err)
	}
	if err := c.Allow(ctx, rancher.User{ID: "u-admin", Token: "another session"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrForbidden) {
		t.Fatalf("another session: %v", err)
	}
	next.set("u-flaky", rancher.ErrAccessUnknown)
	before := next.calls.Load()
	for range 2 {
		if err := c.Allow(ctx, rancher.User{ID: "u-flaky", Token: "t3"}, rancher.ConfigureAgents()); !errors.Is(err, rancher.ErrAccessUnknown) {
			t.Fatal(err)
		}
	}
	if n := next.calls.Load() - before; n != 2 {
		t.Fatalf("a failure to answer was cached: %d calls", n)
	}
}
