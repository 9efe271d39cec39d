package controller_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// env is the package's API server, shared by its tests because starting
// one takes seconds; nil (with skipWhy) when the binaries are missing.
var (
	env     *kubetest.Env
	skipWhy string
)

func TestMain(m *testing.M) {
	var err error
	env, skipWhy, err = kubetest.Start(context.Background(), agents.Namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if skipWhy != "" {
		fmt.Fprintln(os.Stderr, "!!!!!!!! "+skipWhy)
	}
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	os.Exit(code)
}
