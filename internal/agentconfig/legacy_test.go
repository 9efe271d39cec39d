package agentconfig_test

import (
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

// TestResolveLegacyName: an agent written by the Python agent's older CRD
// has spec.name and no displayName; it shows under its old name.
func TestResolveLegacyName(t *testing.T) {
	none := func(string) (map[string][]byte, bool) { return nil, false }
	if a := agentconfig.Resolve("github", v1alpha1.AIAgentConfigSpec{LegacyName: "GitHub"}, none); a.Spec.DisplayName != "GitHub" {
		t.Errorf("display name %q, want GitHub", a.Spec.DisplayName)
	}
	if a := agentconfig.Resolve("github", v1alpha1.AIAgentConfigSpec{DisplayName: "New", LegacyName: "Old"}, none); a.Spec.DisplayName != "New" {
		t.Errorf("display name %q, want New", a.Spec.DisplayName)
	}
}
