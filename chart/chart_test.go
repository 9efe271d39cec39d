// Package chart_test renders the Helm chart with a real helm binary and
// applies the result to a real API server with a server-side dry run, so
// that schema errors, bad RBAC and template bugs fail here, not at install.
package chart_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"

	"github.com/rancher/ai-agent/internal/citest"
)

var (
	env     *kubetest.Env
	skipWhy string
)

func TestMain(m *testing.M) {
	kubetest.Main(m, agentconfig.Namespace, func(e *kubetest.Env, why string) { env, skipWhy = e, why })
}

// render runs helm template with the given --set values.
func render(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	var args []string
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return decodeAll(t, out)
}

// helmBin is the helm that .ci/envtest.sh builds.
func helmBin(t *testing.T) string {
	t.Helper()
	helm := filepath.Join(kubetest.BinDir(), "helm")
	if _, err := os.Stat(helm); err != nil {
		citest.SkipOrFail(t, "helm not found: %v (run .ci/envtest.sh)", err)
	}
	return helm
}

// helmTemplate runs helm template on the chart in the agents' namespace
// with extra arguments; the error carries helm's stderr.
func helmTemplate(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	args = append([]string{"template", "rancher-ai-agent", filepath.Join(kubetest.Root(), "chart", "ai-agent"),
		"--namespace", agentconfig.Namespace, "--include-crds"}, args...)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), helmBin(t), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}

// decodeAll splits a multi-document YAML stream into objects.
func decodeAll(t *testing.T, out []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		var u unstructured.Unstructured
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decode rendered chart: %v", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, &u)
		}
	}
}

func TestChartDryRunApply(t *testing.T) {
	env.Skip(t, skipWhy)
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"defaults", nil},
		{"postgres replicas", []string{"replicas=3", "storage.type=postgres", "storage.postgres.connectionString=postgres://x",
			"oauth.redirectUri=https://rancher.example/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy/v1/api/oauth2/callback",
			"log.level=debug", "networkPolicy.enabled=true", "networkPolicy.rancher.apiServerCIDRs={10.0.0.0/24}", "otel.endpoint=http://collector:4318"}},
		{"no MCP server, no policies", []string{"mcpServer.enabled=false"}},
		{"proxy", []string{"proxy.httpProxy=http://proxy.corp:3128", "proxy.httpsProxy=http://proxy.corp:3128"}},
		{"workload identity", []string{"workloadIdentity.tokens[0].path=mcp-token", "workloadIdentity.tokens[0].audience=https://auth.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, tc.set...)
			kinds := map[string]bool{}
			for _, o := range objs {
				kinds[o.GetKind()] = true
				err := env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o), client.DryRunAll,
					client.ForceOwnership, client.FieldOwner("chart-test"))
				if err != nil {
					t.Errorf("dry-run apply %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
			want := []string{"CustomResourceDefinition", "Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ConfigMap", "Secret"}
			if tc.name == "workload identity" {
				pod := spec(find(t, objs, "Deployment", "rancher-ai-agent"), "spec", "template", "spec")
				mounts := fmt.Sprint(pod["containers"].([]any)[0].(map[string]any)["volumeMounts"])
				if vols := fmt.Sprint(pod["volumes"]); !strings.Contains(vols, "serviceAccountToken:map[audience:https://auth.example.com expirationSeconds:3600 path:mcp-token]") ||
					!strings.Contains(mounts, "mountPath:/var/run/secrets/tokens name:workload-tokens readOnly:true") {
					t.Errorf("workload identity token: volumes %s mounts %s", vols, mounts)
				}
			}
			if tc.name != "no MCP server, no policies" {
				want = append(want, "NetworkPolicy")
			}
			if tc.name == "postgres replicas" {
				want = append(want, "PodDisruptionBudget")
			}
			for _, k := range want {
				if !kinds[k] {
					t.Errorf("chart renders no %s", k)
				}
			}
		})
	}
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

