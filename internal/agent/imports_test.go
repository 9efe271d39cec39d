package agent_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAgentDoesNotImportOAuth: package agent knows no OAuth and no HTTP
// request; the OAuth adapter lives in the wiring (server.OAuthAgent).
func TestAgentDoesNotImportOAuth(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/rancher/ai-agent/internal/oauth" || strings.HasPrefix(dep, "github.com/rancher/ai-agent/internal/oauth/") {
			t.Fatalf("package agent depends on %s", dep)
		}
	}
}
