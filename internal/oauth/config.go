package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
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
