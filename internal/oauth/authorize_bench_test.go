package oauth

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/store"
)

// BenchmarkCredentialAuthorize times what every MCP HTTP request of a
// signed-in user costs here: Credential.Authorize with a valid token kept
// in SQLite (the token read, and before the reuse cache its unsealing).
//
//	go test -run '^$' -bench BenchmarkCredentialAuthorize -benchmem ./internal/oauth/
func BenchmarkCredentialAuthorize(b *testing.B) {
	ctx := context.Background()
	as, _ := fakeAS(b, 0, 0)
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sealer, _ := NewSealer(GenerateKey())
	v := NewVault(st, sealer, nil)
	a := agentconfig.Agent{Name: "gh", Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{
		MCPURL: "http://127.0.0.1:1/mcp", AuthenticationType: v1alpha1.AuthOAuth2,
	}, AuthSecret: map[string][]byte{"clientID": []byte("c"), "metadataEndpoint": []byte(as.URL + "/.well-known/oauth-authorization-server")}}
	s, err := NewService(ServiceOptions{Vault: v, Sealer: sealer, Agents: agentconfig.StaticSource{a},
		Endpoint: func(a agentconfig.Agent) (string, error) { return a.Spec.MCPURL, nil }, RedirectURI: "http://127.0.0.1:9/v1/api/oauth2/callback"})
	if err != nil {
		b.Fatal(err)
	}
	key := NewTokenKey("u-a", "gh", as.URL)
	if err := v.Put(ctx, key, TokenSet{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Scopes: []string{"read", "write"},
		Obtained: time.Now(), Expiry: time.Now().Add(time.Hour), Resource: "http://127.0.0.1:1/mcp"}); err != nil {
		b.Fatal(err)
	}
	cred, err := s.Credentials(ctx, a, Identity{UserID: "u-a"})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/mcp", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := cred.Authorize(req); err != nil {
			b.Fatal(err)
		}
	}
	if req.Header.Get("Authorization") != "Bearer at-1" {
		b.Fatalf("header %q", req.Header.Get("Authorization"))
	}
}
