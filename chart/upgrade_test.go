package chart_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/citest"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

var agentGVK = schema.GroupVersionKind{Group: "ai.cattle.io", Version: "v1alpha1", Kind: "AIAgentConfigList"}

// TestChartUpgradeFromPythonChart installs the Python agent's chart (its
// rendered manifests, chart/testdata/upstream/rendered.yaml, made into a
// chart of plain data) on a real API server with helm, adds agents as that
// agent and a user create them, then runs helm upgrade to this chart, as an
// administrator swapping charts would. The CRD, every AIAgentConfig and the
// LLM settings survive, the agent's own typed client reads the agents, and
// an uninstall still leaves the CRD and the agents.
func TestChartUpgradeFromPythonChart(t *testing.T) {
	helm := helmBin(t)
	if _, err := os.Stat(filepath.Join(kubetest.BinDir(), "kube-apiserver")); err != nil {
		citest.SkipOrFail(t, "kube-apiserver not found: %v (run .ci/envtest.sh)", err)
	}
	// A bare API server: no CRD but the one the Python chart installs.
	te := &envtest.Environment{BinaryAssetsDirectory: kubetest.BinDir()}
	cfg, err := te.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, cfg)
	ns := agentconfig.Namespace
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), helm, append(args, "--kubeconfig", kubeconfig, "--namespace", ns)...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// The Python chart, as released (agent-0.1.2-alpha.10), installed by helm.
	upstream := t.TempDir()
	rendered, err := os.ReadFile(filepath.Join("testdata", "upstream", "rendered.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Join(upstream, "templates"), 0o755))
	must(t, os.WriteFile(filepath.Join(upstream, "Chart.yaml"), []byte("apiVersion: v2\nname: agent\nversion: 0.1.2-alpha.10\nappVersion: 0.1.0-beta\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(upstream, "templates", "rendered.yaml"), rendered, 0o644))
	run("install", "rancher-ai-agent", upstream, "--create-namespace")

	// The agents the Python agent creates at start (rancher, fleet), and one
	// an administrator added through the UI.
	agents, err := os.ReadFile(filepath.Join("testdata", "upstream", "agents.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range decodeAll(t, agents) {
		must(t, c.Create(t.Context(), o))
	}
	// The settings page changed the model in the Python chart's Secret.
	var llmConfig corev1.Secret
	must(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "llm-config"}, &llmConfig))
	llmConfig.Data["OLLAMA_MODEL"] = []byte("qwen3:32b")
	must(t, c.Update(t.Context(), &llmConfig))
	before := agentNames(t, c)
	t.Logf("agents before the upgrade: %v", before)
	if len(before) != 3 {
		t.Fatalf("agents before: %v", before)
	}

	// helm upgrade to this chart, with no values: what the Python agent's
	// users had lives in the cluster.
	run("upgrade", "rancher-ai-agent", filepath.Join(kubetest.Root(), "chart", "ai-agent"))
	after := agentNames(t, c)
	t.Logf("agents after the upgrade:  %v", after)
	if !slices.Equal(before, after) {
		t.Errorf("agents after the upgrade %v, before %v", after, before)
	}
	var crd unstructured.Unstructured
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	must(t, c.Get(t.Context(), client.ObjectKey{Name: "aiagentconfigs.ai.cattle.io"}, &crd))
	if a := crd.GetAnnotations(); a["helm.sh/resource-policy"] != "keep" || a["meta.helm.sh/release-name"] != "rancher-ai-agent" {
		t.Errorf("CRD annotations %v", a)
	}
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	if _, ok, _ := unstructured.NestedMap(versions[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties", "displayName"); !ok {
		t.Error("the CRD is still the Python chart's (no spec.displayName)")
	}
	// The agent reads every agent with its typed client, the old ones too.
	all, err := kube.NewSource(c, ns).All(t.Context())
	if err != nil {
		t.Fatalf("the agent cannot list the upgraded agents: %v", err)
	}
	got := map[string]agentconfig.Agent{}
	for _, a := range all {
		got[a.Name] = a
	}
	// The old {name, type} entries come back pruned by the API server (the
	// controller rewrites the built-ins); the old spec.name is kept.
	t.Logf("rancher after the upgrade: displayName %q, humanValidationTools %v", got["rancher"].Spec.DisplayName, got["rancher"].Spec.HumanValidationTools)
	if g := got["github"]; g.Spec.DisplayName != "GitHub" || g.Spec.MCPURL != "https://mcp.example.com/mcp" || g.Spec.AuthenticationType != "BASIC" {
		t.Errorf("github after the upgrade: %+v", g.Spec)
	}
	// The LLM settings moved from the old Secret llm-config (deleted by helm)
	// to the ConfigMap llm-config and the Secret llm-secret.
	var cm corev1.ConfigMap
	must(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "llm-config"}, &cm))
	if cm.Data["ACTIVE_LLM"] != "ollama" || cm.Data["OLLAMA_MODEL"] != "qwen3:32b" {
		t.Errorf("llm-config after the upgrade: %v", cm.Data)
	}
	var sec corev1.Secret
	must(t, c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "llm-secret"}, &sec))
	if string(sec.Data["OLLAMA_URL"]) != "http://ollama.ollama.svc:11434" {
		t.Errorf("llm-secret OLLAMA_URL = %q", sec.Data["OLLAMA_URL"])
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "llm-config"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Python chart's Secret llm-config is still there: %v", err)
	}

	// Uninstall keeps the CRD and the agents.
	run("uninstall", "rancher-ai-agent")
	if left := agentNames(t, c); !slices.Equal(left, before) {
		t.Errorf("agents after uninstall %v", left)
	}
}

// agentNames lists the AIAgentConfigs' names as stored (unstructured, so
// that it works with either CRD).
func agentNames(t *testing.T, c client.Client) []string {
	t.Helper()
	var list unstructured.UnstructuredList
	list.SetGroupVersionKind(agentGVK)
	if err := c.List(t.Context(), &list, client.InNamespace(agentconfig.Namespace)); err != nil {
		t.Fatalf("list agents: %v", err)
	}
	var names []string
	for _, o := range list.Items {
		names = append(names, o.GetName())
	}
	slices.Sort(names)
	return names
}

// writeKubeconfig writes a kubeconfig for helm that reaches cfg's server.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*kc, path))
	return path
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
