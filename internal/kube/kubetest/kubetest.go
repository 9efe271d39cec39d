// Package kubetest starts a real kube-apiserver and etcd through
// controller-runtime's envtest for tests, with the generated AIAgentConfig
// CRD installed and the agents' namespace created.
//
// The binaries are built from source by .ci/envtest.sh into a cache folder;
// when they are missing the tests skip with a loud message, unless CI=true,
// where a missing API server must fail the build rather than hide it.
package kubetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/rancher/ai-agent/internal/citest"
	"github.com/rancher/ai-agent/internal/kube"
)

// Env is a running API server.
type Env struct {
	// Config is an admin rest.Config for the API server.
	Config *rest.Config
	// Client is an uncached admin client with kube.NewScheme().
	Client client.Client
	// Root is the repository root (to find chart/ and config/).
	Root string
	env  *envtest.Environment
}

// Root returns the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// BinDir is where .ci/envtest.sh puts kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, else $AI_AGENT_CACHE/envtest/bin, else
// ~/.cache/ai-agent/envtest/bin.
func BinDir() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	cache := os.Getenv("AI_AGENT_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "ai-agent")
	}
	return filepath.Join(cache, "envtest", "bin")
}

// available reports why the binaries cannot be used, "" when they can.
func available() string {
	dir := BinDir()
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Sprintf("%s not found in %s: run .ci/envtest.sh", b, dir)
		}
	}
	return ""
}

// start starts the API server for a package's TestMain. It returns a nil
// Env and the reason when the binaries are missing outside CI; in CI that
// is an error.
func start(ctx context.Context, namespace string) (*Env, string, error) {
	if why := available(); why != "" {
		if citest.Required() {
			return nil, "", fmt.Errorf("envtest: %s", why)
		}
		return nil, "SKIPPING envtest tests: " + why, nil
	}
	root := Root()
	te := &envtest.Environment{
		BinaryAssetsDirectory: BinDir(),
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, "", fmt.Errorf("envtest start: %w", err)
	}
	e := &Env{Config: cfg, Root: root, env: te}
	scheme, err := kube.NewScheme()
	if err == nil {
		e.Client, err = client.New(cfg, client.Options{Scheme: scheme})
	}
	if err == nil {
		err = e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
	}
	if err != nil {
		_ = te.Stop()
		return nil, "", fmt.Errorf("envtest setup: %w", err)
	}
	return e, "", nil
}

// Run starts the API server for one test with a namespace in it and stops
// it when the test ends. Outside CI, without the binaries, it skips the
// test; in CI that fails it.
func Run(tb testing.TB, namespace string) *Env {
	tb.Helper()
	e, why, err := start(tb.Context(), namespace)
	if err != nil {
		tb.Fatal(err)
	}
	e.Skip(tb, why)
	tb.Cleanup(func() { _ = e.Stop() })
	return e
}

// Stop stops the API server.
func (e *Env) Stop() error { return e.env.Stop() }

// Skip skips t when e is nil (binaries missing outside CI).
func (e *Env) Skip(t testing.TB, why string) {
	t.Helper()
	if e == nil {
		t.Skip(why)
	}
}

// AddUser creates a user that authenticates to the API server, for
// RBAC tests; it returns the user's rest.Config.
func (e *Env) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	return u.Config(), nil
}

// Counting wraps cfg so that every HTTP request to the API server
// increments n; tests use it to measure API calls.
func Counting(cfg *rest.Config, n *atomic.Int64) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return rt.RoundTrip(r)
		})
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Grant creates a Role named name in namespace with rules and binds it to
// the user (RBAC objects in the real API server).
func (e *Env) Grant(ctx context.Context, namespace, name, user string, rules ...rbacv1.PolicyRule) error {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Rules: rules}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}}}
	for _, o := range []client.Object{role, rb} {
		if err := e.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("grant %s to %s: %w", name, user, err)
		}
	}
	return nil
}
