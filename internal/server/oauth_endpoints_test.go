package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

func TestOAuthSettingsEndpoints(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{mcp: oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}}})
	b := oe.browser(t, "alice")
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, oe.http.URL+path, nil)
		resp, body := b.do(req)
		return resp.StatusCode, strings.TrimSpace(body)
	}
	want := `{"metadataEndpoint":"` + oe.as.MetadataURL + `","scopesSupported":["mcp:read"]}`
	for _, p := range []string{
		"/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape(oe.mcp.URL),
		"/oauth/metadata?mcp_url=" + url.QueryEscape(oe.mcp.URL),
	} {
		if code, body := get(p); code != 200 || body != want {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}
	if code, body := get("/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape("http://127.0.0.1:1/mcp")); code != 200 || body != "null" {
		t.Fatalf("failed discovery: %d %s", code, body)
	}
	if code, body := get("/v1/api/oauth2/metadata?mcpUrl=" + url.QueryEscape("http://169.254.169.254/latest")); code != 200 || body != "null" {
		t.Fatalf("metadata address: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, oe.http.URL+"/v1/api/oauth2/dynamic-registration", strings.NewReader(`{"metadataEndpoint":"`+oe.as.MetadataURL+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, body := b.do(req); resp.StatusCode != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("registration: %d %s", resp.StatusCode, body)
	}
	if code, body := get("/oauth/dynamic-registration?metadata_endpoint=" + url.QueryEscape(oe.as.MetadataURL)); code != 200 || !strings.Contains(body, `"clientId":"`) {
		t.Fatalf("legacy registration: %d %s", code, body)
	}
	anon := &browser{t: t, oe: oe, cookies: map[string]string{}, hc: http.DefaultClient}
	req, _ = http.NewRequest(http.MethodGet, oe.http.URL+"/v1/api/oauth2/metadata?mcpUrl=x", nil)
	if resp, _ := anon.do(req); resp.StatusCode != 401 {
		t.Fatalf("anonymous metadata: %d", resp.StatusCode)
	}
}

func checkCookies(t *testing.T, resp *http.Response) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range resp.Cookies() {
		names[c.Name] = true
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 604800 || c.Path != "/" {
			t.Fatalf("cookie %s attributes: %+v", c.Name, c)
		}
		if strings.Count(c.Value, ".") == 2 { // a JWT in clear has two dots
			t.Fatalf("cookie %s holds a clear token", c.Name)
		}
	}
	if !names["mcp_oauth_at_gh"] || !names["mcp_oauth_rt_gh"] {
		t.Fatalf("cookies set: %v", names)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
