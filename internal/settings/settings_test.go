package settings_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/settings"
)

const ns = agentconfig.Namespace

// TestPutSettings runs the handler against a real API server with real
// RBAC: u-admin may update Secrets in the namespace, u-viewer may not.
func TestPutSettings(t *testing.T) {
	env := kubetest.Run(t, ns)
	ctx := t.Context()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "llm-admin", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"update"}}}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "llm-admin", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "llm-admin"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "u-admin"}}}
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: settings.SecretName, Namespace: ns},
		Data: map[string][]byte{"LANGFUSE_HOST": []byte("https://langfuse")}}
	for _, o := range []client.Object{role, rb, existing} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	h := settings.Handler(settings.Options{Client: env.Client, Namespace: ns,
		User: func(r *http.Request) (string, error) { return r.Header.Get("X-Test-User"), nil }})
	put := func(user string, body map[string]string) (*httptest.ResponseRecorder, map[string]string) {
		b, _ := json.Marshal(body)
		req := httptest.NewRequestWithContext(ctx, http.MethodPut, "/v1/api/settings", bytes.NewReader(b))
		req.Header.Set("X-Test-User", user)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec, out
	}

	good := map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "gpt-5", "OPENAI_API_KEY": "sk-secret", "OPENAI_URL": "", "OLLAMA_URL": ""}
	if rec, out := put("u-viewer", good); rec.Code != http.StatusForbidden || out["detail"] == "" {
		t.Fatalf("viewer: %d %v", rec.Code, out)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: settings.ConfigMapName}, &corev1.ConfigMap{}); err == nil {
		t.Fatal("a forbidden request wrote llm-config")
	}
	if rec, out := put("u-admin", map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "gpt-5"}); rec.Code != http.StatusBadRequest || !strings.Contains(out["detail"], "OPENAI_API_KEY") {
		t.Fatalf("missing key: %d %v", rec.Code, out)
	}
	// Bedrock needs a region and a model; the API key is optional (the
	// pod's AWS credentials sign otherwise).
	if rec, out := put("u-admin", map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m"}); rec.Code != http.StatusBadRequest || !strings.Contains(out["detail"], "AWS_REGION") {
		t.Fatalf("bedrock without a region: %d %v", rec.Code, out)
	}
	if rec, out := put("u-admin", map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m", "AWS_REGION": "eu-west-1", "AWS_BEARER_TOKEN_BEDROCK": ""}); rec.Code != http.StatusOK || out["ACTIVE_LLM"] != "bedrock" {
		t.Fatalf("bedrock with AWS credentials instead of an API key: %d %v", rec.Code, out)
	}
	if rec, _ := put("u-admin", map[string]string{"ACTIVE_LLM": "skynet"}); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown provider: %d", rec.Code)
	}
	if rec, _ := put("u-admin", map[string]string{"EVIL": "x"}); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown key: %d", rec.Code)
	}

	rec, out := put("u-admin", good)
	if rec.Code != http.StatusOK {
		t.Fatalf("admin: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "sk-secret") {
		t.Fatalf("response echoes the API key: %s", rec.Body)
	}
	if out["ACTIVE_LLM"] != "openai" || out["OPENAI_MODEL"] != "gpt-5" || out["LANGFUSE_HOST"] != "https://langfuse" {
		t.Fatalf("merged values = %v", out)
	}
	var cm corev1.ConfigMap
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: settings.ConfigMapName}, &cm); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: settings.SecretName}, &sec); err != nil {
		t.Fatal(err)
	}
	if cm.Data["OPENAI_MODEL"] != "gpt-5" || cm.Data["OPENAI_API_KEY"] != "" {
		t.Fatalf("llm-config = %v", cm.Data)
	}
	if string(sec.Data["OPENAI_API_KEY"]) != "sk-secret" || string(sec.Data["LANGFUSE_HOST"]) != "https://langfuse" {
		t.Fatalf("llm-secret keys = %v", sec.Data)
	}
}
