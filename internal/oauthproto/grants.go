package oauthproto

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// URNs of RFC 7523 and RFC 8693 and the ID-JAG draft.
const (
	grantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeIDJAG     = "urn:ietf:params:oauth:token-type:id-jag"
)

// clientAssertion signs the private_key_jwt assertion (RFC 7523 §3): iss and
// sub are the client_id, aud the authorization server's issuer (or the token
// endpoint when the issuer is unknown), valid for one minute, single use.
func clientAssertion(ci ClientInfo, tokenEndpoint string, now time.Time) (string, error) {
	if ci.AssertionKey == nil {
		return "", fmt.Errorf("%w: private_key_jwt without a key", ErrNoClient)
	}
	s, err := newSigner(ci.AssertionKey, ci.AssertionAlg)
	if err != nil {
		return "", err
	}
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	aud := ci.Issuer
	if aud == "" {
		aud = tokenEndpoint
	}
	return s.sign(map[string]any{"typ": "JWT"}, map[string]any{
		"iss": ci.ClientID, "sub": ci.ClientID, "aud": aud, "jti": jti,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
}

func withResourceAndScope(form url.Values, resource string, scopes []string) url.Values {
	if resource != "" {
		form.Set("resource", resource)
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return form
}

// ClientCredentials runs the client credentials grant (RFC 6749 §4.4) with
// the RFC 8707 resource, authenticating as ci.AuthMethod prescribes
// (client_secret_basic, client_secret_post or private_key_jwt).
func ClientCredentials(ctx context.Context, hc *http.Client, ci ClientInfo, as *ASMetadata, resource string, scopes []string) (*oauth2.Token, error) {
	if err := checkClientIssuer(ci, as); err != nil {
		return nil, err
	}
	form := withResourceAndScope(url.Values{"grant_type": {"client_credentials"}}, resource, scopes)
	return tokenRequest(ctx, hc, as.TokenEndpoint, form, ci)
}

// JWTBearer redeems a JWT authorization grant (RFC 7523 §2.1): a workload
// identity token or an ID-JAG. Failures are not retried by this function;
// invalid_grant, invalid_scope and unauthorized_client are final.
func JWTBearer(ctx context.Context, hc *http.Client, assertion string, ci ClientInfo, as *ASMetadata, resource string, scopes []string) (*oauth2.Token, error) {
	if err := checkClientIssuer(ci, as); err != nil {
		return nil, err
	}
	if assertion == "" {
		return nil, fmt.Errorf("%w: empty assertion", ErrInvalidGrant)
	}
	form := withResourceAndScope(url.Values{"grant_type": {grantJWTBearer}, "assertion": {assertion}}, resource, scopes)
	return tokenRequest(ctx, hc, as.TokenEndpoint, form, ci)
}

// RequestIDJAG exchanges the user's ID token at the enterprise identity
// provider for an identity assertion JWT authorization grant (RFC 8693 token
// exchange, draft-ietf-oauth-identity-assertion-authz-grant §4.3) for the
// authorization server audience and the MCP server resource.
func RequestIDJAG(ctx context.Context, hc *http.Client, idpTokenEndpoint, idToken string, idp ClientInfo, audience, resource string, scopes []string) (string, error) {
	if idToken == "" {
		return "", fmt.Errorf("%w: empty ID token (no identity provider sign-in)", ErrInvalidGrant)
	}
	form := withResourceAndScope(url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {tokenTypeIDJAG},
		"subject_token":        {idToken},
		"subject_token_type":   {tokenTypeIDToken},
		"audience":             {audience},
	}, resource, scopes)
	tok, err := tokenRequest(ctx, hc, idpTokenEndpoint, form, idp)
	if err != nil {
		return "", fmt.Errorf("identity assertion grant: %w", err)
	}
	return tok.AccessToken, nil
}

func checkClientIssuer(ci ClientInfo, as *ASMetadata) error {
	if as == nil {
		return fmt.Errorf("%w: no authorization server metadata", ErrTokenEndpoint)
	}
	if ci.Issuer != "" && ci.Issuer != as.Issuer {
		return fmt.Errorf("%w: client belongs to %q", ErrIssuerMismatch, ci.Issuer)
	}
	return nil
}
