package chart_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestChartUpstream11Values renders the chart with a values file written
// for the Python agent's chart at 1.1: every key renders, 1.1's
// genericOpenaiLlmModel lands in llm-config, seLinux.enabled gives the
// agent's pod its SELinux type, the proxy values reach both Deployments,
// the Bedrock URL reaches llm-secret; planApprovalEnabled=true is refused
// with the reason.
func TestChartUpstream11Values(t *testing.T) {
	values := filepath.Join("testdata", "upstream", "values-1.1.yaml")
	out, err := helmTemplate(t, "-f", values)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeAll(t, out)
	cm := find(t, objs, "ConfigMap", "llm-config").Object["data"].(map[string]any)
	if cm["ACTIVE_LLM"] != "generic-openai" || cm["GENERIC_OPENAI_MODEL"] != "qwen3-coder" {
		t.Errorf("llm-config %v", cm)
	}
	sec := find(t, objs, "Secret", "llm-secret").Object["stringData"].(map[string]any)
	if sec["BEDROCK_URL"] != "https://vpce-0123.bedrock-runtime.eu-west-1.vpce.amazonaws.com" || sec["GENERIC_OPENAI_URL"] != "http://vllm.models.svc:8000/v1" {
		t.Errorf("llm-secret %v", sec)
	}
	for _, dep := range []string{"rancher-ai-agent", "rancher-mcp-server"} {
		env := envOf(container(t, objs, dep))
		if env["HTTPS_PROXY"] != "http://proxy.corp:3128" || !strings.HasPrefix(env["NO_PROXY"], "127.0.0.1,localhost,.svc,.cluster.local") {
			t.Errorf("%s proxy env %v", dep, env)
		}
	}
	sel := func(objs []*unstructured.Unstructured) string {
		return fmt.Sprint(spec(find(t, objs, "Deployment", "rancher-ai-agent"), "spec", "template", "spec", "securityContext")["seLinuxOptions"])
	}
	if got := sel(objs); got != "map[type:rancher_aiagent_container_t]" {
		t.Errorf("seLinux.enabled: pod seLinuxOptions %s", got)
	}
	if got := sel(render(t)); got != "<nil>" {
		t.Errorf("defaults: pod seLinuxOptions %s", got)
	}
	if out, err := helmTemplate(t, "-f", values, "--set", "planApprovalEnabled=true"); err == nil || !strings.Contains(err.Error(), "has no planner: remove planApprovalEnabled") {
		t.Errorf("planApprovalEnabled=true: %v\n%.200s", err, out)
	}
}
