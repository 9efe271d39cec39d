package chart_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// container returns the first container of a rendered Deployment.
func container(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	return spec(find(t, objs, "Deployment", name), "spec", "template", "spec")["containers"].([]any)[0].(map[string]any)
}

// envOf maps a container's env names to their value, or to
// "secret:<name>/<key>" for a secretKeyRef.
func envOf(c map[string]any) map[string]string {
	out := map[string]string{}
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		if v, ok := e["value"]; ok {
			out[e["name"].(string)] = fmt.Sprint(v)
			continue
		}
		ref, _ := e["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)
		out[e["name"].(string)] = fmt.Sprintf("secret:%v/%v", ref["name"], ref["key"])
	}
	return out
}

// TestChartValuesSchemaRejectsUnknownKeys: a misspelt or unsupported value
// fails the install with its name, at any depth, instead of being ignored.
func TestChartValuesSchemaRejectsUnknownKeys(t *testing.T) {
	for _, tc := range []struct{ set, key string }{
		{"llmModle=x", "llmModle"},
		{"llm.activeLLM=ollama", "activeLLM"},
		{"storage.postgres.connectionStrng=postgres://x", "connectionStrng"},
		{"networkPolicy.rancher.apiServerCIRDs={10.0.0.0/8}", "apiServerCIRDs"},
		{"mcpServer.image.tags=v1", "tags"},
		{"proxy.no_proxy=.corp", "no_proxy"},
		{"seLinux.enabled=true", "seLinux"},
	} {
		out, err := helmTemplate(t, "--set", tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "additional propert") {
			t.Errorf("--set %s: rendered or error without the key %q: %v\n%.200s", tc.set, tc.key, err, out)
		}
	}
	// Wrong types and values are refused too.
	for _, set := range []string{"llm.activeLlm=chatgpt", "replicas=0", "image.pullPolicy=Sometimes"} {
		if _, err := helmTemplate(t, "--set", set); err == nil {
			t.Errorf("--set %s rendered", set)
		}
	}
}

// TestChartUpstreamValues renders the chart with a values file written for
// the Python agent's chart: every key is mapped (PostgreSQL, not SQLite,
// for storage.enabled), and NOTES.txt names each deprecated key.
func TestChartUpstreamValues(t *testing.T) {
	values := filepath.Join("testdata", "upstream", "values.yaml")
	out, err := helmTemplate(t, "-f", values)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeAll(t, out)
	env := envOf(container(t, objs, "rancher-ai-agent"))
	for k, want := range map[string]string{
		"DB_ENABLED":            "true",
		"DB_CONNECTION_STRING":  "secret:rancher-ai-agent-db/connectionString",
		"MODEL":                 "anthropic.claude-sonnet",
		"SYSTEM_PROMPT":         "You are Liz.",
		"AWS_ACCESS_KEY_ID":     "secret:llm-secret/AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY": "secret:llm-secret/AWS_SECRET_ACCESS_KEY",
		"LOG_LEVEL":             "debug",
		"INSECURE_SKIP_TLS":     "true",
		"LLM_MOCK_ENABLED":      "true",
		"LLM_MOCK_URL":          "http://llm-mock:8080",
	} {
		if env[k] != want {
			t.Errorf("agent env %s = %q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["STORAGE"]; ok {
		t.Errorf("storage.enabled=true still sets STORAGE=%s", env["STORAGE"])
	}
	if db := find(t, objs, "Secret", "rancher-ai-agent-db"); fmt.Sprint(db.Object["stringData"]) != "map[connectionString:postgres://ai:pw@pg:5432/ai]" {
		t.Errorf("db secret %v", db.Object["stringData"])
	}
	cm := find(t, objs, "ConfigMap", "llm-config").Object["data"].(map[string]any)
	if cm["ACTIVE_LLM"] != "bedrock" || cm["BEDROCK_MODEL"] != "anthropic.claude-v2" || cm["OLLAMA_MODEL"] != "qwen3" {
		t.Errorf("llm-config %v", cm)
	}
	sec := find(t, objs, "Secret", "llm-secret").Object["stringData"].(map[string]any)
	for k, want := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-example",
		"AWS_BEARER_TOKEN_BEDROCK": "", "OLLAMA_URL": "http://ollama:11434", "LANGFUSE_HOST": "https://langfuse.example"} {
		if fmt.Sprint(sec[k]) != want {
			t.Errorf("llm-secret %s = %q, want %q", k, sec[k], want)
		}
	}
	mcp := container(t, objs, "rancher-mcp-server")
	if mcp["image"] != "registry.corp/rancher/rancher-ai-mcp:v0.1.2-alpha.3" || !strings.Contains(fmt.Sprint(mcp["command"]), "--read-only") {
		t.Errorf("mcp server image %v command %v", mcp["image"], mcp["command"])
	}
	if img := container(t, objs, "rancher-ai-agent")["image"]; img != "registry.corp/rancher/rancher-ai-agent-go:0.1.0" {
		t.Errorf("agent image %v", img)
	}
	// Without the values, the agent gets no MODEL, no mock and no AWS keys
	// of its own (the SDK's default chain stays in charge).
	plain := render(t)
	env = envOf(container(t, plain, "rancher-ai-agent"))
	for _, k := range []string{"MODEL", "SYSTEM_PROMPT", "LLM_MOCK_ENABLED"} {
		if v, ok := env[k]; ok {
			t.Errorf("defaults set %s=%s", k, v)
		}
	}
	if sec := find(t, plain, "Secret", "llm-secret").Object["stringData"].(map[string]any); sec["AWS_ACCESS_KEY_ID"] != nil {
		t.Errorf("defaults write an AWS access key: %v", sec)
	}

	notes := installNotes(t, "-f", values)
	for _, want := range []string{"DEPRECATED", "llmModel -> llm.model", "bedrockLlmModel -> llm.bedrockModel", "awsBedrock.accessKeyId -> llm.awsAccessKeyId",
		"storage.enabled -> storage.type=postgres", "storage.connectionString -> storage.postgres.connectionString", "mcp.image.tag -> mcpServer.image.tag",
		"mcp.readOnly -> mcpServer.readOnly", "systemPrompt -> llm.systemPrompt", "aiAgent.image.pullPolicy -> image.pullPolicy"} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES lack %q:\n%s", want, notes)
		}
	}
	if notes := installNotes(t); strings.Contains(notes, "DEPRECATED") {
		t.Errorf("NOTES without old keys:\n%s", notes)
	}
}

