package oauthproto

import "fmt"

// TokenBinding says how access tokens for an MCP server are bound: the
// tokenBinding key of an agent's Secret.
type TokenBinding string

const (
	// BindingAuto (the default) binds tokens to a DPoP key only when the
	// MCP server, the resource server, says it accepts DPoP (see
	// Discovery.ResourceAcceptsDPoP); otherwise tokens are Bearer tokens,
	// whatever the authorization server supports.
	BindingAuto TokenBinding = "auto"
	// BindingDPoP always requests DPoP-bound tokens (RFC 9449).
	BindingDPoP TokenBinding = "dpop"
	// BindingBearer never does: Bearer tokens (RFC 6750) only.
	BindingBearer TokenBinding = "bearer"
)

// ParseTokenBinding reads a tokenBinding value; empty is BindingAuto.
func ParseTokenBinding(s string) (TokenBinding, error) {
	switch b := TokenBinding(s); b {
	case "":
		return BindingAuto, nil
	case BindingAuto, BindingDPoP, BindingBearer:
		return b, nil
	}
	return "", fmt.Errorf("tokenBinding %q is not one of %q, %q, %q", s, BindingAuto, BindingDPoP, BindingBearer)
}

// HasDPoPChallenge reports whether the challenges offer the DPoP scheme
// (RFC 9449 §7.1): the resource server accepts DPoP-bound tokens.
func HasDPoPChallenge(cs []Challenge) bool {
	for _, c := range cs {
		if c.Scheme == "dpop" {
			return true
		}
	}
	return false
}

// RefusesDPoP reports a refusal whose challenges offer Bearer and not DPoP:
// a DPoP-bound token sent there was refused by a Bearer-only server.
func RefusesDPoP(cs []Challenge) bool {
	_, bearer := BearerChallenge(cs)
	return bearer && !HasDPoPChallenge(cs)
}

// ResourceAcceptsDPoP reports whether the MCP server says it accepts
// DPoP-bound tokens: its protected resource metadata lists
// dpop_signing_alg_values_supported or sets dpop_bound_access_tokens_required
// (RFC 9728 §2), or its 401 offered the DPoP scheme (RFC 9449 §7.1). What
// the authorization server advertises does not count: a Bearer-only MCP
// server refuses "Authorization: DPoP".
func (d *Discovery) ResourceAcceptsDPoP() bool {
	return d != nil && (len(d.ResourceDPoPAlgs) > 0 || d.ResourceDPoPRequired || d.ChallengeDPoP)
}

// UseDPoP decides whether a new token for this MCP server is bound to a
// DPoP key: always with BindingDPoP, never with BindingBearer, and with
// BindingAuto when the resource server accepts DPoP and either the
// authorization server advertises it or the resource server requires it.
func (d *Discovery) UseDPoP(b TokenBinding) bool {
	switch b {
	case BindingDPoP:
		return true
	case BindingBearer:
		return false
	}
	return d.ResourceAcceptsDPoP() && (d.AuthServer.SupportsDPoP() || d.ResourceDPoPRequired)
}
