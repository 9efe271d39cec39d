package oauthtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// introspectorID is the static confidential client the test harness
// introspects tokens with (a resource server's credentials).
const introspectorID = "oauthtest-introspector"

// Introspect asks the authorization server whether token (an access or a
// refresh token) is active (RFC 7662 §2), as a resource server would: a
// revoked token is not.
func (as *AuthServer) Introspect(ctx context.Context, token string) (bool, error) {
	if as.IntrospectionEndpoint == "" {
		return false, fmt.Errorf("oauthtest: no introspection_endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.IntrospectionEndpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(introspectorID, as.introSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("oauthtest: introspection: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("oauthtest: introspection: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, fmt.Errorf("oauthtest: introspection: %w", err)
	}
	return out.Active, nil
}