// installNotes renders NOTES.txt through a dry-run install against the
// package's API server (helm reads its version).
func installNotes(t *testing.T, args ...string) string {
	t.Helper()
	env.Skip(t, skipWhy)
	args = append([]string{"install", "rancher-ai-agent", filepath.Join(kubetest.Root(), "chart", "ai-agent"),
		"--namespace", agentconfig.Namespace, "--dry-run=client", "--take-ownership", "--kubeconfig", writeKubeconfig(t, env.Config)}, args...)
	out, err := exec.CommandContext(t.Context(), helmBin(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm install --dry-run: %v\n%s", err, out)
	}
	_, notes, ok := strings.Cut(string(out), "NOTES:")
	if !ok {
		t.Fatalf("no NOTES in\n%s", out)
	}
	return notes
}

// TestChartUpstreamValuesRefused: the Python chart's values that cannot be
// mapped, or that contradict this chart's, fail with the key to use.
func TestChartUpstreamValuesRefused(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"aiAgent.image.repository=ghcr.io/rancher/rancher-ai-agent"}, "set image.repository"},
		{[]string{"aiAgent.image.tag=v0.1.2-alpha.6"}, "set image.tag"},
		{[]string{"rag.enabled=true"}, "remove rag.enabled"},
		{[]string{"storage.enabled=true"}, "needs storage.postgres.connectionString"},
		{[]string{"activeLlm=ollama", "llm.activeLlm=openai"}, "keep only llm.activeLlm"},
		{[]string{"awsBedrock.region=eu-west-1", "llm.awsRegion=us-east-1"}, "keep only llm.awsRegion"},
		{[]string{"llmMock.enabled=true"}, "llmMock.enabled needs llmMock.url"},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		if out, err := helmTemplate(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error with %q, got %v\n%.200s", tc.set, tc.want, err, out)
		}
	}
	// The defaults of the Python chart's values.yaml (rag off, empty keys) pass.
	if _, err := helmTemplate(t, "--set", "rag.enabled=false", "--set", "storage.enabled=false", "--set", "llmMock.enabled=false"); err != nil {
		t.Error(err)
	}
}

