package oauthtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/citest"
)

// Versions installed into the cache. .ci/oidc-provider.sh installs the same
// and writes the same marker; keep them in sync.
const (
	OIDCProviderVersion = "9.13.3"
	NodeMajor           = "22"
	// MCPSDKVersion is the official TypeScript MCP SDK
	// (@modelcontextprotocol/sdk) of the interop peer sdkserver.mjs, and
	// ExpressVersion the express it is served with (the SDK's own
	// dependency range is ^5.2.1).
	MCPSDKVersion  = "1.32.2"
	ExpressVersion = "5.2.1"
)

// installMarker is the content of <dir>/.installed after a complete install.
const installMarker = "oidc-provider@" + OIDCProviderVersion + " node@" + NodeMajor +
	" @modelcontextprotocol/sdk@" + MCPSDKVersion + " express@" + ExpressVersion + "\n"

// npmPackages are the npm packages installed into the cache (node aside).
func npmPackages() []string {
	return []string{
		"oidc-provider@" + OIDCProviderVersion,
		"@modelcontextprotocol/sdk@" + MCPSDKVersion,
		"express@" + ExpressVersion,
	}
}

//go:embed provider.mjs
var providerScript []byte

//go:embed sdkserver.mjs
var sdkServerScript []byte

// runtime is a ready-to-run provider installation.
type runtime struct {
	node   string // node binary
	script string // provider.mjs inside the install dir (so node_modules resolves)
	// sdkScript is sdkserver.mjs (the TypeScript SDK's MCP server), also
	// inside the install dir.
	sdkScript string
}

// CacheDir is where node and oidc-provider are installed:
// $AI_AGENT_CACHE/oidc-provider, default ~/.cache/ai-agent/oidc-provider.
func CacheDir() (string, error) {
	base := os.Getenv("AI_AGENT_CACHE")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("oauthtest: no AI_AGENT_CACHE and no home dir: %w", err)
		}
		base = filepath.Join(home, ".cache", "ai-agent")
	}
	return filepath.Join(base, "oidc-provider"), nil
}

// unavailable skips (or, under CI=true, fails) the test because node/npm or
// the provider installation is not available.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if citest.Required() {
		t.Fatalf("oauthtest: the oidc-provider test authorization server is required in CI: %s (run .ci/oidc-provider.sh first)", msg)
	}
	t.Skipf("\n"+
		"########################################################################\n"+
		"## SKIPPED: oauthtest needs node + npm for the oidc-provider test AS. ##\n"+
		"## %s\n"+
		"## Install Node (>= 20) and npm, or run .ci/oidc-provider.sh.        ##\n"+
		"## With CI=true this is a test failure.                              ##\n"+
		"########################################################################", msg)
}

// ensureRuntime installs node and oidc-provider into the cache if needed and
// writes provider.mjs next to them.
func ensureRuntime(t testing.TB) runtime {
	t.Helper()
	dir, err := CacheDir()
	if err != nil {
		unavailable(t, "%v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		unavailable(t, "cannot create cache dir %s: %v", dir, err)
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		t.Fatalf("oauthtest: lock %s.lock: %v", dir, err)
	}
	defer unlock()

	if b, err := os.ReadFile(filepath.Join(dir, ".installed")); err != nil || string(b) != installMarker {
		start := time.Now()
		if err := install(dir); err != nil {
			unavailable(t, "installing %s into %s failed: %v", strings.Join(npmPackages(), " "), dir, err)
		}
		t.Logf("oauthtest: installed %s (node@%s) into %s in %s", strings.Join(npmPackages(), " "), NodeMajor, dir, time.Since(start).Round(time.Millisecond))
	}

	node := filepath.Join(dir, "node_modules", ".bin", "node")
	if out, err := exec.Command(node, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "v") {
		// The npm "node" package could not be installed (or does not run
		// here): fall back to the system node.
		sys, lerr := exec.LookPath("node")
		if lerr != nil {
			unavailable(t, "no usable node binary (cache: %v, PATH: %v)", err, lerr)
		}
		node = sys
	}

	return runtime{node: node, script: writeScript(t, dir, "provider", providerScript), sdkScript: writeScript(t, dir, "sdkserver", sdkServerScript)}
}

// writeScript writes an embedded script into the install dir (so that its
// imports resolve in node_modules) under a name derived from its content,
// and returns its path.
func writeScript(t testing.TB, dir, name string, content []byte) string {
	t.Helper()
	sum := sha256.Sum256(content)
	script := filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:6])+".mjs")
	if b, err := os.ReadFile(script); err != nil || !bytes.Equal(b, content) {
		tmp := script + ".tmp"
		if err := os.WriteFile(tmp, content, 0o644); err != nil {
			t.Fatalf("oauthtest: write %s: %v", tmp, err)
		}
		if err := os.Rename(tmp, script); err != nil {
			t.Fatalf("oauthtest: rename %s: %v", tmp, err)
		}
	}
	return script
}

// install runs npm in dir; the caller holds the lock.
func install(dir string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm not found in PATH: %w", err)
	}
	_ = os.Remove(filepath.Join(dir, ".installed"))
	if _, err := os.Stat(filepath.Join(dir, "package.json")); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"ai-agent-oauthtest","private":true}`+"\n"), 0o644); err != nil {
			return err
		}
	}
	run := func(pkgs ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		args := append([]string{"install", "--no-audit", "--no-fund", "--loglevel=error"}, pkgs...)
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("npm %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run(append([]string{"node@" + NodeMajor}, npmPackages()...)...); err != nil {
		// Without Node 22 from npm, oidc-provider still runs on a system
		// Node >= 20 (with a warning).
		if _, lerr := exec.LookPath("node"); lerr != nil {
			return err
		}
		if err2 := run(npmPackages()...); err2 != nil {
			return fmt.Errorf("%v\nretry without node@%s: %v", err, NodeMajor, err2)
		}
	}
	return os.WriteFile(filepath.Join(dir, ".installed"), []byte(installMarker), 0o644)
}