func TestChartHardening(t *testing.T) {
	objs := render(t, "replicas=2", "storage.type=postgres", "storage.postgres.existingSecret=db")
	dep := find(t, objs, "Deployment", "rancher-ai-agent")
	c := dep.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	sc := c["securityContext"].(map[string]any)
	if sc["readOnlyRootFilesystem"] != true || sc["runAsNonRoot"] != true || sc["allowPrivilegeEscalation"] != false ||
		fmt.Sprint(sc["capabilities"]) != "map[drop:[ALL]]" {
		t.Errorf("container securityContext = %v", sc)
	}
	if p := c["ports"].([]any)[0].(map[string]any); fmt.Sprint(p["containerPort"]) != "8000" {
		t.Errorf("port = %v", p)
	}
	for probe, path := range map[string]string{"livenessProbe": "/v1/api/health", "readinessProbe": "/v1/api/readiness", "startupProbe": "/v1/api/readiness"} {
		if got := c[probe].(map[string]any)["httpGet"].(map[string]any)["path"]; got != path {
			t.Errorf("%s path = %v", probe, got)
		}
	}
	envs := fmt.Sprint(c["env"])
	for _, want := range []string{"OAUTH_ENCRYPTION_KEY", "DB_CONNECTION_STRING", "name:db", "LEADER_ELECT value:true", "BUILTIN_CA_SECRET value:cattle-mcp-ca"} {
		if !strings.Contains(envs, want) {
			t.Errorf("env lacks %q: %s", want, envs)
		}
	}
	if s := find(t, objs, "Service", "rancher-ai-agent"); fmt.Sprint(s.Object["spec"].(map[string]any)["ports"]) != "[map[name:http port:80 protocol:TCP targetPort:http]]" {
		t.Errorf("service ports = %v", s.Object["spec"])
	}
	// Several replicas with SQLite cannot share state: the chart refuses.
	out, err := helmTemplate(t, "--set", "replicas=2")
	if err == nil || !strings.Contains(err.Error(), "needs storage.type=postgres") {
		t.Errorf("replicas=2 with sqlite rendered: %v\n%s", err, out)
	}
	// A token file outside the tokens directory, or without an audience, is refused.
	for _, bad := range [][]string{{"workloadIdentity.tokens[0].path=../x", "workloadIdentity.tokens[0].audience=a"}, {"workloadIdentity.tokens[0].path=x"}} {
		var args []string
		for _, b := range bad {
			args = append(args, "--set", b)
		}
		out, err := helmTemplate(t, args...)
		if err == nil || !strings.Contains(err.Error(), "each needs a path") {
			t.Errorf("%v rendered: %v\n%s", bad, err, out)
		}
	}
}

