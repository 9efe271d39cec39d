package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

// TestServeClusterTrust runs `ai-agent serve --kubeconfig` against a real
// API server: who may make the agent fetch a URL is a SubjectAccessReview
// answered by real RBAC objects; Rancher's server-url setting is the
// allowed origin and gives the redirect URI (over RANCHER_URL).
func TestServeClusterTrust(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	ctx := t.Context()
	if err := env.Grant(ctx, agentconfig.Namespace, "agent-admin", "u-admin",
		rbacv1.PolicyRule{APIGroups: []string{"ai.cattle.io"}, Resources: []string{"aiagentconfigs"}, Verbs: []string{"update"}}); err != nil {
		t.Fatal(err)
	}
	mcpURL, metadataURL, _ := loopbackNotes(t)
	mcpSrv := httptest.NewServer(demo.Handler())
	t.Cleanup(mcpSrv.Close)
	obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: "cluster", Namespace: agentconfig.Namespace},
		Spec: v1alpha1.AIAgentConfigSpec{DisplayName: "Cluster", MCPURL: mcpSrv.URL + "/mcp"}}
	for _, o := range []client.Object{obj} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	const public = "https://rancher.example.com"
	rancherSettings(t, env, [][2]string{{"server-url", public + "/"}})
	rs := fakeRancherSteve(t, map[string][]string{"admin": {"cluster"}, "viewer": {"cluster"}})
	vars := map[string]string{"RANCHER_URL": rs.URL, "ACTIVE_LLM": "scripted", "STORAGE": "memory",
		"BUILTIN_MCP_URL": "http://127.0.0.1:1/mcp", "OAUTH_ENCRYPTION_KEY": oauthKeyEnv(),
		"OAUTH_CLIENT_METADATA_URL": "https://agent.example.com/client.json"}
	addr, out, stop := runServe(t, []string{"--kubeconfig", writeKubeconfig(t, env.Config)}, func(k string) string { return vars[k] })
	if !strings.Contains(out.String(), `"msg":"Rancher's public URL from its server-url setting","url":"`+public+`"`) {
		t.Fatalf("log:\n%s", out.String())
	}
	base := "http://" + addr
	discover := "/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(mcpURL)
	if code, body := call(t, "GET", base+discover, "", map[string]string{"Cookie": "R_SESS=tok-admin"}); code != 200 || !strings.Contains(body, metadataURL) {
		t.Fatalf("admin discovery: %d %s", code, body)
	}
	code, body := call(t, "GET", base+discover, "", map[string]string{"Cookie": "R_SESS=tok-viewer"})
	wantDetail(t, "viewer discovery", code, body, 403)
	code, body = call(t, "PUT", base+"/v1/api/settings", `{"ACTIVE_LLM":"ollama"}`, map[string]string{"Cookie": "R_SESS=tok-admin", "Content-Type": "text/plain"})
	wantDetail(t, "text/plain settings", code, body, 415)

	// The UI's handshake comes from server-url's origin; another is refused.
	for origin, ok := range map[string]bool{public: true, "https://evil.example": false} {
		c, resp, err := chattest.DialErr(t, "ws://"+addr+httpapi.ProxyPrefix+"/v1/ws/messages",
			http.Header{"Cookie": {"R_SESS=tok-admin"}, "Origin": {origin}})
		if ok != (err == nil) || (!ok && (resp == nil || resp.StatusCode != 403)) {
			t.Fatalf("handshake from %s: %v %v", origin, resp, err)
		}
		if c != nil {
			if f := c.Read(); !strings.HasPrefix(f, "<chat-metadata>") {
				t.Fatalf("frame %s", f)
			}
			c.WS.CloseNow()
		}
	}
	// A forged host gets the redirect URI of server-url, not RANCHER_URL's.
	code, body = call(t, "GET", base+"/v1/api/oauth2/client-metadata.json", "", map[string]string{"X-Forwarded-Host": "evil.example"})
	var doc struct {
		RedirectURIs []string `json:"redirect_uris"`
	}
	if want := public + httpapi.ProxyPrefix + "/v1/api/oauth2/callback"; code != 200 || json.Unmarshal([]byte(body), &doc) != nil || !slices.Equal(doc.RedirectURIs, []string{want}) {
		t.Fatalf("client metadata: %d %s, want redirect_uris [%s]", code, body, want)
	}
	stop()
}
