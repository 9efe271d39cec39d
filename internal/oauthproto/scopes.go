package oauthproto

import (
	"slices"
	"strings"
)

// OfflineAccess is the OIDC scope that asks for a refresh token.
const OfflineAccess = "offline_access"

// SelectScopes applies the MCP scope selection strategy: the scope of the
// 401/403 challenge if any (authoritative), else all PRM scopes_supported,
// else none (the scope parameter is then omitted).
func SelectScopes(challengeScope string, prmScopes []string) []string {
	if s := strings.Fields(challengeScope); len(s) > 0 {
		return dedupe(s)
	}
	if len(prmScopes) > 0 {
		return dedupe(prmScopes)
	}
	return nil
}

// WithOfflineAccess adds offline_access when, and only when, the AS metadata
// lists it in scopes_supported (SEP-2207).
func WithOfflineAccess(scopes, asScopesSupported []string) []string {
	if !slices.Contains(asScopesSupported, OfflineAccess) || slices.Contains(scopes, OfflineAccess) {
		return scopes
	}
	return append(slices.Clone(scopes), OfflineAccess)
}

// UnionScopes returns the order-preserving union of scope lists, used on
// step-up: previously requested/granted scopes plus the newly challenged ones.
func UnionScopes(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func dedupe(s []string) []string { return UnionScopes(s) }