// spec digs a nested map out of a rendered object.
func spec(o *unstructured.Unstructured, path ...string) map[string]any {
	m := o.Object
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

// TestChartOperability: the MCP server of the built-in agents, the
// NetworkPolicies, the metrics Service and ServiceMonitor, and the
// PodDisruptionBudget and anti-affinity of several replicas.
func TestChartOperability(t *testing.T) {
	objs := render(t, "networkPolicy.enabled=true", "networkPolicy.rancher.apiServerCIDRs={10.0.0.0/24}")
	mcp := find(t, objs, "Deployment", "rancher-mcp-server")
	pod := spec(mcp, "spec", "template", "spec")
	c := pod["containers"].([]any)[0].(map[string]any)
	if pod["serviceAccountName"] != "mcp-cert-rotator-sa" || !strings.HasPrefix(fmt.Sprint(c["image"]), "rancher/rancher-ai-mcp:") ||
		fmt.Sprint(c["command"]) != "[mcp serve --port 9092 --log-level info]" {
		t.Errorf("mcp server pod: sa %v image %v command %v", pod["serviceAccountName"], c["image"], c["command"])
	}
	if env := fmt.Sprint(c["env"]); !strings.Contains(env, "value:cattle-mcp-ca") {
		t.Errorf("mcp server TLS secret: %s", env)
	}
	if p := fmt.Sprint(spec(find(t, objs, "Service", "rancher-mcp-server"), "spec")["ports"]); !strings.Contains(p, "port:80") || !strings.Contains(p, "port:443") {
		t.Errorf("mcp service ports %s", p)
	}
	find(t, objs, "ServiceAccount", "mcp-cert-rotator-sa")
	agentNP := spec(find(t, objs, "NetworkPolicy", "rancher-ai-agent"), "spec")
	if in := fmt.Sprint(agentNP["ingress"]); !strings.Contains(in, "port:http") || !strings.Contains(in, "kubernetes.io/metadata.name:cattle-system") ||
		!strings.Contains(in, "port:metrics") || !strings.Contains(in, "cattle-monitoring-system") {
		t.Errorf("agent policy ingress %s", in)
	}
	if in := fmt.Sprint(spec(find(t, objs, "NetworkPolicy", "rancher-mcp-server"), "spec")["ingress"]); in != "[map[from:[map[podSelector:map[matchLabels:map[app:rancher-ai-agent]]]] ports:[map[port:mcp protocol:TCP]]]]" {
		t.Errorf("mcp policy ingress %s", in)
	}
	dep := find(t, objs, "Deployment", "rancher-ai-agent")
	ac := spec(dep, "spec", "template", "spec")["containers"].([]any)[0].(map[string]any)
	if fmt.Sprint(ac["args"]) != "[serve --listen :8000 --metrics-listen :9090]" || !strings.Contains(fmt.Sprint(ac["ports"]), "name:metrics") {
		t.Errorf("agent args %v ports %v", ac["args"], ac["ports"])
	}
	if p := fmt.Sprint(spec(find(t, objs, "Service", "rancher-ai-agent-metrics"), "spec")["ports"]); p != "[map[name:metrics port:9090 protocol:TCP targetPort:metrics]]" {
		t.Errorf("metrics service ports %s", p)
	}
	for _, o := range objs {
		if k := o.GetKind(); k == "PodDisruptionBudget" || k == "ServiceMonitor" {
			t.Errorf("defaults render a %s", k)
		}
	}
	if aff := spec(dep, "spec", "template", "spec")["affinity"]; aff != nil {
		t.Errorf("one replica has affinity %v", aff)
	}

	objs = render(t, "replicas=2", "storage.type=postgres", "storage.postgres.existingSecret=db", "serviceMonitor.enabled=true", "serviceMonitor.labels.release=monitoring")
	if pdb := spec(find(t, objs, "PodDisruptionBudget", "rancher-ai-agent"), "spec"); fmt.Sprint(pdb["maxUnavailable"]) != "1" {
		t.Errorf("pdb %v", pdb)
	}
	dep = find(t, objs, "Deployment", "rancher-ai-agent")
	if aff := fmt.Sprint(spec(dep, "spec", "template", "spec")["affinity"]); !strings.Contains(aff, "podAntiAffinity") || !strings.Contains(aff, "kubernetes.io/hostname") {
		t.Errorf("affinity %s", aff)
	}
	sm := find(t, objs, "ServiceMonitor", "rancher-ai-agent")
	if sm.GetLabels()["release"] != "monitoring" || !strings.Contains(fmt.Sprint(spec(sm, "spec")["endpoints"]), "port:metrics") {
		t.Errorf("servicemonitor %v", sm.Object)
	}
	for _, o := range render(t, "mcpServer.enabled=false") {
		if strings.Contains(o.GetName(), "mcp-server") || o.GetName() == "mcp-cert-rotator-sa" {
			t.Errorf("mcpServer.enabled=false renders %s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestChartRBACIsLeastThatWorks installs the chart's RBAC for real and asks
// the API server what the ServiceAccount may do.
func TestChartRBACIsLeastThatWorks(t *testing.T) {
	env.Skip(t, skipWhy)
	for _, o := range render(t) {
		switch o.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			if err := env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o), client.ForceOwnership, client.FieldOwner("chart-test")); err != nil {
				t.Fatalf("apply %s: %v", o.GetKind(), err)
			}
		}
	}
	agentSA := "system:serviceaccount:" + agentconfig.Namespace + ":rancher-ai-agent"
	mcpSA := "system:serviceaccount:" + agentconfig.Namespace + ":mcp-cert-rotator-sa"
	for _, tc := range []struct {
		verb, group, resource, sub, ns, name string
		allowed                              bool
		sa                                   string
	}{
		{"create", "", "secrets", "", agentconfig.Namespace, "", true, mcpSA},
		{"update", "", "secrets", "", agentconfig.Namespace, "cattle-mcp-ca", true, mcpSA},
		{"get", "", "secrets", "", agentconfig.Namespace, "llm-secret", false, mcpSA},
		{"list", "", "secrets", "", agentconfig.Namespace, "", false, mcpSA},
		{"update", "", "secrets", "", "kube-system", "cattle-mcp-ca", false, mcpSA},
		{"watch", "ai.cattle.io", "aiagentconfigs", "", agentconfig.Namespace, "", true, ""},
		{"patch", "ai.cattle.io", "aiagentconfigs", "status", agentconfig.Namespace, "x", true, ""},
		{"create", "ai.cattle.io", "aiagentconfigs", "", agentconfig.Namespace, "", true, ""},
		{"list", "", "secrets", "", agentconfig.Namespace, "", true, ""},
		{"update", "", "secrets", "", agentconfig.Namespace, "llm-secret", true, ""},
		{"update", "", "configmaps", "", agentconfig.Namespace, "llm-config", true, ""},
		{"create", "authorization.k8s.io", "subjectaccessreviews", "", "", "", true, ""},
		{"get", "management.cattle.io", "settings", "", "", "internal-server-url", true, ""},
		{"list", "", "secrets", "", "", "", false, ""},
		{"get", "", "secrets", "", "kube-system", "x", false, ""},
		{"update", "", "secrets", "", agentconfig.Namespace, "other", false, ""},
		{"delete", "ai.cattle.io", "aiagentconfigs", "", agentconfig.Namespace, "x", false, ""},
		{"get", "management.cattle.io", "settings", "", "", "password-min-length", false, ""},
	} {
		sa := tc.sa
		if sa == "" {
			sa = agentSA
		}
		sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{User: sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + agentconfig.Namespace, "system:authenticated"},
			ResourceAttributes: &authv1.ResourceAttributes{Verb: tc.verb, Group: tc.group, Resource: tc.resource,
				Subresource: tc.sub, Namespace: tc.ns, Name: tc.name}}}
		if err := env.Client.Create(t.Context(), sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != tc.allowed {
			t.Errorf("%s: %s %s/%s %s in %q name %q: allowed=%v, want %v", sa, tc.verb, tc.group, tc.resource, tc.sub, tc.ns, tc.name, sar.Status.Allowed, tc.allowed)
		}
	}
}
