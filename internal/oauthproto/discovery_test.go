package oauthproto

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/outbound"
)

func TestDiscoverFromChallengeWithPathIssuer(t *testing.T) {
	rs := newFakeServer(t)
	as := newFakeServer(t)
	issuer := as.URL + "/tenant1"
	rs.json("/custom/prm.json", map[string]any{
		"resource":              rs.URL + "/mcp",
		"authorization_servers": []string{issuer},
		"scopes_supported":      []string{"mcp:read", "mcp:write"},
	})
	as.json("/.well-known/openid-configuration/tenant1", asDoc(issuer, as.URL))
	challenge := []string{`Bearer resource_metadata="` + rs.URL + `/custom/prm.json", scope="mcp:read"`}

	d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp/", challenge)
	if err != nil {
		t.Fatal(err)
	}
	if d.Resource != rs.URL+"/mcp" || d.MCPURL != rs.URL+"/mcp" {
		t.Errorf("Resource = %q, MCPURL = %q", d.Resource, d.MCPURL)
	}
	if d.ResourceMetadataURL != rs.URL+"/custom/prm.json" || d.Issuer != issuer || d.AuthServer.Issuer != issuer {
		t.Errorf("got %+v", d)
	}
	if d.MetadataURL != as.URL+"/.well-known/openid-configuration/tenant1" || d.Legacy {
		t.Errorf("MetadataURL = %q, legacy %v", d.MetadataURL, d.Legacy)
	}
	if !slices.Equal(d.ScopesSupported, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("ScopesSupported = %v", d.ScopesSupported)
	}
	// The challenge URL was used: no well-known PRM probing, no MCP probe.
	if got := rs.paths(); !slices.Equal(got, []string{"/custom/prm.json"}) {
		t.Errorf("RS requests = %v", got)
	}
	// AS metadata in spec order: RFC 8414 path-insert, then OIDC path-insert.
	want := []string{"/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1"}
	if got := as.paths(); !slices.Equal(got, want) {
		t.Errorf("AS requests = %v, want %v", got, want)
	}
	for _, r := range append(rs.requests("/custom/prm.json"), as.requests(want[1])...) {
		if r.Header.Get("MCP-Protocol-Version") != ProtocolVersion {
			t.Errorf("%s: MCP-Protocol-Version = %q", r.Path, r.Header.Get("MCP-Protocol-Version"))
		}
	}
}

func TestDiscoverPathInsertedPRMBeforeRoot(t *testing.T) {
	rs := newFakeServer(t)
	// 401 without resource_metadata: the client must probe well-knowns.
	rs.handle("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	rs.json("/.well-known/oauth-protected-resource/mcp", map[string]any{
		"resource": rs.URL + "/mcp", "authorization_servers": []string{rs.URL},
	})
	// Trap: a root PRM that must not be asked before the path-inserted one.
	rs.json("/.well-known/oauth-protected-resource", map[string]any{
		"resource": "https://evil.example.com", "authorization_servers": []string{"https://evil.example.com"},
	})
	rs.json("/.well-known/oauth-authorization-server", asDoc(rs.URL, rs.URL))

	d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs.requested("/.well-known/oauth-protected-resource") {
		t.Errorf("root PRM was requested: %v", rs.paths())
	}
	want := []string{"/mcp", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"}
	if got := rs.paths(); !slices.Equal(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	probe := rs.requests("/mcp")[0]
	if probe.Method != http.MethodPost || !strings.Contains(string(probe.Body), `"method":"initialize"`) {
		t.Errorf("probe = %s %s", probe.Method, probe.Body)
	}
	if probe.Header.Get("Authorization") != "" {
		t.Error("probe carried credentials")
	}
	if d.Issuer != rs.URL || d.ResourceMetadataURL != rs.URL+"/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("got %+v", d)
	}
}

