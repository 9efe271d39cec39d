package controller_test

import (
	"testing"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// env is the package's API server, shared by its tests because starting
// one takes seconds; nil (with skipWhy) when the binaries are missing.
var (
	env     *kubetest.Env
	skipWhy string
)

func TestMain(m *testing.M) {
	kubetest.Main(m, agentconfig.Namespace, func(e *kubetest.Env, why string) { env, skipWhy = e, why })
}
