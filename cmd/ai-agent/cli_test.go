package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// runCLI runs the command line and returns its exit status and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestValidateFiveMistakes: each mistake is one line naming the agent, the
// field and the fix; exit status 1.
func TestValidateFiveMistakes(t *testing.T) {
	code, out, _ := runCLI(t, nil, "validate", "--config", "testdata/five-mistakes.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		`agent "notes": spec.authenticationSecret: Secret "notes-oauth" does not exist`,
		`agent "inventory": Secret "inventory-oauth" key grantType: "client_credentials" is not a grant type. Fix: use one of authorization-code, client-credentials, workload-identity, enterprise`,
		`agent "cluster": spec.mcpURL: it is empty. Fix:`,
		`agent "wiki": Secret "wiki-oauth" key clientSecert: this key is not read by OAUTH2 agents. Fix: rename it`,
		`agent "tickets": spec.authenticationSecret: authenticationType BASIC needs a Secret, and none is named. Fix: create a Secret`,
		`5 problem(s) in testdata/five-mistakes.yaml (5 agent(s) checked).`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s…", i+1, lines[i], w)
		}
	}
}

// TestValidateKeysAndDocuments: a bad encryption key says how to make one;
// a document that does not decode is a line with its number and field.
func TestValidateKeysAndDocuments(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata:\n  name: x\nspec:\n  displayName: X\n  authenticationType: OAUTH\n---\n"+
		"apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata:\n  name: why\nspec:\n  displayName: Why\n  mcpURL: https://y.example.com/mcp\n  authenticationType: OAUTH2\n  authenticationSecret: why\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: why\nstringData:\n  grantType: client-credentials\n"), 0o600)
	code, out, _ := runCLI(t, map[string]string{"OAUTH_ENCRYPTION_KEY": "too-short"}, "validate", "--config", cfg)
	if code != 1 ||
		!strings.Contains(out, `document 1 (AIAgentConfig "x"): spec.authenticationType: "OAUTH" is not one of NONE, RANCHER, BASIC, HEADER, OAUTH2`) ||
		!strings.Contains(out, `agent "why": Secret "why": grantType client-credentials needs clientID and clientSecret or privateKey. Fix:`) ||
		!strings.Contains(out, "OAUTH_ENCRYPTION_KEY") || !strings.Contains(out, "openssl rand -base64 32") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

// TestExampleAgentsValidate: docs/examples/agents.yaml has one agent per
// authentication type and grant, and validate finds nothing wrong.
func TestExampleAgentsValidate(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "validate", "--config", "../../docs/examples/agents.yaml")
	if code != 0 || !strings.Contains(out, "8 agent(s), no problem found") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	b, _ := os.ReadFile("../../docs/examples/agents.yaml")
	for _, w := range []string{"authenticationType: NONE", "authenticationType: RANCHER", "authenticationType: BASIC", "authenticationType: HEADER",
		"grantType: authorization-code", "grantType: client-credentials", "grantType: workload-identity", "grantType: enterprise"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("example lacks %q", w)
		}
	}
}

// TestServeLoadsExampleAgents: serve loads the example, logs one line per
// agent, and GET /v1/api/agents lists them with their status.
func TestServeLoadsExampleAgents(t *testing.T) {
	env := map[string]string{"RANCHER_URL": "http://127.0.0.1:1", "ACTIVE_LLM": "scripted", "STORAGE": "memory", "RBAC_ENABLED": "false",
		"OAUTH_ENCRYPTION_KEY": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="}
	addr, out, stop := runServe(t, []string{"--config", "../../docs/examples/agents.yaml"}, func(k string) string { return env[k] })
	defer stop()
	for _, name := range []string{"open", "rancher", "basic", "header", "notes", "inventory", "builds", "tickets"} {
		waitFor(t, out, regexp.MustCompile(`("msg":"agent","name":"`+name+`","authType":"[A-Z0-9]+","status":"active")`))
	}
	if !strings.Contains(out.String(), `"msg":"ai-agent starting","version":"`) {
		t.Fatalf("no version in the start log:\n%s", out)
	}
	// RBAC_ENABLED=false makes every user an administrator; the session
	// still has to resolve, and RANCHER_URL is unreachable here: 401.
	resp, err := http.Get("http://" + addr + "/v1/api/agents")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /v1/api/agents: %d", resp.StatusCode)
	}
}

