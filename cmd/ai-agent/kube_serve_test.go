package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// writeKubeconfig writes cfg (envtest's admin config) as a kubeconfig file.
func writeKubeconfig(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeRancherSteve answers /v3/users?me=true for R_SESS=tok-<user> and
// Steve's AIAgentConfig list with the agents each user may see.
func fakeRancherSteve(t testing.TB, visible map[string][]string) *httptest.Server {
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("R_SESS")
		if err != nil || !strings.HasPrefix(c.Value, "tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		user := strings.TrimPrefix(c.Value, "tok-")
		switch {
		case r.URL.Path == "/v3/users":
			fmt.Fprintf(w, `{"data":[{"id":"u-%s"}]}`, user)
		case strings.HasPrefix(r.URL.Path, "/v1/ai.cattle.io.aiagentconfigs"):
			var items []string
			for _, n := range visible[user] {
				items = append(items, fmt.Sprintf(`{"metadata":{"name":%q,"namespace":"cattle-ai-agent-system"}}`, n))
			}
			fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(items, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(rs.Close)
	return rs
}

// TestServeFromTheCluster runs `ai-agent serve --kubeconfig` against a real
// API server: agents come from AIAgentConfigs, each user gets only the
// agents Rancher lets them see, and a new agent is there on the next chat.
func TestServeFromTheCluster(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	create := func(name string) {
		obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: agentconfig.Namespace},
			Spec: v1alpha1.AIAgentConfigSpec{DisplayName: name, Description: name + " things", MCPURL: mcpSrv.URL + "/mcp"}}
		if err := env.Client.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	create("cluster")
	rancher := fakeRancherSteve(t, map[string][]string{"alice": {"cluster", "late"}, "bob": {}})
	vars := map[string]string{"RANCHER_URL": rancher.URL, "ACTIVE_LLM": "scripted", "STORAGE": "memory",
		"BUILTIN_MCP_URL": "http://127.0.0.1:1/mcp"}
	addr, _, stop := runServe(t, []string{"--kubeconfig", writeKubeconfig(t, env.Config)}, func(k string) string { return vars[k] })

	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok-alice")
	if f := c.Read(); !strings.Contains(f, `"agents":[{"name":"cluster","status":"active"}]`) {
		t.Fatalf("alice: %s", f)
	}
	b := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok-bob")
	if f := b.Read(); !strings.HasPrefix(f, "<chat-error>") {
		t.Fatalf("bob, who may see no agent: %s", f)
	}
	create("late")
	// The informer cache sees the new agent when the API server's watch
	// event arrives: each try is a new chat's <chat-metadata>.
	kubetest.Eventually(t, 10*time.Second, "the new agent in <chat-metadata>", func() bool {
		c2 := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok-alice")
		defer c2.WS.CloseNow()
		return strings.Contains(c2.Read(), `{"name":"late","status":"active"}`)
	})
	stop()
}

// BenchmarkConnect20Agents measures a WebSocket connect to <chat-metadata>
// with 20 agents in the cluster cache: the user check (cached), the RBAC
// list through a loopback fake of Steve, and each agent's tool list (cached
// per agent and credential after the first connect).
func BenchmarkConnect20Agents(b *testing.B) {
	env := kubetest.Run(b, agentconfig.Namespace)
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	var names []string
	for i := range 20 {
		name := fmt.Sprintf("agent-%02d", i)
		names = append(names, name)
		obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: agentconfig.Namespace},
			Spec: v1alpha1.AIAgentConfigSpec{DisplayName: name, MCPURL: mcpSrv.URL + "/mcp"}}
		if err := env.Client.Create(b.Context(), obj); err != nil {
			b.Fatal(err)
		}
	}
	rancher := fakeRancherSteve(b, map[string][]string{"alice": names})
	vars := map[string]string{"RANCHER_URL": rancher.URL, "ACTIVE_LLM": "scripted", "STORAGE": "memory",
		"BUILTIN_MCP_URL": "http://127.0.0.1:1/mcp"}
	addr, _, _ := runServe(b, []string{"--kubeconfig", writeKubeconfig(b, env.Config)}, func(k string) string { return vars[k] })
	b.ResetTimer()
	for b.Loop() {
		c := dialWS(b, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok-alice")
		if f := c.Read(); strings.Count(f, `"status":"active"`) != 20 {
			b.Fatalf("metadata %s", f)
		}
		c.WS.CloseNow()
	}
}

// TestServeFindsRancherFromSettings: in a cluster without RANCHER_URL the
// agent reads Rancher's internal-server-url setting (and trusts its
// internal-cacerts CA).
func TestServeFindsRancherFromSettings(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	rancher := fakeRancherSteve(t, map[string][]string{"alice": {"cluster"}})
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: "cluster", Namespace: agentconfig.Namespace},
		Spec: v1alpha1.AIAgentConfigSpec{DisplayName: "Cluster", MCPURL: mcpSrv.URL + "/mcp"}}
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	rancherSettings(t, env, [][2]string{{"internal-server-url", rancher.URL}, {"internal-cacerts", ""}})
	vars := map[string]string{"ACTIVE_LLM": "scripted", "STORAGE": "memory", "BUILTIN_MCP_URL": "http://127.0.0.1:1/mcp"}
	addr, out, stop := runServe(t, []string{"--kubeconfig", writeKubeconfig(t, env.Config)}, func(k string) string { return vars[k] })
	if !strings.Contains(out.String(), `"msg":"Rancher found from its settings","url":"`+rancher.URL+`"`) {
		t.Fatalf("log:\n%s", out.String())
	}
	cl := dialWS(t, "ws://"+addr+"/v1/ws/messages", "R_SESS=tok-alice")
	if f := cl.Read(); !strings.Contains(f, `"agents":[{"name":"cluster","status":"active"}]`) {
		t.Fatalf("alice: %s", f)
	}
	stop()
}

// rancherSettings installs Rancher's Setting CRD (management.cattle.io/v3)
// in the API server and creates the settings kvs.
func rancherSettings(t *testing.T, env *kubetest.Env, kvs [][2]string) {
	t.Helper()
	settingsCRD := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "settings.management.cattle.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "management.cattle.io", Scope: apiextensionsv1.ClusterScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "settings", Singular: "setting", Kind: "Setting", ListKind: "SettingList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v3", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptrTrue()}}}},
		},
	}
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apiextensionsv1.AddToScheme(c.Scheme()); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), settingsCRD); err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "management.cattle.io", Version: "v3", Kind: "Setting"})
		u.SetName(kv[0])
		u.Object["value"] = kv[1]
		// The new CRD takes a moment to be served.
		kubetest.Eventually(t, 20*time.Second, "setting "+kv[0]+" created", func() bool {
			return c.Create(t.Context(), u) == nil
		})
	}
}

func ptrTrue() *bool { b := true; return &b }
