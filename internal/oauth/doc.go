// Package oauth is the protocol layer of the agent's MCP client authorization:
// everything the agent needs to obtain and renew OAuth 2.1 tokens on a Rancher
// user's behalf for an MCP server that is protected per the MCP authorization
// specification (revisions 2025-03-26 to 2026-07-28).
//
// It keeps no package-level mutable state: the protocol functions are
// plain functions over an *http.Client, testable against plain httptest
// servers; the per-user state (tokens, pending sign-ins, registrations)
// lives in a store.OAuthStore, sealed by the Vault, and the Service, its
// HTTP handlers and the chat sign-in are built by the caller.
//
// What lives here, one job per file:
//
//   - wwwauth.go   RFC 9110 WWW-Authenticate parsing (several challenges, quoted
//     strings, token68) and helpers for the Bearer challenge's
//     resource_metadata, scope and error parameters.
//   - outbound.go  the guarded *http.Client for requests made on a user's behalf
//     (discovery, registration, token): timeouts, response size cap, same-origin
//     redirects only, no link-local / cloud-metadata destinations (checked on the
//     dialed IP, so DNS rebinding cannot bypass it).
//   - metadata.go  RFC 9728 protected-resource metadata and RFC 8414 / OIDC
//     authorization-server metadata documents and their strict parsing.
//   - discovery.go MCP discovery: PRM from the 401 challenge or the well-known
//     locations (path-inserted before root), the PRM resource check (the PRM
//     resource must equal the MCP URL or be a same-origin path prefix of it, and
//     is then sent verbatim as the RFC 8707 resource), AS metadata
//     in spec order with the issuer check and the PKCE S256 requirement, and the
//     2025-03-26 fallbacks.
//   - register.go  client selection: pre-registered → Client ID Metadata
//     Document → Dynamic Client Registration (RFC 7591).
//   - flow.go      authorization URL (PKCE S256, state, RFC 8707 resource) and
//     the code exchange guarded by RFC 9207 iss validation.
//   - token.go     the token endpoint: Refresh (which, unlike x/oauth2's
//     refresher, sends resource) and the request shared with Exchange, with
//     errors classified as ErrInvalidGrant (re-consent) or ErrTransient (retry).
//   - fetch.go     metadata GETs (with MCP-Protocol-Version) and the 401 probe.
//   - errors.go    sentinel errors (match with errors.Is) and HTTPError.
//   - jwt.go       compact JWS signing (ES256/384/512, RS*, PS*) and PEM keys.
//   - dpop.go      RFC 9449 DPoP: the per-(user, agent) key (sealed with the
//     token), proofs (jti, htm, htu, iat, ath, nonce), server nonces, and the
//     token-endpoint client that proves possession and retries a nonce once.
//   - grants.go    grants without a browser: client credentials (RFC 6749
//     §4.4, client_secret_* or private_key_jwt per RFC 7523 §2.2), JWT
//     bearer (RFC 7523 §2.1, workload identity and ID-JAG) and the RFC 8693
//     token exchange for an identity assertion grant (ID-JAG draft).
//   - service_grants.go  the Service side of those grants (Secret
//     grantType): one token per agent for client credentials and workload
//     identity, per user for enterprise, renewed before expiry under the
//     vault lock; DPoP keys by record.
//   - scopes.go    scope selection (challenge → PRM scopes_supported → none),
//     offline_access gating and the step-up union.
//   - seal.go      AES-256-GCM sealing with several keys (the first seals,
//     all open; each value names its key, so keys can be rotated).
//   - vault.go     tokens, client registrations and pending sign-ins, sealed
//     in the store; a pending sign-in is keyed by its user and state (a
//     callback with another user's session finds nothing and burns
//     nothing), one per (user, agent).
//
// Secrets (tokens, client secrets, codes, verifiers) never appear in error
// strings produced by this package; token-endpoint failures are reported with
// the HTTP status and the OAuth error code only.
package oauth
