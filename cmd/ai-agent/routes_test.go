package main

import (
	"context"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/internal/guard"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// TestRoutesGuarded walks every route the serve command mounts (cluster
// config, OAuth on): each state-changing route (a method other than GET or
// HEAD, no method at all, or the chat WebSocket) and each route of the
// agent's API that a browser is not sent to from another site is wrapped
// with guard.SameSite by its owner, and a cross-site request to it is
// refused; each administrators' route of ui-protocol.md is mounted and
// refuses a signed-in user who may not configure agents. A route renamed or
// added without its guard fails here.
func TestRoutesGuarded(t *testing.T) {
	rancherURL, _ := trustRancher(t, "u-admin")
	vars := map[string]string{"RANCHER_URL": rancherURL, "STORAGE": "memory", "OAUTH_ENCRYPTION_KEY": oauthKeyEnv()}
	var mu sync.Mutex
	var routes map[string]http.Handler
	deps := serveDeps{mounted: func(r map[string]http.Handler) { mu.Lock(); routes = r; mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	out := &logtest.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- serveWith(ctx, deps, []string{"--metrics-listen", "", "--listen", "127.0.0.1:0", "--config", clusterConfig(t)},
			func(k string) string { return vars[k] }, out, out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	addr := waitFor(t, out, regexp.MustCompile(`"msg":"ai-agent listening","addr":"([0-9.:]+)"`))
	base := "http://" + addr
	mu.Lock()
	defer mu.Unlock()
	if len(routes) == 0 {
		t.Fatal("no routes seen")
	}
	// Reached from another site by design: probes, the authorization
	// server's redirect to the callback, its fetch of our client metadata.
	crossSite := []string{"GET /v1/api/health", "GET /v1/api/readiness", "GET /v1/api/oauth2/callback", "GET /v1/api/oauth2/client-metadata.json"}
	for _, pattern := range slices.Sorted(maps.Keys(routes)) {
		method, path, _ := strings.Cut(pattern, " ")
		if path == "" {
			method, path = "", method
		}
		stateChanging := (method != "GET" && method != "HEAD") || strings.HasPrefix(path, "/v1/ws/")
		api := strings.HasPrefix(path, "/v1/api/") || strings.HasPrefix(path, "/v1/ws/") || strings.HasPrefix(path, "/oauth/")
		if slices.Contains(crossSite, pattern) {
			if stateChanging {
				t.Errorf("%s changes state but is reached cross-site", pattern)
			}
			continue
		}
		if !stateChanging && !api {
			continue
		}
		if guard.Of(routes[pattern])&guard.SameSiteCheck == 0 {
			t.Errorf("%s is not wrapped with guard.SameSite", pattern)
			continue
		}
		if method == "" {
			method = "POST"
		}
		code, body := call(t, method, base+concrete(path), "{}", map[string]string{
			"Origin": "https://evil.example", "Cookie": "R_SESS=tok-admin", "Content-Type": "application/json"})
		wantDetail(t, pattern+" cross-site", code, body, http.StatusForbidden)
	}
	// The administrators' routes (ui-protocol.md §3, the settings form's
	// discovery and registration, the model list with parameters).
	admin := []string{
		"GET /v1/api/agents",
		"GET /v1/api/oauth2/metadata", "POST /v1/api/oauth2/dynamic-registration",
		"GET /oauth/metadata", "GET /oauth/dynamic-registration",
		"GET /v1/api/llm/{provider}/models",
		"GET /v1/api/oauth2/users/{userId}/connections", "DELETE /v1/api/oauth2/users/{userId}/connections",
		"DELETE /v1/api/oauth2/users/{userId}/connections/{agent}",
	}
	for _, pattern := range admin {
		if routes[pattern] == nil {
			t.Errorf("administrators' route %s is not mounted", pattern)
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		code, body := call(t, method, base+concrete(path)+"?mcpUrl=http://127.0.0.1:1/mcp&url=http://127.0.0.1:1", `{"metadataEndpoint":"http://127.0.0.1:1/"}`,
			map[string]string{"Cookie": "R_SESS=tok-viewer", "Content-Type": "application/json"})
		wantDetail(t, pattern+" as a viewer", code, body, http.StatusForbidden)
	}
}

// concrete fills a pattern's wildcards.
func concrete(path string) string {
	return strings.NewReplacer("{provider}", "openai", "{id}", "c1", "{chatId}", "c1", "{userId}", "u-other", "{agent}", "cluster").Replace(path)
}
