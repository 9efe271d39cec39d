package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// TestConnectionsAgentDeleted runs `serve --kubeconfig` against a real API
// server and oidc-provider: alice signs in to the OAUTH2 agent gh; deleting
// its AIAgentConfig revokes her tokens at the authorization server (RFC
// 7009; introspection says inactive) and deletes them from the store, with
// an audit line naming the system as the actor.
func TestConnectionsAgentDeleted(t *testing.T) {
	kenv := kubetest.Run(t, agentconfig.Namespace)
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}, OpaqueAccessTokens: true})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, Introspect: true})
	ctx := t.Context()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gh-auth", Namespace: agentconfig.Namespace}}
	if err := kenv.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	agent := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: "gh", Namespace: agentconfig.Namespace},
		Spec: v1alpha1.AIAgentConfigSpec{DisplayName: "GH", Description: "gh things", MCPURL: pm.URL,
			AuthenticationType: v1alpha1.AuthOAuth2, AuthenticationSecret: "gh-auth"}}
	if err := kenv.Client.Create(ctx, agent); err != nil {
		t.Fatal(err)
	}
	rancher := fakeRancherSteve(t, map[string][]string{"alice": {"gh"}})
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	dbPath := filepath.Join(t.TempDir(), "agent.db")
	addr := repFreeAddr(t)
	vars := map[string]string{"RANCHER_URL": rancher.URL, "ACTIVE_LLM": "scripted", "STORAGE": "sqlite", "SQLITE_PATH": dbPath,
		"OAUTH_ENCRYPTION_KEY": key, "OAUTH_REDIRECT_URI": "http://" + addr + "/v1/api/oauth2/callback",
		"BUILTIN_MCP_URL": "http://127.0.0.1:1/mcp", "LOG_LEVEL": "debug"}
	got, logs, _ := runServeAt(t, time.Now, []string{"--listen", addr, "--kubeconfig", writeKubeconfig(t, kenv.Config)}, func(k string) string { return vars[k] })
	base := "http://" + got

	connSignIn(t, as, base, "alice")
	tokens := vaultTokens(t, dbPath, key, oauth.NewTokenKey("u-alice", "gh", as.Issuer))
	for _, tok := range tokens {
		if active, err := as.Introspect(ctx, tok); err != nil || !active {
			t.Fatalf("before the deletion: introspection active=%t %v", active, err)
		}
	}

	if err := kenv.Client.Delete(ctx, agent); err != nil {
		t.Fatal(err)
	}
	// The informer sees the deletion when the API server's watch event
	// arrives; the service then revokes and deletes at once.
	kubetest.Eventually(t, 20*time.Second, "alice's gh tokens deleted from the store", func() bool {
		return !storedToken(t, dbPath, key, oauth.NewTokenKey("u-alice", "gh", as.Issuer))
	})
	for i, tok := range tokens {
		if active, err := as.Introspect(ctx, tok); err != nil || active {
			t.Errorf("after the deletion: token %d active=%t (%v) at the authorization server", i, active, err)
		}
	}
	want := `"audit":true,"event":"admin_revocation","user":"u-alice","agent":"gh","issuer":"` + as.Issuer + `","actor":"system","result":"revoked"`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("no audit line %s in:\n%s", want, linesWith(logs.String(), `"audit":true`))
	}
	t.Logf("audit:\n%s", linesWith(logs.String(), `"audit":true`))
}

// storedToken reports whether the SQLite store at path holds tokens of k.
func storedToken(t *testing.T, path, key string, k oauth.TokenKey) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := storedTokens(t, ctx, path, key, k)
	if err != nil && !errors.Is(err, oauth.ErrNoToken) {
		t.Fatal(err)
	}
	return err == nil
}
