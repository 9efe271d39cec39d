package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rancher/ai-agent/internal/citest"
)

// controllerGen is the pinned generator; keep it equal to generate.go.
const controllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0"

// TestGeneratedUpToDate regenerates the deepcopy code and the CRD into a
// temporary directory and compares them with the committed files, so that a
// marker or field change without `go generate ./api/...` fails CI.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen; skipped in -short")
	}
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "run", controllerGen,
		"object", "crd:crdVersions=v1", "paths=.",
		"output:object:dir="+out, "output:crd:dir="+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		citest.SkipOrFail(t, "controller-gen: %v\n%s", err, msg)
		return
	}
	crd := "ai.cattle.io_aiagentconfigs.yaml"
	for _, c := range []struct{ generated, committed string }{
		{filepath.Join(out, "zz_generated.deepcopy.go"), "zz_generated.deepcopy.go"},
		{filepath.Join(out, crd), filepath.Join("..", "..", "config", "crd", crd)},
		{filepath.Join(out, crd), filepath.Join("..", "..", "chart", "ai-agent", "files", "crds", crd)},
	} {
		want, err := os.ReadFile(c.generated)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(c.committed)
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./api/...)", c.committed, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./api/...", c.committed)
		}
	}
}
