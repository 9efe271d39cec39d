package main

import (
	"log/slog"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// TestKubeRuntime starts the cluster source and controller the way serve
// does and checks that an agent created in the cluster reaches the source
// and that the built-ins get seeded.
func TestKubeRuntime(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: agentconfig.Namespace},
		Spec: v1alpha1.AIAgentConfigSpec{DisplayName: "Mine", MCPURL: "http://127.0.0.1:1/mcp"}}
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	se, err := readServeEnv(func(k string) string { return map[string]string{"LEADER_ELECT": "true"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	src, err := startKube(t.Context(), env.Config, se.Cluster, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	list, err := src.Agents(t.Context())
	if err != nil || len(list) != 1 || list[0].Name != "mine" || list[0].Spec.AuthenticationType != v1alpha1.AuthNone {
		t.Fatalf("Agents = %+v, %v", list, err)
	}
	if err := src.startController(t.Context(), kubeWiring{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 30*time.Second, "the built-ins seeded", func() bool {
		list, _ = src.Agents(t.Context())
		return len(list) == 4
	})
}
