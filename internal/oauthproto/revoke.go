package oauthproto

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rancher/ai-agent/internal/outbound"
)

// Token type hints of a revocation request (RFC 7009 §2.1).
const (
	HintRefreshToken = "refresh_token"
	HintAccessToken  = "access_token"
)

// ErrNoRevocation is matched when the authorization server advertises no
// revocation_endpoint.
var ErrNoRevocation = fmt.Errorf("%w: no revocation_endpoint", ErrTokenEndpoint)

// Revoke asks the authorization server to revoke token (RFC 7009 §2.1),
// authenticating as the client the token was issued to (the same client
// authentication as a token request). An unknown or already revoked token
// is success: the server answers 200 for it (§2.2). Errors carry the HTTP
// status and OAuth error code only, never the token or the response body.
func Revoke(ctx context.Context, hc *http.Client, as *ASMetadata, ci ClientInfo, token, hint string) error {
	if as == nil || as.RevocationEndpoint == "" {
		return ErrNoRevocation
	}
	if err := checkHTTPURL(as.RevocationEndpoint); err != nil {
		return fmt.Errorf("revocation_endpoint: %w", err)
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic, err := clientAuth(form, ci, as.RevocationEndpoint)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(ci.ClientID), url.QueryEscape(ci.ClientSecret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("revocation request: %w", classifyTransport(err))
	}
	defer resp.Body.Close()
	body, _ := outbound.ReadBody(ctx, resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	te := &TokenError{StatusCode: resp.StatusCode}
	if tr, err := parseTokenResponse(resp.Header.Get("Content-Type"), body); err == nil {
		te.Code = sanitizeCode(tr.Error)
	}
	return fmt.Errorf("revocation: %w", te)
}
