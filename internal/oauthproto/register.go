package oauthproto

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/rancher/ai-agent/internal/outbound"
)

// DefaultClientName is the client_name sent in dynamic client registration.
const DefaultClientName = "Rancher AI Agent"

// Token endpoint client authentication methods (RFC 7591 §2).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
	// AuthMethodPrivateKeyJWT signs a client assertion (RFC 7523 §2.2,
	// OIDC Core §9) with ClientInfo.AssertionKey.
	AuthMethodPrivateKeyJWT = "private_key_jwt"
)

// ClientInfo is the client identity used with one authorization server.
// Credentials are only valid for Issuer: callers key them by issuer and never
// reuse them with another authorization server.
type ClientInfo struct {
	ClientID     string
	ClientSecret string
	// AuthMethod is the token endpoint auth method: AuthMethodBasic,
	// AuthMethodPost or AuthMethodNone.
	AuthMethod string
	// Issuer is the authorization server these credentials belong to.
	Issuer string
	// AssertionKey and AssertionAlg sign the private_key_jwt client
	// assertion. They come from the agent's Secret each time and are never
	// stored.
	AssertionKey crypto.Signer `json:"-"`
	AssertionAlg string        `json:"-"`
}

// RegistrationRequest is the input of Register.
type RegistrationRequest struct {
	// RedirectURIs must be non-empty; https URIs register a "web" client,
	// loopback http URIs a "native" one (mixing both is refused).
	RedirectURIs []string
	// ClientName defaults to DefaultClientName.
	ClientName string
	// Scope optionally restricts the scopes the client will use.
	Scope string
	// SameOriginAs, when set (typically the AS metadata URL), requires the
	// registration endpoint to be on the same origin; used for registrations
	// triggered from the UI with admin-supplied URLs.
	SameOriginAs string
}

// ClientOptions lists the client identities available for ChooseClient.
type ClientOptions struct {
	// Preregistered credentials (e.g. from the agent configuration). When
	// Issuer is set, they are only used with that authorization server.
	Preregistered *ClientInfo
	// CIMDURL is the https URL of our Client ID Metadata Document, used as
	// client_id when the AS advertises client_id_metadata_document_supported.
	CIMDURL string
	// Registration enables dynamic client registration when non-nil.
	Registration *RegistrationRequest
}

// ChooseClient picks the client identity for an authorization server in the
// priority of the MCP specification: pre-registered → Client ID Metadata
// Document → Dynamic Client Registration → ErrNoClient.
func ChooseClient(ctx context.Context, hc *http.Client, as *ASMetadata, opts ClientOptions) (ClientInfo, error) {
	if as == nil {
		return ClientInfo{}, fmt.Errorf("%w: no authorization server metadata", ErrNoClient)
	}
	if pre := opts.Preregistered; pre != nil && pre.ClientID != "" &&
		(pre.Issuer == "" || issuersMatch(pre.Issuer, as.Issuer)) {
		ci := *pre
		ci.Issuer = as.Issuer
		if ci.AuthMethod == "" {
			ci.AuthMethod = ChooseAuthMethod(as.TokenEndpointAuthMethodsSupported, ci.ClientSecret != "")
		}
		return ci, nil
	}
	if opts.CIMDURL != "" && as.ClientIDMetadataDocumentSupported {
		if err := checkCIMDURL(opts.CIMDURL); err != nil {
			return ClientInfo{}, err
		}
		return ClientInfo{ClientID: opts.CIMDURL, AuthMethod: AuthMethodNone, Issuer: as.Issuer}, nil
	}
	if opts.Registration != nil && as.RegistrationEndpoint != "" {
		return Register(ctx, hc, as, *opts.Registration)
	}
	return ClientInfo{}, fmt.Errorf("%w for %s", ErrNoClient, as.Issuer)
}

// checkCIMDURL: a CIMD client_id must be an https URL with a path.
func checkCIMDURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" || u.Path == "/" || u.Fragment != "" {
		return fmt.Errorf("%w: client ID metadata document URL must be https with a path", ErrInvalidURL)
	}
	return nil
}

// ChooseAuthMethod picks the token endpoint auth method from what the AS
// supports: client_secret_basic, then client_secret_post, then none. A client
// without a secret always uses none. An absent list means the RFC 8414
// default, client_secret_basic.
func ChooseAuthMethod(supported []string, hasSecret bool) string {
	if !hasSecret {
		return AuthMethodNone
	}
	if len(supported) == 0 {
		return AuthMethodBasic
	}
	for _, m := range []string{AuthMethodBasic, AuthMethodPost, AuthMethodNone} {
		if slices.Contains(supported, m) {
			return m
		}
	}
	return AuthMethodBasic
}

