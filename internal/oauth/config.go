package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rancher/ai-agent/internal/oauthproto"
)

// Grant types an agent's Secret can name (key grantType). The default,
// authorization code, signs each user in.
const (
	GrantAuthorizationCode = "authorization-code"
	// GrantClientCredentials: the agent authenticates as itself (RFC 6749
	// §4.4); one token per agent, shared by its users.
	GrantClientCredentials = "client-credentials"
	// GrantWorkloadIdentity: the pod's projected service-account token is
	// exchanged for an access token (RFC 7523 JWT bearer grant); one token
	// per agent, no user sign-in.
	GrantWorkloadIdentity = "workload-identity"
	// GrantEnterprise: the user's sign-in at the enterprise identity
	// provider is exchanged (RFC 8693) for an identity assertion grant
	// (ID-JAG), redeemed by JWT bearer at the MCP server's authorization
	// server: one sign-in for every agent of that enterprise.
	GrantEnterprise = "enterprise"
)

// ErrBadSecret is matched by errors about an OAUTH2 agent's Secret.
var ErrBadSecret = errors.New("oauth: invalid OAuth2 secret")

// AgentConfig is what an OAUTH2 agent's Secret says. Every field is
// optional: without a client ID the agent registers itself; without a
// metadata endpoint it discovers the authorization server from the MCP
// server; without a scope it asks for what the server advertises.
type AgentConfig struct {
	ClientID         string
	ClientSecret     string
	Scopes           []string
	MetadataEndpoint string
	// GrantType is one of the Grant* constants; empty means
	// GrantAuthorizationCode.
	GrantType string
	// PrivateKey (PEM) and SigningAlgorithm make the client authenticate
	// with private_key_jwt instead of a secret.
	PrivateKey       []byte
	SigningAlgorithm string
	// TokenPath and Audience: the projected service-account token of
	// GrantWorkloadIdentity (audience is informative: the kubelet mints it).
	TokenPath string
	Audience  string
	// IdPIssuer, IdPClientID and IdPClientSecret: the enterprise identity
	// provider of GrantEnterprise.
	IdPIssuer       string
	IdPClientID     string
	IdPClientSecret string
	// TokenBinding (key tokenBinding: auto, dpop or bearer) says whether
	// tokens are bound to a DPoP key: by default (auto) only when the MCP
	// server accepts DPoP, whatever the authorization server supports.
	TokenBinding oauthproto.TokenBinding
}

// defaultTokenPath is where Kubernetes projects a service-account token
// volume named by the agent's chart.
const defaultTokenPath = "/var/run/secrets/tokens/mcp-token"

// actsAsAgent reports a grant whose token belongs to the agent, shared by
// all its users.
func (c AgentConfig) actsAsAgent() bool {
	return c.GrantType == GrantClientCredentials || c.GrantType == GrantWorkloadIdentity
}

// noSignIn reports a grant that never shows the user an authorization page
// of the MCP server's authorization server.
func (c AgentConfig) noSignIn() bool { return c.actsAsAgent() || c.GrantType == GrantEnterprise }

// autoBinding reports tokenBinding auto (the default).
func (c AgentConfig) autoBinding() bool {
	return c.TokenBinding == "" || c.TokenBinding == oauthproto.BindingAuto
}

// ConfigFromSecret reads an OAUTH2 Secret's data. It accepts the key names
// of the UI (clientID, clientSecret, scope, metadataEndpoint) and the older
// ones (metadata_endpoint, scopes).
func ConfigFromSecret(data map[string][]byte) (AgentConfig, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := data[k]; ok {
				return strings.TrimSpace(string(v))
			}
		}
		return ""
	}
	c := AgentConfig{
		ClientID:         get("clientID", "clientId", "client_id"),
		ClientSecret:     get("clientSecret", "client_secret"),
		MetadataEndpoint: get("metadataEndpoint", "metadata_endpoint"),
		Scopes:           strings.Fields(strings.ReplaceAll(get("scope", "scopes"), ",", " ")),
	}
	c.GrantType = get("grantType", "grant_type")
	c.PrivateKey = []byte(get("privateKey", "private_key"))
	c.SigningAlgorithm = get("signingAlgorithm", "signing_algorithm")
	c.TokenPath = get("tokenPath", "token_path")
	c.Audience = get("audience")
	c.IdPIssuer = get("idpIssuer", "idp_issuer")
	c.IdPClientID = get("idpClientID", "idp_client_id")
	c.IdPClientSecret = get("idpClientSecret", "idp_client_secret")
	if len(c.PrivateKey) == 0 {
		c.PrivateKey = nil
	}
	tb, err := oauthproto.ParseTokenBinding(strings.ToLower(get("tokenBinding", "token_binding")))
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrBadSecret, err)
	}
	c.TokenBinding = tb
	switch c.GrantType {
	case "", GrantAuthorizationCode:
	case GrantClientCredentials:
		if c.ClientID == "" || (c.ClientSecret == "" && c.PrivateKey == nil) {
			return c, fmt.Errorf("%w: grantType %s needs clientID and clientSecret or privateKey", ErrBadSecret, c.GrantType)
		}
	case GrantWorkloadIdentity:
		if c.ClientID == "" {
			return c, fmt.Errorf("%w: grantType %s needs clientID", ErrBadSecret, c.GrantType)
		}
		if c.TokenPath == "" {
			c.TokenPath = defaultTokenPath
		}
	case GrantEnterprise:
		if c.IdPIssuer == "" || c.IdPClientID == "" || c.ClientID == "" {
			return c, fmt.Errorf("%w: grantType %s needs idpIssuer, idpClientID and clientID", ErrBadSecret, c.GrantType)
		}
	default:
		return c, fmt.Errorf("%w: unknown grantType %q", ErrBadSecret, c.GrantType)
	}
	if c.PrivateKey != nil {
		if _, err := oauthproto.ParseSigningKey(c.PrivateKey); err != nil {
			return c, fmt.Errorf("%w: privateKey: %w", ErrBadSecret, err)
		}
	}
	if c.ClientSecret != "" && c.ClientID == "" {
		return c, fmt.Errorf("%w: clientSecret is set but clientID is missing", ErrBadSecret)
	}
	if c.MetadataEndpoint != "" {
		u, err := url.Parse(c.MetadataEndpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("%w: metadataEndpoint is not an http(s) URL", ErrBadSecret)
		}
	}
	return c, nil
}
