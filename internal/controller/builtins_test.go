package controller_test

import (
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

func TestBuiltinsSeededAndDriftReverted(t *testing.T) {
	start(t, time.Hour)
	want := controller.Builtins(controller.BuiltinOptions{})
	for name, spec := range want {
		kubetest.Eventually(t, 20*time.Second, "built-in "+name, func() bool {
			var obj v1alpha1.AIAgentConfig
			return env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &obj) == nil &&
				obj.Spec.BuiltIn && obj.Spec.DisplayName == spec.DisplayName
		})
	}

	// Drift in a managed field is reverted; enabled and the model override are the user's.
	obj := getAgent(t, "fleet")
	orig := obj.DeepCopy()
	off, model := false, "my-model"
	obj.Spec.Description = "hijacked"
	obj.Spec.ToolSet = "other"
	obj.Spec.Enabled, obj.Spec.LLMModel, obj.Spec.LLMModelEnabled = &off, &model, true
	if err := env.Client.Patch(t.Context(), obj, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 20*time.Second, "fleet drift reverted", func() bool {
		s := getAgent(t, "fleet").Spec
		return s.Description == want["fleet"].Description && s.ToolSet == "fleet"
	})
	s := getAgent(t, "fleet").Spec
	if s.IsEnabled() || s.LLMModel == nil || *s.LLMModel != model || !s.LLMModelEnabled {
		t.Fatalf("user fields not kept: enabled=%v llmModel=%v llmModelEnabled=%v", s.Enabled, s.LLMModel, s.LLMModelEnabled)
	}

	// The built-in Rancher agent may be pointed at rancher-ai-mcp in OAuth
	// mode: OAUTH2, its Secret, URL and CA are kept; any other
	// authentication is drift.
	obj = getAgent(t, "rancher")
	orig = obj.DeepCopy()
	obj.Spec.AuthenticationType, obj.Spec.AuthenticationSecret = v1alpha1.AuthOAuth2, "rancher-mcp-oauth"
	obj.Spec.MCPURL, obj.Spec.CABundleRef = "https://rancher-mcp-server.cattle-ai-agent-system.svc/mcp", nil
	obj.Spec.Description = "hijacked"
	if err := env.Client.Patch(t.Context(), obj, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 20*time.Second, "rancher description reverted", func() bool {
		return getAgent(t, "rancher").Spec.Description == want["rancher"].Description
	})
	if s := getAgent(t, "rancher").Spec; s.AuthenticationType != v1alpha1.AuthOAuth2 || s.AuthenticationSecret != "rancher-mcp-oauth" ||
		s.MCPURL != "https://rancher-mcp-server.cattle-ai-agent-system.svc/mcp" || s.CABundleRef != nil {
		t.Fatalf("OAuth2 settings of the built-in not kept: %+v", s)
	}
	obj = getAgent(t, "rancher")
	orig = obj.DeepCopy()
	obj.Spec.AuthenticationType = v1alpha1.AuthHeader
	if err := env.Client.Patch(t.Context(), obj, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 20*time.Second, "rancher HEADER reverted", func() bool {
		s := getAgent(t, "rancher").Spec
		return s.AuthenticationType == v1alpha1.AuthRancher && s.MCPURL == want["rancher"].MCPURL && s.AuthenticationSecret == ""
	})

	// A deleted built-in comes back.
	if err := env.Client.Delete(t.Context(), getAgent(t, "provisioning")); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 20*time.Second, "provisioning recreated", func() bool {
		var o v1alpha1.AIAgentConfig
		err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "provisioning"}, &o)
		return err == nil && o.DeletionTimestamp == nil
	})
}
