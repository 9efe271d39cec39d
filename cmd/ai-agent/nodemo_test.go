package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNodemoLinksNoDemo: the production build (-tags nodemo, the
// Dockerfile's) links neither the demo's MCP and authorization servers nor
// the load tool's fakes, while a plain build keeps both commands.
func TestNodemoLinksNoDemo(t *testing.T) {
	deps := func(tags ...string) []string {
		out, err := exec.Command("go", append(append([]string{"list", "-deps"}, tags...), ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", tags, err, out)
		}
		return strings.Fields(string(out))
	}
	const mod = "github.com/rancher/ai-agent/internal/"
	demoOnly := []string{mod + "demo", mod + "load", mod + "oauth/oauthtest", mod + "llm/llmmock"}
	for _, d := range deps("-tags", "nodemo") {
		if slices.Contains(demoOnly, d) {
			t.Errorf("-tags nodemo links %s", d)
		}
	}
	plain := deps()
	for _, d := range []string{mod + "demo", mod + "load"} {
		if !slices.Contains(plain, d) {
			t.Errorf("a plain build does not link %s: ai-agent demo and load need it", d)
		}
	}
}
