package agentconfig_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

const fullStream = `
# leading comment and separator
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata:
  name: rancher
  namespace: cattle-ai-agent-system
  labels: {app: x}
spec:
  displayName: Rancher
  description: Kubernetes resources
  systemPrompt: You are helpful.
  mcpURL: rancher-mcp-server.cattle-ai-agent-system.svc
  authenticationType: RANCHER
  builtIn: true
  enabled: true
  humanValidationTools: [createKubernetesResource, patchKubernetesResource]
  toolSet: rancher
  llmModel: gpt-4o
  llmModelEnabled: true
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: math}
spec:
  displayName: Math
  mcpURL: https://math.example.com/mcp
  authenticationType: BASIC
  authenticationSecret: cattle-ai-agent-system/math-auth
  caBundleRef: {name: math-ca}
---
apiVersion: v1
kind: Secret
metadata: {name: math-auth, namespace: cattle-ai-agent-system}
type: kubernetes.io/basic-auth
data:
  username: YWxpY2U=   # alice
  password: c2VjcmV0   # secret
---
apiVersion: v1
kind: Secret
metadata: {name: math-ca}
type: Opaque
stringData:
  ca.crt: |
    -----BEGIN CERTIFICATE-----
    MIIB
    -----END CERTIFICATE-----
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: headers}
spec:
  displayName: Headers
  authenticationType: HEADER
  authenticationSecret: hdr
  caBundleRef: {name: hdr, key: tls.crt}
---
apiVersion: v1
kind: Secret
metadata: {name: hdr}
data:
  X-Api-Key: b2xk
  tls.crt: b2xk
stringData:
  X-Api-Key: new
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: disabled}
spec: {displayName: Disabled, enabled: false}
`

func parse(t *testing.T, s string) ([]agentconfig.Agent, error) {
	t.Helper()
	return agentconfig.ParseConfig(strings.NewReader(s), "config.yaml")
}

func TestParseConfigFull(t *testing.T) {
	got, err := parse(t, fullStream)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
		if a.ConfigError != "" || len(a.Revision) != 64 {
			t.Errorf("%s: ConfigError %q Revision %q", a.Name, a.ConfigError, a.Revision)
		}
	}
	if !reflect.DeepEqual(names, []string{"rancher", "math", "headers"}) {
		t.Fatalf("agents = %v (disabled must be excluded)", names)
	}
	model := "gpt-4o"
	yes := true
	want := v1alpha1.AIAgentConfigSpec{DisplayName: "Rancher", Description: "Kubernetes resources",
		SystemPrompt: "You are helpful.", MCPURL: "rancher-mcp-server.cattle-ai-agent-system.svc",
		AuthenticationType: v1alpha1.AuthRancher, BuiltIn: true, Enabled: &yes,
		HumanValidationTools: []string{"createKubernetesResource", "patchKubernetesResource"},
		ToolSet:              "rancher", LLMModel: &model, LLMModelEnabled: true}
	if !reflect.DeepEqual(got[0].Spec, want) {
		t.Errorf("rancher spec = %+v", got[0].Spec)
	}
	math := got[1]
	if string(math.AuthSecret["username"]) != "alice" || string(math.AuthSecret["password"]) != "secret" {
		t.Errorf("math secret = %q", math.AuthSecret)
	}
	if !strings.HasPrefix(string(math.CABundle), "-----BEGIN CERTIFICATE-----\nMIIB") || math.Spec.CABundleRef.Key != "ca.crt" {
		t.Errorf("math CA = %q key %q", math.CABundle, math.Spec.CABundleRef.Key)
	}
	hdr := got[2]
	if string(hdr.AuthSecret["X-Api-Key"]) != "new" || string(hdr.CABundle) != "old" {
		t.Errorf("stringData must win over data: %q, CA %q", hdr.AuthSecret, hdr.CABundle)
	}
	if got[0].Spec.AuthenticationType != v1alpha1.AuthRancher || math.Revision == hdr.Revision {
		t.Error("revisions must differ between agents")
	}
}

