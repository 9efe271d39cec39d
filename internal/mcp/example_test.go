package mcp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// bearer is the smallest Credentials: one user's token on every request.
// The cache key hashes the token, so a session opened with it never serves
// another token, and the key reveals nothing.
type bearer struct{ token string }

func (b bearer) CacheKey() string {
	h := sha256.Sum256([]byte(b.token))
	return "bearer:" + hex.EncodeToString(h[:8])
}

func (b bearer) Authorize(req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}

// The Credentials seam: the Manager keeps a session per (agent, credential)
// and asks the credential for its headers on every request, so a token
// renewed meanwhile is used at once. Without the right token the MCP
// server's 401 comes back as an *HTTPStatusError matching ErrUnauthorized,
// which the OAuth layer turns into a sign-in.
func ExampleCredentials() {
	s := sdk.NewServer(&sdk.Implementation{Name: "whoami", Version: "v1"}, nil)
	s.AddTool(&sdk.Tool{Name: "whoami", InputSchema: map[string]any{"type": "object"}}, func(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "you are " + req.Extra.Header.Get("Authorization")[len("Bearer "):]}}}, nil
	})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer alice-token" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	m := mcp.NewManager(mcp.Options{})
	defer m.Close()
	a := agentconfig.Agent{Name: "whoami", Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{MCPURL: srv.URL, AuthenticationType: v1alpha1.AuthOAuth2}}
	ctx := context.Background()

	res, err := m.Call(ctx, a, bearer{"alice-token"}, "whoami", nil)
	fmt.Println(res.Raw, err)

	_, err = m.Call(ctx, a, bearer{"stolen"}, "whoami", nil)
	fmt.Println(errors.Is(err, mcp.ErrUnauthorized))
	// Output:
	// you are alice-token <nil>
	// true
}
