package mcp

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

func TestAuthHeadersAtServer(t *testing.T) {
	ts := startServer(t, "")
	m := newTestManager(t, Options{})

	t.Run("NONE", func(t *testing.T) {
		a := testAgent("none", ts.URL)
		a.Spec.AuthenticationType = ""
		callWith(t, m, a, RancherIdentity{})
		h := ts.lastHeaders(t)
		if h.Get("Authorization") != "" || h.Get("R_token") != "" {
			t.Fatalf("NONE sent auth headers: %v", h)
		}
		if h.Get("Mcp-Protocol-Version") == "" {
			t.Fatal("no MCP-Protocol-Version header")
		}
	})
	t.Run("RANCHER", func(t *testing.T) {
		a := testAgent("rancher", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthRancher
		callWith(t, m, a, RancherIdentity{Token: "token-abc:xyz", URL: "https://rancher.example"})
		h := ts.lastHeaders(t)
		if h.Get("R_token") != "token-abc:xyz" || h.Get("R_url") != "https://rancher.example" {
			t.Fatalf("RANCHER headers: %v", h)
		}
	})
	t.Run("BASIC", func(t *testing.T) {
		a := testAgent("basic", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthBasic
		a.AuthSecret = map[string][]byte{"username": []byte("alice"), "password": []byte("s3cr:et")}
		callWith(t, m, a, RancherIdentity{})
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:et"))
		if got := ts.lastHeaders(t).Get("Authorization"); got != want || want != "Basic YWxpY2U6czNjcjpldA==" {
			t.Fatalf("Authorization = %q, want %q", got, want)
		}
	})
	t.Run("HEADER", func(t *testing.T) {
		a := testAgent("header", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthHeader
		a.AuthSecret = map[string][]byte{"X-Api-Key": []byte("k1\n"), "x-tenant": []byte("t2")}
		callWith(t, m, a, RancherIdentity{})
		h := ts.lastHeaders(t)
		if h.Get("X-Api-Key") != "k1" || h.Get("X-Tenant") != "t2" || h.Get("Authorization") != "" {
			t.Fatalf("HEADER headers: %v", h)
		}
	})
	t.Run("BASIC missing key", func(t *testing.T) {
		a := testAgent("basic2", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthBasic
		a.AuthSecret = map[string][]byte{"username": []byte("alice")}
		_, err := FixedHeaderCredentials(a, RancherIdentity{})
		if err == nil || !strings.Contains(err.Error(), `"password"`) {
			t.Fatalf("err = %v, want one naming password", err)
		}
	})
	t.Run("HEADER invalid name", func(t *testing.T) {
		a := testAgent("header2", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthHeader
		a.AuthSecret = map[string][]byte{"bad name": []byte("v")}
		if _, err := FixedHeaderCredentials(a, RancherIdentity{}); err == nil {
			t.Fatal("want an error for an invalid header name")
		}
	})
	t.Run("OAUTH2", func(t *testing.T) {
		a := testAgent("oauth", ts.URL)
		a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
		if _, err := FixedHeaderCredentials(a, RancherIdentity{}); !errors.Is(err, ErrOAuth2Credentials) {
			t.Fatalf("err = %v", err)
		}
	})
}

func callWith(t *testing.T, m *Manager, a agentconfig.Agent, id RancherIdentity) {
	t.Helper()
	cred, err := FixedHeaderCredentials(a, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Call(context.Background(), a, cred, "plain", nil); err != nil {
		t.Fatal(err)
	}
}

func TestCacheKey(t *testing.T) {
	a := testAgent("k", "http://x")
	a.Spec.AuthenticationType = v1alpha1.AuthRancher
	c1, _ := FixedHeaderCredentials(a, RancherIdentity{Token: "secret-token-1", URL: "u"})
	c2, _ := FixedHeaderCredentials(a, RancherIdentity{Token: "secret-token-2", URL: "u"})
	c3, _ := FixedHeaderCredentials(a, RancherIdentity{Token: "secret-token-1", URL: "u"})
	if c1.CacheKey() == c2.CacheKey() || c1.CacheKey() != c3.CacheKey() {
		t.Fatalf("cache keys: %q %q %q", c1.CacheKey(), c2.CacheKey(), c3.CacheKey())
	}
	if strings.Contains(c1.CacheKey(), "secret") {
		t.Fatalf("cache key reveals the token: %q", c1.CacheKey())
	}
}

func TestEndpointURL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		auth    v1alpha1.AuthenticationType
		url     string
		opts    Options
		want    string
		wantErr bool
	}{
		{"rancher bare host", v1alpha1.AuthRancher, "rancher-mcp.svc", Options{}, "https://rancher-mcp.svc", false},
		{"rancher bare host insecure", v1alpha1.AuthRancher, "rancher-mcp.svc:8080/mcp", Options{InsecureSkipTLS: true}, "http://rancher-mcp.svc:8080/mcp", false},
		{"rancher scheme kept", v1alpha1.AuthRancher, "http://rancher-mcp.svc", Options{}, "http://rancher-mcp.svc", false},
		{"rancher override", v1alpha1.AuthRancher, "rancher-mcp.svc", Options{RancherMCPURL: "http://localhost:9090/mcp"}, "http://localhost:9090/mcp", false},
		{"override only for rancher", v1alpha1.AuthNone, "https://other/mcp", Options{RancherMCPURL: "http://localhost:9090"}, "https://other/mcp", false},
		{"other auth as-is", v1alpha1.AuthBasic, "http://h:1/mcp", Options{InsecureSkipTLS: true}, "http://h:1/mcp", false},
		{"other auth bare host", v1alpha1.AuthNone, "host-only", Options{}, "", true},
		{"missing", v1alpha1.AuthRancher, "", Options{}, "", true},
		{"bad scheme", v1alpha1.AuthNone, "ftp://h", Options{}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestManager(t, tc.opts)
			a := testAgent("u", tc.url)
			a.Spec.AuthenticationType = tc.auth
			got, err := m.EndpointURL(a)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("EndpointURL = %q, %v; want %q (err %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestCABundle(t *testing.T) {
	ts := startTLSServer(t)
	ctx := context.Background()
	cred := noneCred(t)

	m := newTestManager(t, Options{})
	a := testAgent("tls", ts.URL)
	if _, err := m.Tools(ctx, a, cred); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without CA: err = %v, want a certificate error", err)
	}

	a.CABundle = ts.certPEM()
	a.Revision = "2"
	if tools, err := m.Tools(ctx, a, cred); err != nil || len(tools) == 0 {
		t.Fatalf("with CA: %v", err)
	}

	a.CABundle = []byte("not a pem")
	a.Revision = "3"
	if _, err := m.Tools(ctx, a, cred); err == nil || !strings.Contains(err.Error(), "CA bundle") {
		t.Fatalf("invalid PEM: err = %v", err)
	}

	mi := newTestManager(t, Options{InsecureSkipTLS: true})
	if _, err := mi.Call(ctx, testAgent("tls", ts.URL), cred, "plain", nil); err != nil {
		t.Fatalf("InsecureSkipTLS: %v", err)
	}
}
