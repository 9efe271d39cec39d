package oauthproto

import (
	"errors"
	"testing"
)

func TestParseASMetadata(t *testing.T) {
	good := `{"issuer":"https://as.example.com","authorization_endpoint":"https://as.example.com/authorize",
	 "token_endpoint":"https://as.example.com/token","code_challenge_methods_supported":["S256"],
	 "authorization_response_iss_parameter_supported":true,"client_id_metadata_document_supported":true}`
	m, err := parseASMetadata([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if !m.SupportsS256() || !m.AuthorizationResponseIssParameterSupported || !m.ClientIDMetadataDocumentSupported {
		t.Fatalf("fields not parsed: %+v", m)
	}
	for name, doc := range map[string]string{
		"not object":          `["issuer"]`,
		"missing issuer":      `{"authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}`,
		"missing token":       `{"issuer":"https://a","authorization_endpoint":"https://a/x"}`,
		"javascript endpoint": `{"issuer":"https://a","authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://a/t"}`,
		"case-folded key":     `{"issuer":"https://a","Issuer":"https://evil","authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}`,
		"trailing data":       `{"issuer":"https://a","authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"} {}`,
		"bad registration":    `{"issuer":"https://a","authorization_endpoint":"https://a/x","token_endpoint":"https://a/t","registration_endpoint":"ftp://a/r"}`,
	} {
		if _, err := parseASMetadata([]byte(doc)); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("%s: err = %v, want ErrInvalidMetadata", name, err)
		}
	}
}

func TestParsePRM(t *testing.T) {
	m, err := parsePRM([]byte(`{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as"],"scopes_supported":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Resource != "https://mcp.example.com/mcp" || len(m.ScopesSupported) != 2 {
		t.Fatalf("%+v", m)
	}
	for name, doc := range map[string]string{
		"no resource":       `{"authorization_servers":["https://as"]}`,
		"fragment resource": `{"resource":"https://mcp/x#frag"}`,
		"relative AS":       `{"resource":"https://mcp/x","authorization_servers":["/as"]}`,
		"garbage":           `nope`,
	} {
		if _, err := parsePRM([]byte(doc)); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("%s: err = %v, want ErrInvalidMetadata", name, err)
		}
	}
}

func TestCanonicalResource(t *testing.T) {
	for in, want := range map[string]string{
		"https://MCP.Example.com/mcp/":      "https://mcp.example.com/mcp",
		"https://mcp.example.com/":          "https://mcp.example.com",
		"https://mcp.example.com":           "https://mcp.example.com",
		"http://localhost:3000/mcp#frag":    "http://localhost:3000/mcp",
		"HTTPS://mcp.example.com/a/b?x=1":   "https://mcp.example.com/a/b?x=1",
		"https://mcp.example.com/Case/Path": "https://mcp.example.com/Case/Path",
	} {
		got, err := CanonicalResource(in)
		if err != nil || got != want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "mcp.example.com/mcp", "ftp://x/y", "/relative", "https://user:pw@x/"} {
		if _, err := CanonicalResource(bad); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("CanonicalResource(%q): err = %v, want ErrInvalidURL", bad, err)
		}
	}
}

func FuzzParseASMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","code_challenge_methods_supported":["S256"]}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseASMetadata(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		// Invariants of an accepted document.
		if m.Issuer == "" || checkHTTPURL(m.AuthorizationEndpoint) != nil || checkHTTPURL(m.TokenEndpoint) != nil {
			t.Fatalf("accepted invalid document: %+v", m)
		}
		if m.RegistrationEndpoint != "" && checkHTTPURL(m.RegistrationEndpoint) != nil {
			t.Fatalf("accepted invalid registration endpoint: %q", m.RegistrationEndpoint)
		}
	})
}

func FuzzParsePRM(f *testing.F) {
	f.Add([]byte(`{"resource":"https://mcp/x","authorization_servers":["https://as"]}`))
	f.Add([]byte(`{"resource":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parsePRM(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		if checkHTTPURL(m.Resource) != nil {
			t.Fatalf("accepted invalid resource %q", m.Resource)
		}
		for _, as := range m.AuthorizationServers {
			if checkHTTPURL(as) != nil {
				t.Fatalf("accepted invalid AS %q", as)
			}
		}
	})
}
