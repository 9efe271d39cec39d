package oauthproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ProtectedResourceMetadata is the subset of RFC 9728 metadata the client uses.
type ProtectedResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms the resource
	// server accepts in DPoP proofs; its presence says the server accepts
	// DPoP-bound tokens (RFC 9728 §2).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired says the resource server accepts only
	// DPoP-bound access tokens (RFC 9728 §2).
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
}

// ASMetadata is the subset of RFC 8414 / OpenID Connect Discovery metadata the
// client uses.
type ASMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// RevocationEndpoint is RFC 7009 §2 (RFC 8414 §2 revocation_endpoint).
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
}

// SupportsS256 reports whether code_challenge_methods_supported lists S256.
func (m *ASMetadata) SupportsS256() bool {
	return m != nil && slices.Contains(m.CodeChallengeMethodsSupported, "S256")
}

// decodeObject decodes a JSON object strictly enough for security-relevant
// documents: it must be one object, keys are matched case-sensitively by
// checking for case-variant duplicates of the fields we read.
func decodeObject(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrInvalidMetadata)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrInvalidMetadata)
	}
	// encoding/json matches keys case-insensitively; refuse documents whose
	// keys only match ours by case folding (e.g. "Issuer"), which could be used
	// to smuggle a second value past another parser.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	for k := range raw {
		if k != strings.ToLower(k) {
			return fmt.Errorf("%w: unexpected key %q", ErrInvalidMetadata, k)
		}
	}
	return nil
}

// ParsePRM parses and validates a protected-resource metadata document:
// "resource" must be an absolute http(s) URL without fragment and every
// authorization server an absolute http(s) URL.
func ParsePRM(data []byte) (*ProtectedResourceMetadata, error) {
	var m ProtectedResourceMetadata
	if err := decodeObject(data, &m); err != nil {
		return nil, err
	}
	if m.Resource == "" {
		return nil, fmt.Errorf("%w: resource is missing", ErrInvalidMetadata)
	}
	if err := checkHTTPURL(m.Resource); err != nil {
		return nil, fmt.Errorf("%w: resource: %v", ErrInvalidMetadata, err)
	}
	for _, as := range m.AuthorizationServers {
		if err := checkHTTPURL(as); err != nil {
			return nil, fmt.Errorf("%w: authorization_servers: %v", ErrInvalidMetadata, err)
		}
	}
	return &m, nil
}

// ParseASMetadata parses and validates an authorization-server metadata
// document: issuer, authorization_endpoint and token_endpoint are required,
// and every endpoint must be an absolute http(s) URL (no javascript: and the
// like). Issuer and PKCE checks against the discovery context are done by the
// callers.
func ParseASMetadata(data []byte) (*ASMetadata, error) {
	var m ASMetadata
	if err := decodeObject(data, &m); err != nil {
		return nil, err
	}
	if m.Issuer == "" {
		return nil, fmt.Errorf("%w: issuer is missing", ErrInvalidMetadata)
	}
	for _, f := range []struct{ name, v string }{
		{"issuer", m.Issuer},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"registration_endpoint", m.RegistrationEndpoint},
	} {
		if f.v == "" && f.name == "registration_endpoint" {
			continue
		}
		if f.v == "" {
			return nil, fmt.Errorf("%w: %s is missing", ErrInvalidMetadata, f.name)
		}
		if err := checkHTTPURL(f.v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidMetadata, f.name, err)
		}
	}
	return &m, nil
}

// checkHTTPURL requires an absolute http or https URL with a host and no fragment.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q: scheme must be http or https", ErrInvalidURL, raw)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%w: %q: not an absolute URL", ErrInvalidURL, raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: %q: fragment not allowed", ErrInvalidURL, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: %q: userinfo not allowed", ErrInvalidURL, raw)
	}
	return nil
}

// CanonicalResource returns the canonical MCP server URI used as the RFC 8707
// resource: scheme and host lower-cased, no fragment, no trailing slash
// (https://mcp.example.com/ → https://mcp.example.com).
func CanonicalResource(mcpURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(mcpURL))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if err := checkHTTPURL(u.String()); err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	}
	return u.String(), nil
}
