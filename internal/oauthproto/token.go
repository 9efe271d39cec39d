package oauthproto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/rancher/ai-agent/internal/outbound"
)

// TokenError is a failed token endpoint response. It carries the HTTP status
// and the OAuth error code only (never the body), and unwraps to
// ErrInvalidGrant, ErrTransient or ErrTokenEndpoint.
type TokenError struct {
	StatusCode int
	Code       string
}

func (e *TokenError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("oauth: token endpoint: HTTP %d (%s)", e.StatusCode, e.Code)
	}
	return fmt.Sprintf("oauth: token endpoint: HTTP %d", e.StatusCode)
}

func (e *TokenError) Unwrap() error {
	switch {
	case e.Code == "invalid_grant":
		return ErrInvalidGrant
	case e.Code == "invalid_client":
		return ErrInvalidClient
	case e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests:
		return ErrTransient
	}
	return ErrTokenEndpoint
}

// Refresh redeems a refresh token. Unlike x/oauth2's refresher it sends the
// RFC 8707 resource (when non-empty), and it keeps refreshToken when the AS
// does not rotate it. Errors: ErrInvalidGrant means the user must authorize
// again; ErrTransient (network, 5xx, 429) means retry later.
func Refresh(ctx context.Context, hc *http.Client, refreshToken, resource string, ci ClientInfo, as *ASMetadata) (*oauth2.Token, error) {
	if as == nil {
		return nil, fmt.Errorf("%w: no authorization server metadata", ErrTokenEndpoint)
	}
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token", ErrInvalidGrant)
	}
	if ci.Issuer != "" && ci.Issuer != as.Issuer {
		return nil, fmt.Errorf("%w: client belongs to %q", ErrIssuerMismatch, ci.Issuer)
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	tok, err := tokenRequest(ctx, hc, as.TokenEndpoint, form, ci)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Scope        string          `json:"scope"`
	IDToken      string          `json:"id_token"`
	Error        string          `json:"error"`
}

// tokenRequest POSTs a token request with client authentication per
// ci.AuthMethod and parses the response. Done by hand rather than through
// x/oauth2 so that transport errors keep their type (errors.Is works) and
// response bodies never end up in error strings.
func tokenRequest(ctx context.Context, hc *http.Client, endpoint string, form url.Values, ci ClientInfo) (*oauth2.Token, error) {
	if err := checkHTTPURL(endpoint); err != nil {
		return nil, fmt.Errorf("token_endpoint: %w", err)
	}
	if ci.ClientID == "" {
		return nil, fmt.Errorf("%w: empty client_id", ErrNoClient)
	}
	basic, err := clientAuth(form, ci, endpoint)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 §2.3.1: form-encode before Basic.
		req.SetBasicAuth(url.QueryEscape(ci.ClientID), url.QueryEscape(ci.ClientSecret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request: %w", classifyTransport(err))
	}
	defer resp.Body.Close()
	body, err := outbound.ReadBody(ctx, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("token response: %w", classifyTransport(err))
	}
	tr, perr := parseTokenResponse(resp.Header.Get("Content-Type"), body)
	if resp.StatusCode != http.StatusOK || (perr == nil && tr.Error != "") {
		te := &TokenError{StatusCode: resp.StatusCode}
		if perr == nil {
			te.Code = sanitizeCode(tr.Error)
		}
		return nil, te
	}
	if perr != nil {
		return nil, fmt.Errorf("%w: malformed token response", ErrTokenEndpoint)
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("%w: response has no access_token", ErrTokenEndpoint)
	}
	tok := &oauth2.Token{
		AccessToken:  tr.AccessToken,
		TokenType:    tr.TokenType,
		RefreshToken: tr.RefreshToken,
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if secs := parseExpiresIn(tr.ExpiresIn); secs > 0 {
		tok.ExpiresIn = secs
		tok.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	extra := map[string]any{}
	if tr.Scope != "" {
		extra["scope"] = tr.Scope
	}
	if tr.IDToken != "" {
		extra["id_token"] = tr.IDToken
	}
	return tok.WithExtra(extra), nil
}

// clientAuth adds the client authentication of ci.AuthMethod to a request
// to endpoint (RFC 6749 §2.3): the form fields, or reports that the
// request needs HTTP Basic (client_secret_basic). Token, revocation
// (RFC 7009 §2.1) and other client requests share it.
func clientAuth(form url.Values, ci ClientInfo, endpoint string) (basic bool, err error) {
	method := ci.AuthMethod
	if method == "" {
		method = ChooseAuthMethod(nil, ci.ClientSecret != "")
	}
	switch method {
	case AuthMethodBasic:
		if ci.ClientSecret == "" {
			return false, fmt.Errorf("%w: %s without a client secret", ErrNoClient, method)
		}
	case AuthMethodPost:
		form.Set("client_id", ci.ClientID)
		form.Set("client_secret", ci.ClientSecret)
	case AuthMethodNone:
		form.Set("client_id", ci.ClientID)
	case AuthMethodPrivateKeyJWT:
		a, err := clientAssertion(ci, endpoint, time.Now())
		if err != nil {
			return false, err
		}
		form.Set("client_id", ci.ClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	default:
		return false, fmt.Errorf("%w: unsupported token endpoint auth method %q", ErrNoClient, method)
	}
	return method == AuthMethodBasic, nil
}

func parseTokenResponse(contentType string, body []byte) (*tokenResponse, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	looksJSON := len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{'
	if (mt == "application/x-www-form-urlencoded" || mt == "text/plain") && !looksJSON {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		tr := &tokenResponse{
			AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"),
			RefreshToken: v.Get("refresh_token"), Scope: v.Get("scope"), Error: v.Get("error"),
		}
		if e := v.Get("expires_in"); e != "" {
			tr.ExpiresIn = json.RawMessage(strconv.Quote(e))
		}
		return tr, nil
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, err
	}
	return &tr, nil
}

// parseExpiresIn accepts a JSON number or a numeric string.
func parseExpiresIn(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || n > 1e9 {
		return 0
	}
	return int64(n)
}

// TokenScopes returns the scopes granted in a token response ("scope"), or nil.
func TokenScopes(t *oauth2.Token) []string {
	if t == nil {
		return nil
	}
	s, _ := t.Extra("scope").(string)
	return strings.Fields(s)
}
