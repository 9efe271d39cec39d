package kubetest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rancher/ai-agent/internal/leakcheck"
)

// Main is a TestMain body for packages that share one API server across
// their tests (starting one takes seconds): it starts it in namespace,
// runs the tests and stops it. set receives the server (nil when the
// binaries are missing) and why the tests must skip then.
func Main(m *testing.M, namespace string, set func(env *Env, skipWhy string)) {
	env, why, err := start(context.Background(), namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if why != "" {
		fmt.Fprintln(os.Stderr, "!!!!!!!! "+why)
	}
	set(env, why)
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	leakcheck.Exit(code)
}
