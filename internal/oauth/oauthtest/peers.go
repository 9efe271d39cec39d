package oauthtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// The interop peers: MCP servers written by nobody here, protected the way
// their own SDKs document it, verifying tokens at the AuthServer with RFC
// 7662 introspection (so that a revoked token is refused at once).
//
//   - StartSDKMCP: the official TypeScript SDK (@modelcontextprotocol/sdk,
//     sdkserver.mjs) with requireBearerAuth and mcpAuthMetadataRouter.
//   - StartGoSDKMCP: go-sdk's auth.RequireBearerToken and
//     auth.ProtectedResourceMetadataHandler.
//
// Both take Bearer tokens only (RFC 6750 §2.1) and serve one tool,
// "whoami", that answers the token's sub. A DPoP-only server is
// StartProtectedMCP with MCPOptions.RequireDPoP.

// PeerStats is what an interop MCP peer saw.
type PeerStats struct {
	Calls   []string // the token sub of every whoami call, in order
	Bearer  int      // requests let through with a Bearer token
	Refused int      // 401 and 403 answers
}

// Peer is a running interop MCP server.
type Peer struct {
	URL    string // the MCP endpoint, also the RFC 8707 resource
	PRMURL string // RFC 9728 metadata, /.well-known/oauth-protected-resource/mcp
	stats  func() PeerStats
}

// Stats returns what the peer saw so far.
func (p *Peer) Stats() PeerStats { return p.stats() }

// IntrospectionClient is the confidential client that may call the
// introspection endpoint (RFC 7662 §2.1): client_secret_basic.
func (as *AuthServer) IntrospectionClient() (id, secret string) {
	return introspectorID, as.secret
}

