package oauthproto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rancher/ai-agent/internal/outbound"
)

// Discovery is everything needed to start an authorization for one MCP server.
type Discovery struct {
	// Resource is the RFC 8707 resource indicator to send on authorization,
	// token and refresh requests: the PRM "resource" exactly as published
	// (it has been checked to cover the MCP server), or the canonical MCP URL
	// when the server has no PRM (2025-03-26).
	Resource string
	// MCPURL is the canonical MCP server URL (no fragment, no trailing slash).
	MCPURL string
	// ResourceMetadataURL is where the PRM was found ("" without PRM).
	ResourceMetadataURL string
	// ScopesSupported is the PRM scopes_supported.
	ScopesSupported []string
	// Issuer is the authorization server issuer (equal to AuthServer.Issuer).
	Issuer string
	// AuthServer is the validated authorization-server metadata.
	AuthServer ASMetadata
	// MetadataURL is the AS metadata URL that answered; "" when the
	// 2025-03-26 default endpoints (/authorize, /token, /register) are used.
	MetadataURL string
	// Legacy is true when the server has no PRM (2025-03-26 behaviour).
	Legacy bool
	// ResourceDPoPAlgs is the PRM dpop_signing_alg_values_supported and
	// ResourceDPoPRequired its dpop_bound_access_tokens_required (RFC 9728
	// §2): what the MCP server, not the authorization server, says of DPoP.
	ResourceDPoPAlgs     []string
	ResourceDPoPRequired bool
	// ChallengeDPoP is true when the MCP server's 401 offered the DPoP
	// scheme (RFC 9449 §7.1).
	ChallengeDPoP bool
}

// Discover runs MCP authorization discovery (spec 2025-11-25) for mcpURL.
//
// challenge holds the WWW-Authenticate values of the 401/403 that triggered
// the flow; when nil, the MCP URL is probed with an unauthenticated initialize
// request to obtain one. The PRM is then taken from the challenge's
// resource_metadata, else from /.well-known/oauth-protected-resource/<path>,
// else from the root /.well-known/oauth-protected-resource (in that order).
// Its resource must cover the MCP URL (ErrResourceMismatch). The first
// authorization server's metadata is fetched in spec order and must name the
// same issuer (ErrIssuerMismatch) and support PKCE S256 (ErrPKCEUnsupported).
// Without any PRM, the 2025-03-26 rules apply: AS metadata at the MCP origin,
// else the default endpoints /authorize, /token and /register there.
func Discover(ctx context.Context, hc *http.Client, mcpURL string, challenge []string) (*Discovery, error) {
	canonical, err := CanonicalResource(mcpURL)
	if err != nil {
		return nil, err
	}
	if challenge == nil {
		if challenge, err = probeChallenge(ctx, hc, canonical); err != nil {
			return nil, err
		}
	}
	cs := ParseChallenges(challenge)
	prm, prmURL, err := findPRM(ctx, hc, canonical, ResourceMetadataURL(cs))
	if err != nil {
		return nil, err
	}
	if prm == nil {
		d, err := legacyDiscovery(ctx, hc, canonical)
		if d != nil {
			d.ChallengeDPoP = HasDPoPChallenge(cs)
		}
		return d, err
	}
	if len(prm.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("%w: PRM at %s lists none", ErrNoAuthorizationServer, prmURL)
	}
	asm, metaURL, err := FetchASMetadataForIssuer(ctx, hc, prm.AuthorizationServers[0])
	if err != nil {
		return nil, err
	}
	return &Discovery{
		Resource:             prm.Resource,
		MCPURL:               canonical,
		ResourceMetadataURL:  prmURL,
		ScopesSupported:      prm.ScopesSupported,
		Issuer:               asm.Issuer,
		AuthServer:           *asm,
		MetadataURL:          metaURL,
		ResourceDPoPAlgs:     prm.DPoPSigningAlgValuesSupported,
		ResourceDPoPRequired: prm.DPoPBoundAccessTokensRequired,
		ChallengeDPoP:        HasDPoPChallenge(cs),
	}, nil
}

