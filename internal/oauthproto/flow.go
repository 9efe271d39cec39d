package oauthproto

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"
)

// Pending is the server-side record of an authorization in progress, stored
// by the caller under State until the callback arrives. It holds the PKCE
// verifier, so it must be kept as confidential as a token.
type Pending struct {
	State       string
	Verifier    string
	Issuer      string // AS issuer the flow was started with (RFC 9207 check)
	Resource    string // RFC 8707 resource sent on authorize, reused on token
	RedirectURI string
	Scopes      []string
	ClientID    string
	CreatedAt   time.Time
}

// randomState returns 32 random bytes, base64url without padding.
func randomState() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// AuthorizationURL builds the authorization request (PKCE S256, random state,
// resource = d.Resource, scope space-joined and omitted when empty) and the
// Pending record the caller must keep until the callback.
func AuthorizationURL(d *Discovery, ci ClientInfo, redirectURI string, scopes []string) (string, Pending, error) {
	if d == nil {
		return "", Pending{}, fmt.Errorf("%w: no discovery", ErrInvalidMetadata)
	}
	if !d.AuthServer.SupportsS256() {
		return "", Pending{}, fmt.Errorf("%w: %s", ErrPKCEUnsupported, d.Issuer)
	}
	if ci.ClientID == "" {
		return "", Pending{}, fmt.Errorf("%w: empty client_id", ErrNoClient)
	}
	if ci.Issuer != "" && ci.Issuer != d.AuthServer.Issuer {
		return "", Pending{}, fmt.Errorf("%w: client registered with %q, authorization server is %q", ErrIssuerMismatch, ci.Issuer, d.AuthServer.Issuer)
	}
	if err := checkHTTPURL(d.AuthServer.AuthorizationEndpoint); err != nil {
		return "", Pending{}, fmt.Errorf("authorization_endpoint: %w", err)
	}
	if _, err := ApplicationType([]string{redirectURI}); err != nil {
		return "", Pending{}, fmt.Errorf("redirect URI: %w", err)
	}
	state, err := randomState()
	if err != nil {
		return "", Pending{}, fmt.Errorf("oauth: state: %w", err)
	}
	verifier := oauth2.GenerateVerifier()
	cfg := oauth2.Config{
		ClientID:    ci.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: d.AuthServer.AuthorizationEndpoint},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if slices.Contains(scopes, "offline_access") {
		// OpenID Connect Core 1.0 §11: a request for offline_access must
		// carry prompt=consent, or an OpenID provider (oidc-provider's
		// default) drops the scope and issues no refresh token. The
		// TypeScript SDK's client does the same; a plain OAuth server
		// ignores an unknown parameter (RFC 6749 §3.1).
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	if d.Resource != "" { // none for a sign-in at an identity provider
		opts = append(opts, oauth2.SetAuthURLParam("resource", d.Resource))
	}
	u := cfg.AuthCodeURL(state, opts...)
	return u, Pending{
		State:       state,
		Verifier:    verifier,
		Issuer:      d.AuthServer.Issuer,
		Resource:    d.Resource,
		RedirectURI: redirectURI,
		Scopes:      append([]string(nil), scopes...),
		ClientID:    ci.ClientID,
		CreatedAt:   time.Now(),
	}, nil
}

// checkIss applies RFC 9207 to an authorization response before the code is
// redeemed: the flow's recorded issuer must be this AS; when the AS
// advertises authorization_response_iss_parameter_supported, iss is required
// (ErrIssMissing); a present iss must equal the issuer by exact string
// comparison, advertised or not (ErrIssMismatch).
func checkIss(iss string, p Pending, as *ASMetadata) error {
	if as == nil || p.Issuer != as.Issuer {
		return fmt.Errorf("%w: flow started with a different authorization server", ErrIssuerMismatch)
	}
	if iss == "" {
		if as.AuthorizationResponseIssParameterSupported {
			return ErrIssMissing
		}
		return nil
	}
	if iss != p.Issuer {
		return fmt.Errorf("%w: got %q, expected %q", ErrIssMismatch, iss, p.Issuer)
	}
	return nil
}

// ParseCallback validates the query of the redirect back to us and returns
// the authorization code. Order matters: state first (ErrStateMismatch), then
// RFC 9207 iss (so an error response from a mixed-up AS is not acted upon),
// then an OAuth error (ErrAuthorizationDenied, with the error code only).
func ParseCallback(q url.Values, p Pending, as *ASMetadata) (code string, err error) {
	if p.State == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.State)) != 1 {
		return "", ErrStateMismatch
	}
	if err := checkIss(q.Get("iss"), p, as); err != nil {
		return "", err
	}
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("%w: %s", ErrAuthorizationDenied, sanitizeCode(e))
	}
	code = q.Get("code")
	if code == "" {
		return "", fmt.Errorf("%w: no code in response", ErrAuthorizationDenied)
	}
	return code, nil
}

