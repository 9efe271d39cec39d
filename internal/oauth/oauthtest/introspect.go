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
// revoked token is not. oidc-provider introspects opaque tokens only
// (ASOptions.OpaqueAccessTokens); a JWT is an error.
func (as *AuthServer) Introspect(ctx context.Context, token string) (bool, error) {
	cl, err := as.IntrospectClaims(ctx, token)
	return cl != nil, err
}

// IntrospectClaims is Introspect's answer (RFC 7662 §2.2) as claims: nil
// when the token is not active.
func (as *AuthServer) IntrospectClaims(ctx context.Context, token string) (*Claims, error) {
	if as.IntrospectionEndpoint == "" {
		return nil, fmt.Errorf("oauthtest: no introspection_endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.IntrospectionEndpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(introspectorID, as.introSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauthtest: introspection: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
		Claims
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return nil, fmt.Errorf("oauthtest: introspection: HTTP %d %s %s", resp.StatusCode, e.Error, e.ErrorDescription)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("oauthtest: introspection: %w", err)
	}
	if !out.Active {
		return nil, nil
	}
	return &out.Claims, nil
}