// prmCandidates returns the PRM URLs to try, in spec order.
func prmCandidates(canonical, fromChallenge string) []string {
	var out []string
	if fromChallenge != "" {
		out = append(out, fromChallenge)
	}
	u, _ := url.Parse(canonical) // already validated
	base := u.Scheme + "://" + u.Host
	if p := strings.Trim(u.Path, "/"); p != "" {
		out = append(out, base+"/.well-known/oauth-protected-resource/"+p)
	}
	return append(out, base+"/.well-known/oauth-protected-resource")
}

// findPRM returns the first PRM found, or (nil, "", nil) when none exists.
func findPRM(ctx context.Context, hc *http.Client, canonical, fromChallenge string) (*ProtectedResourceMetadata, string, error) {
	for _, cand := range prmCandidates(canonical, fromChallenge) {
		if err := checkHTTPURL(cand); err != nil {
			return nil, "", fmt.Errorf("resource_metadata: %w", err)
		}
		body, err := getMetadata(ctx, hc, cand)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("protected resource metadata: %w", err)
		}
		prm, err := ParsePRM(body)
		if err != nil {
			return nil, "", fmt.Errorf("protected resource metadata at %s: %w", cand, err)
		}
		if !resourceCovers(prm.Resource, canonical) {
			return nil, "", fmt.Errorf("%w: PRM at %s names %q, server is %q", ErrResourceMismatch, cand, prm.Resource, canonical)
		}
		return prm, cand, nil
	}
	return nil, "", nil
}

// resourceCovers reports whether the PRM resource identifies the MCP server:
// after canonicalisation it equals the MCP URL, or it is the same origin with
// a path that is a segment prefix of the MCP path (a root PRM legitimately
// names the origin, RFC 9728 §3.3). Query strings must match exactly.
func resourceCovers(resource, canonicalMCP string) bool {
	r, err := CanonicalResource(resource)
	if err != nil {
		return false
	}
	if r == canonicalMCP {
		return true
	}
	ru, err1 := url.Parse(r)
	mu, err2 := url.Parse(canonicalMCP)
	if err1 != nil || err2 != nil || outbound.Origin(ru) != outbound.Origin(mu) || ru.RawQuery != "" {
		return false
	}
	return ru.Path == "" || strings.HasPrefix(mu.Path, ru.Path+"/")
}

// asMetadataCandidates returns the AS metadata URLs for an issuer in the order
// of MCP 2025-11-25 (RFC 8414 path insertion, OIDC path insertion, OIDC path
// appending; the root pair for a path-less issuer).
func asMetadataCandidates(issuer string) ([]string, error) {
	if err := checkHTTPURL(issuer); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	u, _ := url.Parse(issuer)
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("%w: issuer %q has a query", ErrInvalidURL, issuer)
	}
	base := u.Scheme + "://" + u.Host
	p := strings.Trim(u.EscapedPath(), "/")
	if p == "" {
		return []string{
			base + "/.well-known/oauth-authorization-server",
			base + "/.well-known/openid-configuration",
		}, nil
	}
	return []string{
		base + "/.well-known/oauth-authorization-server/" + p,
		base + "/.well-known/openid-configuration/" + p,
		base + "/" + p + "/.well-known/openid-configuration",
	}, nil
}

