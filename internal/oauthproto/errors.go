package oauthproto

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is; the returned errors wrap them
// with context that never contains tokens or secrets.
var (
	// ErrInvalidURL: a URL (MCP server, metadata, endpoint) is not an absolute
	// http(s) URL or breaks a rule for its role.
	ErrInvalidURL = errors.New("oauth: invalid URL")
	// ErrInvalidMetadata: a metadata document is malformed or lacks a required field.
	ErrInvalidMetadata = errors.New("oauth: invalid metadata document")
	// ErrMetadataNotFound: no metadata document answered at any candidate URL.
	ErrMetadataNotFound = errors.New("oauth: metadata not found")
	// ErrResourceMismatch: the protected-resource metadata names another resource.
	ErrResourceMismatch = errors.New("oauth: protected resource metadata does not match the MCP server")
	// ErrNoAuthorizationServer: the PRM lists no authorization server.
	ErrNoAuthorizationServer = errors.New("oauth: no authorization server")
	// ErrIssuerMismatch: AS metadata issuer differs from the issuer it was
	// discovered for, or state recorded for one issuer is used with another.
	ErrIssuerMismatch = errors.New("oauth: authorization server issuer mismatch")
	// ErrPKCEUnsupported: the AS metadata does not list S256 in
	// code_challenge_methods_supported.
	ErrPKCEUnsupported = errors.New("oauth: authorization server does not support PKCE S256")

	// ErrRegistration: dynamic client registration failed or is not possible.
	ErrRegistration = errors.New("oauth: client registration failed")
	// ErrNoClient: no client identity (pre-registered, CIMD, DCR) is usable.
	ErrNoClient = errors.New("oauth: no usable client registration method")

	// ErrStateMismatch: the authorization response state is not the pending one.
	ErrStateMismatch = errors.New("oauth: state mismatch")
	// ErrForeignAuthorizationURL: a URL about to be shown to the user for
	// signing in is not the authorization request of the flow the agent
	// started (CheckAuthorizationURL).
	ErrForeignAuthorizationURL = errors.New("oauth: not the authorization request of this sign-in")
	// ErrIssMissing: the AS advertises RFC 9207 but the response has no iss.
	ErrIssMissing = errors.New("oauth: iss parameter missing from authorization response")
	// ErrIssMismatch: the authorization response iss differs from the issuer.
	ErrIssMismatch = errors.New("oauth: iss parameter does not match the authorization server")
	// ErrAuthorizationDenied: the authorization response carried an OAuth error.
	ErrAuthorizationDenied = errors.New("oauth: authorization request failed")

	// ErrInvalidGrant: the token endpoint answered invalid_grant (expired or
	// revoked code/refresh token): the user must authorize again.
	ErrInvalidGrant = errors.New("oauth: invalid_grant")
	// ErrInvalidClient: the token endpoint does not know our client (a
	// registration the authorization server purged): register again.
	ErrInvalidClient = errors.New("oauth: invalid_client")
	// ErrTransient: network failure, 5xx or 429: the caller may retry later.
	ErrTransient = errors.New("oauth: transient failure")
	// ErrTokenEndpoint: any other token endpoint failure.
	ErrTokenEndpoint = errors.New("oauth: token endpoint error")
)

// HTTPError describes an unexpected HTTP status from an authorization-related
// endpoint. It deliberately carries no response body beyond the OAuth error
// code, so it is safe to log.
type HTTPError struct {
	URL        string // request URL (never contains secrets in this package)
	StatusCode int
	// Code is the OAuth "error" value of a JSON error response, if any.
	Code string
}

func (e *HTTPError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("oauth: %s: HTTP %d (%s)", e.URL, e.StatusCode, e.Code)
	}
	return fmt.Sprintf("oauth: %s: HTTP %d", e.URL, e.StatusCode)
}

// Unwrap classifies server errors and throttling as transient.
func (e *HTTPError) Unwrap() error {
	if e.StatusCode >= 500 || e.StatusCode == 429 {
		return ErrTransient
	}
	return nil
}