// UseOpaqueTokens makes the access tokens issued from now on for resource
// opaque instead of JWTs: oidc-provider introspects only opaque tokens.
func (as *AuthServer) UseOpaqueTokens(resource string) {
	as.t.Helper()
	req, err := http.NewRequest(http.MethodPost, as.Issuer+"/__oauthtest/opaque-resource?resource="+url.QueryEscape(resource), nil)
	if err != nil {
		as.t.Fatalf("oauthtest: UseOpaqueTokens: %v", err)
	}
	req.Header.Set("X-Oauthtest-Secret", as.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		as.t.Fatalf("oauthtest: UseOpaqueTokens: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		as.t.Fatalf("oauthtest: UseOpaqueTokens: HTTP %d", resp.StatusCode)
	}
}

// introspection is the part of an RFC 7662 §2.2 answer the peers read.
type introspection struct {
	Active    bool            `json:"active"`
	Scope     string          `json:"scope"`
	Sub       string          `json:"sub"`
	Exp       int64           `json:"exp"`
	Aud       json.RawMessage `json:"aud"`
	TokenType string          `json:"token_type"`
}

func (in introspection) audiences() []string {
	var one string
	if json.Unmarshal(in.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(in.Aud, &many)
	return many
}

// introspect asks the AuthServer about token (RFC 7662 §2.1).
func (as *AuthServer) introspect(ctx context.Context, endpoint, token string) (introspection, error) {
	id, secret := as.IntrospectionClient()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return introspection{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return introspection{}, fmt.Errorf("introspection: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return introspection{}, fmt.Errorf("introspection: HTTP %d", resp.StatusCode)
	}
	var in introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&in); err != nil {
		return introspection{}, fmt.Errorf("introspection: %w", err)
	}
	return in, nil
}

// StartSDKMCP runs sdkserver.mjs, the TypeScript SDK's MCP server, against
// as with the required scopes; it stops in t.Cleanup.
func StartSDKMCP(t testing.TB, as *AuthServer, scopes []string) *Peer {
	t.Helper()
	rt := ensureRuntime(t)
	cfg, err := json.Marshal(map[string]any{
		"issuer":       as.Issuer,
		"introspector": map[string]string{"id": "oauthtest-introspector", "secret": as.secret},
		"scopes":       scopes,
		"secret":       as.secret,
	})
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	stderr := &logtest.Buffer{}
	cmd := exec.Command(rt.node, rt.sdkScript)
	cmd.Env = append(cmd.Environ(), "OAUTHTEST_SDK_CONFIG="+string(cfg), "NODE_NO_WARNINGS=1")
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closed when we exit: the server then exits too
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		unavailable(t, "cannot start %s: %v", rt.node, err)
	}
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Signal(interruptSignal())
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			t.Logf("oauthtest: TypeScript SDK MCP server stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var h struct{ URL string }
		if sc.Scan() {
			_ = json.Unmarshal(sc.Bytes(), &h)
		}
		lines <- h.URL
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var mcpURL string
	select {
	case mcpURL = <-lines:
		if mcpURL == "" {
			<-waited
			t.Fatalf("oauthtest: the TypeScript SDK MCP server did not start (%s %s); stderr:\n%s", rt.node, rt.sdkScript, stderr.String())
		}
	case <-waited:
		t.Fatalf("oauthtest: the TypeScript SDK MCP server exited at start-up; stderr:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("oauthtest: the TypeScript SDK MCP server did not start within 60s; stderr:\n%s", stderr.String())
	}
	as.UseOpaqueTokens(mcpURL)
	u, _ := url.Parse(mcpURL)
	p := &Peer{URL: mcpURL, PRMURL: u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource/mcp"}
	base := u.Scheme + "://" + u.Host
	p.stats = func() PeerStats {
		var s PeerStats
		if err := getJSON(context.Background(), base+"/__oauthtest/stats", as.testHeader(), &struct {
			Calls   *[]string `json:"calls"`
			Bearer  *int      `json:"bearer"`
			Refused *int      `json:"refused"`
		}{&s.Calls, &s.Bearer, &s.Refused}); err != nil {
			t.Errorf("oauthtest: TypeScript SDK MCP server stats: %v", err)
		}
		return s
	}
	return p
}

// StartGoSDKMCP starts go-sdk's streamable MCP server behind
// auth.RequireBearerToken, its token verifier introspecting at as, with
// the RFC 9728 metadata of auth.ProtectedResourceMetadataHandler; it stops
// in t.Cleanup.
func StartGoSDKMCP(t testing.TB, as *AuthServer, scopes []string) *Peer {
	t.Helper()
	var md struct {
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	}
	if err := getJSON(context.Background(), as.MetadataURL, nil, &md); err != nil || md.IntrospectionEndpoint == "" {
		t.Fatalf("oauthtest: no introspection endpoint in %s: %v", as.MetadataURL, err)
	}
	var (
		mu    sync.Mutex
		stats PeerStats
	)
	server := mcp.NewServer(&mcp.Implementation{Name: "oauthtest-go-sdk-mcp", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Returns the authenticated user (token sub).",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			if req.Extra == nil || req.Extra.TokenInfo == nil {
				return nil, nil, errors.New("no token info")
			}
			mu.Lock()
			stats.Calls = append(stats.Calls, req.Extra.TokenInfo.UserID)
			mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Extra.TokenInfo.UserID}}}, nil, nil
		})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := &Peer{URL: srv.URL + "/mcp", PRMURL: srv.URL + "/.well-known/oauth-protected-resource/mcp"}
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		in, err := as.introspect(ctx, md.IntrospectionEndpoint, token)
		if err != nil {
			return nil, err
		}
		if !in.Active || !slices.Contains(in.audiences(), p.URL) {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{Scopes: strings.Fields(in.Scope), Expiration: time.Unix(in.Exp, 0), UserID: in.Sub}, nil
	}
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	protected := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: p.PRMURL, Scopes: scopes})(streamable)
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               p.URL,
		AuthorizationServers:   []string{as.Issuer},
		ScopesSupported:        scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "oauthtest go-sdk MCP server",
	}))
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		protected.ServeHTTP(sw, r)
		mu.Lock()
		defer mu.Unlock()
		switch sw.status {
		case http.StatusUnauthorized, http.StatusForbidden:
			stats.Refused++
		default:
			stats.Bearer++
		}
	}))
	as.UseOpaqueTokens(p.URL)
	p.stats = func() PeerStats {
		mu.Lock()
		defer mu.Unlock()
		s := stats
		s.Calls = slices.Clone(stats.Calls)
		return s
	}
	return p
}