// TestServeLogsBrokenAgent: a broken agent is logged at start with its
// reason, and readiness stays 200.
func TestServeLogsBrokenAgent(t *testing.T) {
	env := map[string]string{"RANCHER_URL": "http://127.0.0.1:1", "ACTIVE_LLM": "scripted", "STORAGE": "memory"}
	addr, out, stop := runServe(t, []string{"--config", "testdata/five-mistakes.yaml"}, func(k string) string { return env[k] })
	defer stop()
	line := waitFor(t, out, regexp.MustCompile(`(\{[^\n]*"msg":"agent","name":"cluster"[^\n]*)`))
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["status"] != "error" || !strings.Contains(rec["reason"].(string), "spec.mcpURL") {
		t.Fatalf("log line %s (%v)", line, err)
	}
	resp, err := http.Get("http://" + addr + "/v1/api/readiness")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness %d", resp.StatusCode)
	}
}

// TestCommandLineMistakes: a stray argument, --config with --kubeconfig
// and a bad LOG_LEVEL or LOG_FORMAT are errors that say what to do.
func TestCommandLineMistakes(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{nil, []string{"serve", "agents.yaml", "--listen", ":1"}, 2, `unexpected argument "agents.yaml"`},
		{nil, []string{"serve", "--config", "a.yaml", "--kubeconfig", "k"}, 2, "--config and --kubeconfig exclude each other"},
		{nil, []string{"validate", "--config", "a.yaml", "--kubeconfig", "k"}, 2, "--config and --kubeconfig exclude each other"},
		{nil, []string{"validate"}, 2, "nothing to check"},
		{map[string]string{"LOG_LEVEL": "verbose"}, []string{"serve", "--config", "testdata/five-mistakes.yaml"}, 1, `LOG_LEVEL="verbose": want debug, info, warn or error`},
		{map[string]string{"LOG_FORMAT": "pretty"}, []string{"serve", "--config", "testdata/five-mistakes.yaml"}, 1, `LOG_FORMAT="pretty": want json or text`},
		{nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		code, _, errOut := runCLI(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestVersion: `version` and `--version` print it; -ldflags wins, then the
// module version, then the VCS revision.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		code, out, _ := runCLI(t, nil, arg)
		if code != 0 || !strings.HasPrefix(out, "ai-agent ") {
			t.Fatalf("%s: %d %q", arg, code, out)
		}
	}
	bi := func(v string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Version: v}, Settings: settings}, true
		}
	}
	for _, tc := range []struct {
		ld   string
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{"v1.2.3", bi("v0.0.1"), "v1.2.3"},
		{"", bi("v0.0.1"), "v0.0.1"},
		{"", bi("(devel)", debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef"}, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "devel-0123456789ab-dirty"},
		{"", bi("(devel)"), "devel"},
		{"", func() (*debug.BuildInfo, bool) { return nil, false }, "devel"},
	} {
		if got := versionFrom(tc.ld, tc.read); got != tc.want {
			t.Errorf("versionFrom(%q) = %q, want %q", tc.ld, got, tc.want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite docs/configuration.md")

// TestConfigurationDoc: docs/configuration.md is what envVars says, and
// serve -h lists every variable too; every variable the code reads is in
// the table.
func TestConfigurationDoc(t *testing.T) {
	const path = "../../docs/configuration.md"
	want := configurationDoc()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("docs/configuration.md is stale (%v): run\n  go test ./cmd/ai-agent -run TestConfigurationDoc -update", err)
	}
	var help bytes.Buffer
	run(context.Background(), []string{"serve", "-h"}, func(string) string { return "" }, io.Discard, &help)
	for _, v := range envVars() {
		if !strings.Contains(help.String(), "    "+v.Name+" ") {
			t.Errorf("serve -h lacks %s", v.Name)
		}
	}
	// Every getenv("X") or get("X") of the server's code is in the table.
	known := map[string]bool{}
	for _, v := range envVars() {
		known[v.Name] = true
	}
	re := regexp.MustCompile(`\b(?:getenv|get|boolEnv\(getenv,|boolVar\(getenv,)\s*\(?"([A-Z][A-Z0-9_]+)"`)
	skip := map[string]bool{"MCP_CONFORMANCE_SCENARIO": true, "MCP_CONFORMANCE_CONTEXT": true, "MCP_CONFORMANCE_PROTOCOL_VERSION": true}
	for _, dir := range []string{".", "../../internal"} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, _ := os.ReadFile(p)
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if !known[m[1]] && !skip[m[1]] {
					t.Errorf("%s reads %s, which is not in envVars (cmd/ai-agent/envtable.go)", p, m[1])
				}
			}
			return nil
		})
	}
}