// issuersMatch compares issuers by exact string, tolerating only a single
// trailing slash difference ("https://as/" vs "https://as"): several OIDC
// providers publish the slash form while PRMs name the other. The AS's own
// value is what gets recorded and later compared (exactly) to RFC 9207 iss.
func issuersMatch(a, b string) bool {
	return a == b || strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// FetchASMetadataForIssuer discovers and validates the metadata of the
// authorization server identified by issuer, trying the well-known locations
// in spec order. It returns the metadata and the URL that answered.
func FetchASMetadataForIssuer(ctx context.Context, hc *http.Client, issuer string) (*ASMetadata, string, error) {
	return fetchIssuerMetadata(ctx, hc, issuer, true)
}

// FetchTokenServerMetadata is FetchASMetadataForIssuer for a server used
// only for token requests (an enterprise IdP's RFC 8693 token exchange): it
// need not support PKCE S256.
func FetchTokenServerMetadata(ctx context.Context, hc *http.Client, issuer string) (*ASMetadata, string, error) {
	return fetchIssuerMetadata(ctx, hc, issuer, false)
}

// fetchIssuerMetadata is FetchASMetadataForIssuer; needPKCE false accepts a
// server that is only used for token requests (an enterprise IdP's token
// exchange).
func fetchIssuerMetadata(ctx context.Context, hc *http.Client, issuer string, needPKCE bool) (*ASMetadata, string, error) {
	cands, err := asMetadataCandidates(issuer)
	if err != nil {
		return nil, "", err
	}
	for _, cand := range cands {
		m, err := fetchAS(ctx, hc, cand)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if !issuersMatch(m.Issuer, issuer) {
			return nil, "", fmt.Errorf("%w: metadata at %s claims %q, expected %q", ErrIssuerMismatch, cand, m.Issuer, issuer)
		}
		if needPKCE && !m.SupportsS256() {
			return nil, "", fmt.Errorf("%w: %s", ErrPKCEUnsupported, m.Issuer)
		}
		return m, cand, nil
	}
	return nil, "", fmt.Errorf("%w: no authorization server metadata for %s", ErrMetadataNotFound, issuer)
}

// FetchASMetadata fetches AS metadata from an admin-configured metadata URL.
// Since no issuer was used to build that URL, the document's issuer must at
// least share its origin (ErrIssuerMismatch otherwise); PKCE S256 is required.
func FetchASMetadata(ctx context.Context, hc *http.Client, metadataURL string) (*ASMetadata, error) {
	if err := checkHTTPURL(metadataURL); err != nil {
		return nil, err
	}
	m, err := fetchAS(ctx, hc, metadataURL)
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrMetadataNotFound, metadataURL)
	}
	if err != nil {
		return nil, err
	}
	if !outbound.SameOrigin(m.Issuer, metadataURL) {
		return nil, fmt.Errorf("%w: metadata at %s claims issuer %q on another origin", ErrIssuerMismatch, metadataURL, m.Issuer)
	}
	if !m.SupportsS256() {
		return nil, fmt.Errorf("%w: %s", ErrPKCEUnsupported, m.Issuer)
	}
	return m, nil
}

func fetchAS(ctx context.Context, hc *http.Client, u string) (*ASMetadata, error) {
	body, err := getMetadata(ctx, hc, u)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	m, err := ParseASMetadata(body)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata at %s: %w", u, err)
	}
	return m, nil
}

// legacyDiscovery implements the 2025-03-26 rules for servers without PRM:
// the MCP origin is the authorization server.
func legacyDiscovery(ctx context.Context, hc *http.Client, canonical string) (*Discovery, error) {
	u, _ := url.Parse(canonical)
	issuer := u.Scheme + "://" + u.Host
	d := &Discovery{Resource: canonical, MCPURL: canonical, Legacy: true}
	m, metaURL, err := FetchASMetadataForIssuer(ctx, hc, issuer)
	switch {
	case err == nil:
		d.Issuer, d.AuthServer, d.MetadataURL = m.Issuer, *m, metaURL
		return d, nil
	case !errors.Is(err, ErrMetadataNotFound):
		return nil, err
	}
	// No metadata at all: fixed endpoints. 2025-03-26 makes PKCE mandatory
	// for every server, so S256 is assumed.
	d.Issuer = issuer
	d.AuthServer = ASMetadata{
		Issuer:                        issuer,
		AuthorizationEndpoint:         issuer + "/authorize",
		TokenEndpoint:                 issuer + "/token",
		RegistrationEndpoint:          issuer + "/register",
		CodeChallengeMethodsSupported: []string{"S256"},
	}
	return d, nil
}