func TestParseConfigErrors(t *testing.T) {
	cfg := func(name, spec string) string {
		return "apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: " + name + "}\nspec: " + spec + "\n"
	}
	ok := cfg("a", "{displayName: A}")
	cases := map[string]string{
		ok + "---\n" + ok + "---\n" + cfg("math", "{displayName: M, authenticationType: OAUTH}"): `config.yaml: document 3 (AIAgentConfig "math"): spec.authenticationType: "OAUTH" is not one of NONE, RANCHER, BASIC, HEADER, OAUTH2`,
		cfg("b", "{displayName: B, mcpUrl: x}"):                                                  `config.yaml: document 1 (AIAgentConfig "b"): spec: unknown field "mcpUrl"`,
		cfg("b", "{displayName: B, enabled: maybe}"):                                             `document 1 (AIAgentConfig "b"): spec.enabled: cannot use a JSON string as bool`,
		cfg("b", "{description: no name}"):                                                       `document 1 (AIAgentConfig "b"): spec.displayName is required`,
		"apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nspec: {displayName: X}\n":       `config.yaml: document 1 (AIAgentConfig): metadata.name is required`,
		ok + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n":                       `config.yaml: document 2 (ConfigMap "c"): kind: "ConfigMap" is not one of AIAgentConfig, Secret`,
		ok + "---\n" + ok: `config.yaml: document 2 (AIAgentConfig "a"): duplicate name, first defined in document 1`,
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '%%%'}\n":                                                      `config.yaml: document 1 (Secret "s"): data.k: invalid base64`,
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringdata: {k: v}\n":                                                    `document 1 (Secret "s"): Secret: unknown field "stringdata"`,
		cfg("off", "{displayName: B}"):                                                                                               `config.yaml: document 1 (AIAgentConfig): metadata.name: cannot use a JSON bool as string (quote the value`,
		cfg("c", "{displayName: C, caBundleRef: {name: x, nam: y}}"):                                                                 `spec: unknown field "caBundleRef.nam"`,
		"apiVersion: ai.cattle.io/v1\nkind: AIAgentConfig\nmetadata: {name: v}\nspec: {displayName: V}\n":                            `document 1 (AIAgentConfig "v"): apiVersion: "ai.cattle.io/v1" is not ai.cattle.io/v1alpha1`,
		"apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: ns, namespace: default}\nspec: {displayName: N}\n": `document 1 (AIAgentConfig "ns"): metadata.namespace: "default" is not cattle-ai-agent-system`,
		cfg("c", "{displayName: C, caBundleRef: {key: x}}"):                                                                          `spec.caBundleRef.name is required`,
	}
	for in, want := range cases {
		_, err := parse(t, in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("input:\n%s\nerr  = %v\nwant = %s", in, err, want)
		}
	}
}

func TestMissingSecretOnlyFailsItsAgent(t *testing.T) {
	in := `apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: broken}
spec: {displayName: B, authenticationType: BASIC, authenticationSecret: x}
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: noca}
spec: {displayName: C, caBundleRef: {name: s}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {other: v}
---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: fine}
spec: {displayName: F}
`
	got, err := parse(t, in)
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d agents, err %v", len(got), err)
	}
	if got[0].ConfigError != `secret "x" not found` {
		t.Errorf("broken: %q", got[0].ConfigError)
	}
	if got[1].ConfigError != `secret "s" has no key "ca.crt"` {
		t.Errorf("noca: %q", got[1].ConfigError)
	}
	if got[2].ConfigError != "" || got[2].Spec.AuthenticationType != v1alpha1.AuthNone {
		t.Errorf("fine: %q, auth %q", got[2].ConfigError, got[2].Spec.AuthenticationType)
	}
}

func TestFileSourceReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agents.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	doc := "apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: a}\nspec: {displayName: %s}\n"
	write(strings.Replace(doc, "%s", "One", 1))
	src, err := agentconfig.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := src.Agents(context.Background())
	write(strings.Replace(doc, "%s", "Two", 1))
	if err := src.Reload(); err != nil {
		t.Fatal(err)
	}
	second, _ := src.Agents(context.Background())
	if second[0].Spec.DisplayName != "Two" || second[0].Revision == first[0].Revision {
		t.Fatalf("reload: %+v", second)
	}
	write("kind: Nope\n")
	err = src.Reload()
	if err == nil || !strings.Contains(err.Error(), path+": document 1") {
		t.Fatalf("bad reload err = %v", err)
	}
	kept, _ := src.Agents(context.Background())
	if len(kept) != 1 || kept[0].Spec.DisplayName != "Two" {
		t.Fatalf("old set not kept: %+v", kept)
	}
	if _, err := agentconfig.LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
	var _ agentconfig.Source = src
}