// TestChartNamespaceIsFixed: outside cattle-ai-agent-system the chart
// refuses to render, with the reason.
func TestChartNamespaceIsFixed(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), helmBin(t), "template", "rancher-ai-agent",
		filepath.Join(kubetest.Root(), "chart", "ai-agent"), "--namespace", "ai").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "install this chart in namespace cattle-ai-agent-system") ||
		!strings.Contains(string(out), "UI only looks") {
		t.Errorf("namespace ai: %v\n%.300s", err, out)
	}
	for _, o := range render(t) {
		if ns := o.GetNamespace(); ns != "" && ns != agentconfig.Namespace {
			t.Errorf("%s %s in namespace %s", o.GetKind(), o.GetName(), ns)
		}
	}
}

// TestChartNetworkPolicyDefault: by default no policy stands between
// Rancher's service proxy and the agent (the API server's addresses cannot
// be selected without listing them); the MCP server's own policy stays on.
// Turned on, the policy demands the API server's addresses.
func TestChartNetworkPolicyDefault(t *testing.T) {
	var policies []string
	for _, o := range render(t) {
		if o.GetKind() == "NetworkPolicy" {
			policies = append(policies, o.GetName())
		}
	}
	if fmt.Sprint(policies) != "[rancher-mcp-server]" {
		t.Errorf("default NetworkPolicies %v, want only rancher-mcp-server", policies)
	}
	if _, err := helmTemplate(t, "--set", "networkPolicy.enabled=true"); err == nil || !strings.Contains(err.Error(), "needs networkPolicy.rancher.apiServerCIDRs") {
		t.Errorf("enabled without CIDRs: %v", err)
	}
	np := spec(find(t, render(t, "networkPolicy.enabled=true", "networkPolicy.rancher.apiServerCIDRs={10.0.0.10/32,10.0.0.11/32}"),
		"NetworkPolicy", "rancher-ai-agent"), "spec")
	if in := fmt.Sprint(np["ingress"]); !strings.Contains(in, "ipBlock:map[cidr:10.0.0.10/32]") || !strings.Contains(in, "ipBlock:map[cidr:10.0.0.11/32]") {
		t.Errorf("hardened policy ingress %s", in)
	}
	for _, o := range render(t, "networkPolicy.mcpServer.enabled=false") {
		if o.GetKind() == "NetworkPolicy" {
			t.Errorf("networkPolicy.mcpServer.enabled=false renders %s", o.GetName())
		}
	}
}

// TestChartProxy: proxy.* sets the proxy variables, upper and lower case,
// on the agent and the MCP server; NO_PROXY keeps in-cluster calls direct.
func TestChartProxy(t *testing.T) {
	names := []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"}
	for _, dep := range []string{"rancher-ai-agent", "rancher-mcp-server"} {
		env := envOf(container(t, render(t), dep))
		for _, n := range names {
			if v, ok := env[n]; ok {
				t.Errorf("%s: defaults set %s=%s", dep, n, v)
			}
		}
	}
	for _, tc := range []struct {
		set  []string
		want map[string]string
	}{
		{[]string{"proxy.httpProxy=http://proxy.corp:3128", "proxy.httpsProxy=http://proxy.corp:3129"}, map[string]string{
			"HTTP_PROXY": "http://proxy.corp:3128", "HTTPS_PROXY": "http://proxy.corp:3129",
			"NO_PROXY": "127.0.0.1,localhost,.svc,.cluster.local,10.42.0.0/16,10.43.0.0/16"}},
		{[]string{"proxy.httpsProxy=http://proxy.corp:3128", "proxy.clusterCIDR=192.168.0.0/16", "proxy.serviceCIDR=172.20.0.0/16"}, map[string]string{
			"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "127.0.0.1,localhost,.svc,.cluster.local,192.168.0.0/16,172.20.0.0/16"}},
		{[]string{"proxy.httpsProxy=http://proxy.corp:3128", "proxy.noProxy=.corp\\,10.0.0.0/8"}, map[string]string{
			"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".corp,10.0.0.0/8"}},
	} {
		objs := render(t, tc.set...)
		for _, dep := range []string{"rancher-ai-agent", "rancher-mcp-server"} {
			env := envOf(container(t, objs, dep))
			for _, n := range names {
				want := tc.want[strings.ToUpper(n)]
				if got, ok := env[n]; got != want || ok != (want != "") {
					t.Errorf("%v: %s %s = %q (set %v), want %q", tc.set, dep, n, got, ok, want)
				}
			}
		}
	}
}