func TestDiscoverRootPRMFallback(t *testing.T) {
	rs := newFakeServer(t)
	as := newFakeServer(t)
	// Root PRM names the origin (RFC 9728 §3.3), which covers /mcp.
	rs.json("/.well-known/oauth-protected-resource", map[string]any{
		"resource": rs.URL, "authorization_servers": []string{as.URL},
	})
	as.json("/.well-known/oauth-authorization-server", asDoc(as.URL, as.URL))
	d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}
	if got := rs.paths(); !slices.Equal(got, want) {
		t.Errorf("requests = %v, want %v (no probe with an empty challenge)", got, want)
	}
	if d.Resource != rs.URL {
		t.Errorf("Resource = %q, want the PRM value %q exactly", d.Resource, rs.URL)
	}
}

func TestDiscoverResourceMismatch(t *testing.T) {
	for name, resource := range map[string]string{
		"other host":      "https://evil.example.com/mcp",
		"sibling path":    "/other",
		"path not prefix": "/mc",
	} {
		t.Run(name, func(t *testing.T) {
			rs := newFakeServer(t)
			if strings.HasPrefix(resource, "/") {
				resource = rs.URL + resource
			}
			rs.json("/.well-known/oauth-protected-resource/mcp", map[string]any{
				"resource": resource, "authorization_servers": []string{rs.URL},
			})
			rs.json("/.well-known/oauth-authorization-server", asDoc(rs.URL, rs.URL))
			_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
			if !errors.Is(err, ErrResourceMismatch) {
				t.Fatalf("err = %v, want ErrResourceMismatch", err)
			}
			if rs.requested("/.well-known/oauth-authorization-server") {
				t.Error("AS metadata fetched despite the mismatch")
			}
		})
	}
}

func prmFor(rs *fakeServer, issuer string) {
	rs.json("/.well-known/oauth-protected-resource/mcp", map[string]any{
		"resource": rs.URL + "/mcp", "authorization_servers": []string{issuer},
	})
}

func TestDiscoverIssuerMismatch(t *testing.T) {
	rs := newFakeServer(t)
	prmFor(rs, rs.URL)
	rs.json("/.well-known/oauth-authorization-server", asDoc("https://attacker.example.com", rs.URL))
	_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
	if !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("err = %v, want ErrIssuerMismatch", err)
	}
	if rs.requested("/.well-known/openid-configuration") {
		t.Error("discovery continued after a mismatching document")
	}
}

func TestDiscoverIssuerTrailingSlashTolerated(t *testing.T) {
	rs := newFakeServer(t)
	prmFor(rs, rs.URL)
	rs.json("/.well-known/oauth-authorization-server", asDoc(rs.URL+"/", rs.URL))
	d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Issuer != rs.URL+"/" {
		t.Errorf("Issuer = %q, want the AS's own value", d.Issuer)
	}
}

func TestDiscoverRefusesWithoutS256(t *testing.T) {
	for name, methods := range map[string]any{"absent": nil, "plain only": []string{"plain"}} {
		t.Run(name, func(t *testing.T) {
			rs := newFakeServer(t)
			prmFor(rs, rs.URL)
			doc := asDoc(rs.URL, rs.URL)
			if methods == nil {
				delete(doc, "code_challenge_methods_supported")
			} else {
				doc["code_challenge_methods_supported"] = methods
			}
			rs.json("/.well-known/oauth-authorization-server", doc)
			_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
			if !errors.Is(err, ErrPKCEUnsupported) {
				t.Fatalf("err = %v, want ErrPKCEUnsupported", err)
			}
		})
	}
}