// ApplicationType derives the DCR application_type from redirect URIs:
// "native" for loopback http (and custom schemes), "web" for everything else.
// Mixed lists are an error: the AS would reject one kind.
func ApplicationType(redirectURIs []string) (string, error) {
	var native, web bool
	for _, r := range redirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" {
			return "", fmt.Errorf("%w: redirect URI %q", ErrInvalidURL, r)
		}
		switch {
		case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
			native = true
		case u.Scheme == "https":
			web = true
		case u.Scheme == "http":
			return "", fmt.Errorf("%w: redirect URI %q: http is only allowed for loopback", ErrInvalidURL, r)
		default:
			native = true
		}
	}
	switch {
	case native && web:
		return "", fmt.Errorf("%w: redirect URIs mix loopback and web", ErrInvalidURL)
	case native:
		return "native", nil
	case web:
		return "web", nil
	}
	return "", fmt.Errorf("%w: no redirect URIs", ErrInvalidURL)
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

type registrationBody struct {
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ApplicationType         string   `json:"application_type"`
	Scope                   string   `json:"scope,omitempty"`
}

type registrationResponse struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	Error                   string `json:"error"`
}

// Register performs RFC 7591 dynamic client registration at
// as.RegistrationEndpoint. Public clients (no secret returned) are valid and
// use AuthMethodNone.
func Register(ctx context.Context, hc *http.Client, as *ASMetadata, r RegistrationRequest) (ClientInfo, error) {
	if as == nil || as.RegistrationEndpoint == "" {
		return ClientInfo{}, fmt.Errorf("%w: authorization server has no registration endpoint", ErrRegistration)
	}
	if err := checkHTTPURL(as.RegistrationEndpoint); err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	if r.SameOriginAs != "" && !outbound.SameOrigin(as.RegistrationEndpoint, r.SameOriginAs) {
		return ClientInfo{}, fmt.Errorf("%w: registration endpoint %s is not on the origin of %s", ErrRegistration, as.RegistrationEndpoint, r.SameOriginAs)
	}
	appType, err := ApplicationType(r.RedirectURIs)
	if err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	body := registrationBody{
		ClientName:              r.ClientName,
		RedirectURIs:            r.RedirectURIs,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: ChooseAuthMethod(as.TokenEndpointAuthMethodsSupported, true),
		ApplicationType:         appType,
		Scope:                   r.Scope,
	}
	if body.ClientName == "" {
		body.ClientName = DefaultClientName
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.RegistrationEndpoint, bytes.NewReader(payload))
	if err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, classifyTransport(err))
	}
	defer resp.Body.Close()
	data, err := outbound.ReadBody(ctx, resp.Body)
	if err != nil {
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	var rr registrationResponse
	jsonErr := json.Unmarshal(data, &rr)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		he := &HTTPError{URL: as.RegistrationEndpoint, StatusCode: resp.StatusCode}
		if jsonErr == nil {
			he.Code = sanitizeCode(rr.Error)
		}
		return ClientInfo{}, fmt.Errorf("%w: %w", ErrRegistration, he)
	}
	if jsonErr != nil {
		// The body is not echoed: it may hold a client secret.
		return ClientInfo{}, fmt.Errorf("%w: malformed JSON response", ErrRegistration)
	}
	if rr.ClientID == "" {
		return ClientInfo{}, fmt.Errorf("%w: response has no client_id", ErrRegistration)
	}
	ci := ClientInfo{ClientID: rr.ClientID, ClientSecret: rr.ClientSecret, Issuer: as.Issuer}
	ci.AuthMethod = rr.TokenEndpointAuthMethod
	if ci.AuthMethod == "" {
		ci.AuthMethod = body.TokenEndpointAuthMethod
	}
	if ci.ClientSecret == "" {
		ci.AuthMethod = AuthMethodNone
	}
	return ci, nil
}

// sanitizeCode keeps an OAuth error code only if it looks like one, so error
// strings never carry arbitrary server-controlled text.
func sanitizeCode(s string) string {
	if len(s) > 64 {
		return "invalid_error_code"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "invalid_error_code"
		}
	}
	return s
}
