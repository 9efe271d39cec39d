package oauthtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestHostNames: with Host set, the issuer, the endpoints and the PRM name
// the .test host, and the servers answer requests addressed to it.
func TestHostNames(t *testing.T) {
	as := StartAuthServer(t, ASOptions{Host: "auth.test", Scopes: []string{"mcp:read"}})
	if !strings.HasPrefix(as.Issuer, "http://auth.test:") || !strings.HasPrefix(as.TokenEndpoint, as.Issuer+"/") {
		t.Fatalf("issuer %q, token endpoint %q", as.Issuer, as.TokenEndpoint)
	}
	pm := StartProtectedMCP(t, as, MCPOptions{Host: "mcp.test", RequiredScopes: []string{"mcp:read"}})
	if !strings.HasPrefix(pm.URL, "http://mcp.test:") {
		t.Fatalf("MCP URL %q", pm.URL)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if err := getJSON(context.Background(), pm.PRMURL, nil, &prm); err != nil {
		t.Fatal(err)
	}
	if prm.Resource != pm.URL || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != as.Issuer {
		b, _ := json.Marshal(prm)
		t.Fatalf("PRM %s", b)
	}
	if n := as.TokenRequests().Total; n != 0 {
		t.Fatalf("token requests %d", n)
	}
}