func TestDiscoverASMetadataOrder(t *testing.T) {
	t.Run("path issuer, only the appended OIDC form exists", func(t *testing.T) {
		rs := newFakeServer(t)
		issuer := rs.URL + "/realms/x"
		prmFor(rs, issuer)
		rs.json("/realms/x/.well-known/openid-configuration", asDoc(issuer, rs.URL))
		d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"/.well-known/oauth-protected-resource/mcp",
			"/.well-known/oauth-authorization-server/realms/x",
			"/.well-known/openid-configuration/realms/x",
			"/realms/x/.well-known/openid-configuration",
		}
		if got := rs.paths(); !slices.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
		if d.MetadataURL != rs.URL+want[3] {
			t.Errorf("MetadataURL = %q", d.MetadataURL)
		}
	})
	t.Run("path-less issuer, OIDC only", func(t *testing.T) {
		rs := newFakeServer(t)
		prmFor(rs, rs.URL)
		rs.json("/.well-known/openid-configuration", asDoc(rs.URL, rs.URL))
		if _, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{}); err != nil {
			t.Fatal(err)
		}
		want := []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}
		if got := rs.paths(); !slices.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
	})
	t.Run("no metadata with PRM is an error", func(t *testing.T) {
		rs := newFakeServer(t)
		prmFor(rs, rs.URL)
		_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
		if !errors.Is(err, ErrMetadataNotFound) {
			t.Fatalf("err = %v, want ErrMetadataNotFound", err)
		}
	})
	t.Run("no authorization servers", func(t *testing.T) {
		rs := newFakeServer(t)
		rs.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": rs.URL + "/mcp"})
		_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
		if !errors.Is(err, ErrNoAuthorizationServer) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDiscoverLegacy20250326(t *testing.T) {
	t.Run("metadata at origin root", func(t *testing.T) {
		rs := newFakeServer(t)
		rs.json("/.well-known/oauth-authorization-server", asDoc(rs.URL, rs.URL+"/oauth"))
		d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
		if err != nil {
			t.Fatal(err)
		}
		if !d.Legacy || d.AuthServer.TokenEndpoint != rs.URL+"/oauth/token" || d.Resource != rs.URL+"/mcp" {
			t.Errorf("got %+v", d)
		}
		want := []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server"}
		if got := rs.paths(); !slices.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
	})
	t.Run("default endpoints", func(t *testing.T) {
		rs := newFakeServer(t)
		d, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
		if err != nil {
			t.Fatal(err)
		}
		if !d.Legacy || d.MetadataURL != "" || d.Issuer != rs.URL ||
			d.AuthServer.AuthorizationEndpoint != rs.URL+"/authorize" ||
			d.AuthServer.TokenEndpoint != rs.URL+"/token" ||
			d.AuthServer.RegistrationEndpoint != rs.URL+"/register" {
			t.Errorf("got %+v", d)
		}
	})
}

func TestDiscoverTransientAndBlocked(t *testing.T) {
	rs := newFakeServer(t)
	rs.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	})
	_, err := Discover(context.Background(), testClient(), rs.URL+"/mcp", []string{})
	var he *HTTPError
	if !errors.Is(err, ErrTransient) || !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Fatalf("err = %v, want transient HTTPError 502", err)
	}
	// resource_metadata pointing at the cloud metadata service is refused at dial time.
	_, err = Discover(context.Background(), testClient(), rs.URL+"/mcp",
		[]string{`Bearer resource_metadata="http://169.254.169.254/latest/meta-data"`})
	if !errors.Is(err, outbound.ErrBlockedAddress) {
		t.Fatalf("err = %v, want outbound.ErrBlockedAddress", err)
	}
}

func TestFetchASMetadata(t *testing.T) {
	rs := newFakeServer(t)
	rs.json("/meta", asDoc(rs.URL+"/tenant", rs.URL))
	rs.json("/evil", asDoc("https://other.example.com", rs.URL))
	m, err := FetchASMetadata(context.Background(), testClient(), rs.URL+"/meta")
	if err != nil || m.Issuer != rs.URL+"/tenant" {
		t.Fatalf("m = %+v, err = %v", m, err)
	}
	if _, err := FetchASMetadata(context.Background(), testClient(), rs.URL+"/evil"); !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("err = %v, want ErrIssuerMismatch", err)
	}
	if _, err := FetchASMetadata(context.Background(), testClient(), rs.URL+"/missing"); !errors.Is(err, ErrMetadataNotFound) {
		t.Fatalf("err = %v, want ErrMetadataNotFound", err)
	}
}