// Exchange redeems an authorization code after applying checkIss. It sends
// the PKCE verifier, redirect_uri and the same resource as the authorization
// request, authenticating as ci.AuthMethod prescribes.
func Exchange(ctx context.Context, hc *http.Client, p Pending, code, iss string, ci ClientInfo, as *ASMetadata) (*oauth2.Token, error) {
	if err := checkIss(iss, p, as); err != nil {
		return nil, err
	}
	if ci.ClientID != p.ClientID {
		return nil, fmt.Errorf("%w: client_id differs from the one used to authorize", ErrNoClient)
	}
	if ci.Issuer != "" && ci.Issuer != as.Issuer {
		return nil, fmt.Errorf("%w: client belongs to %q", ErrIssuerMismatch, ci.Issuer)
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {p.RedirectURI},
		"code_verifier": {p.Verifier},
	}
	if p.Resource != "" {
		form.Set("resource", p.Resource)
	}
	return tokenRequest(ctx, hc, as.TokenEndpoint, form, ci)
}

// CheckAuthorizationURL says whether authURL is the authorization request
// (RFC 6749 §4.1.1) of the flow p at the authorization server as: scheme,
// host and path are those of as.authorization_endpoint (so its origin is
// that server's), and state, client_id, redirect_uri, response_type=code
// and the PKCE method S256 (RFC 7636 §4.3) are the flow's. It is the last
// check before a sign-in URL reaches a user's browser, so that nothing but
// a sign-in the agent itself started can open a sign-in popup. A mismatch
// is ErrForeignAuthorizationURL, naming the first field that differs
// (never a value: the URL carries the state).
func CheckAuthorizationURL(authURL string, as *ASMetadata, p Pending) error {
	if as == nil || as.AuthorizationEndpoint == "" {
		return fmt.Errorf("%w: no authorization endpoint", ErrForeignAuthorizationURL)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return fmt.Errorf("%w: unparsable", ErrForeignAuthorizationURL)
	}
	ep, err := url.Parse(as.AuthorizationEndpoint)
	if err != nil {
		return fmt.Errorf("%w: unparsable authorization endpoint", ErrForeignAuthorizationURL)
	}
	switch {
	case u.Scheme != ep.Scheme || u.Host != ep.Host:
		return fmt.Errorf("%w: origin is not the authorization server's", ErrForeignAuthorizationURL)
	case u.Path != ep.Path:
		return fmt.Errorf("%w: path is not the authorization endpoint's", ErrForeignAuthorizationURL)
	case u.User != nil || u.Fragment != "":
		return fmt.Errorf("%w: userinfo or fragment", ErrForeignAuthorizationURL)
	}
	q := u.Query()
	for _, f := range []struct{ name, want string }{
		{"state", p.State}, {"client_id", p.ClientID}, {"redirect_uri", p.RedirectURI},
		{"response_type", "code"}, {"code_challenge_method", "S256"},
	} {
		if f.want == "" || len(q[f.name]) != 1 || q.Get(f.name) != f.want {
			return fmt.Errorf("%w: %s is not the flow's", ErrForeignAuthorizationURL, f.name)
		}
	}
	if q.Get("code_challenge") == "" {
		return fmt.Errorf("%w: no code_challenge", ErrForeignAuthorizationURL)
	}
	return nil
}
