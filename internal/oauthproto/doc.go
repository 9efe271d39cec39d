// Package oauthproto is the wire side of the agent's MCP client
// authorization (MCP authorization specification, revisions 2025-03-26 to
// 2026-07-28): how an OAuth 2.1 token for a protected MCP server is
// discovered, asked for and presented, as plain functions over an
// *http.Client (the guarded one of package outbound), testable against
// plain httptest servers. It keeps no state: the per-user tokens, pending
// sign-ins and registrations, and the browser, are package oauth's.
//
// What lives here, one job per file:
//
//   - wwwauth.go   RFC 9110 §11.6.1 WWW-Authenticate parsing (several
//     challenges, quoted strings, token68) and the Bearer challenge's
//     resource_metadata, scope and error parameters (RFC 6750 §3, RFC 9728
//     §5.1).
//   - metadata.go  RFC 9728 protected-resource metadata and RFC 8414 / OIDC
//     authorization-server metadata documents and their strict parsing;
//     CanonicalResource (RFC 8707 §2).
//   - discovery.go MCP discovery: PRM from the 401 challenge or the
//     well-known locations (path-inserted before root), the PRM resource
//     check (the PRM resource must equal the MCP URL or be a same-origin
//     path prefix of it, and is then sent verbatim as the RFC 8707
//     resource), AS metadata in spec order with the issuer check (RFC 8414
//     §3.3) and the PKCE S256 requirement, and the 2025-03-26 fallbacks.
//   - fetch.go     metadata GETs (with MCP-Protocol-Version), the 401 probe,
//     and which transport errors are transient.
//   - register.go  client selection: pre-registered → Client ID Metadata
//     Document → Dynamic Client Registration (RFC 7591), and the token
//     endpoint auth method.
//   - flow.go      the authorization URL (PKCE S256 per RFC 7636, state,
//     RFC 8707 resource), the callback's checks (state, RFC 9207 iss) and
//     the code exchange.
//   - token.go     the token endpoint: Refresh (which, unlike x/oauth2's
//     refresher, sends resource) and the request every grant shares, with
//     errors classified as ErrInvalidGrant (re-consent), ErrInvalidClient
//     (register again) or ErrTransient (retry).
//   - grants.go    grants without a browser: client credentials (RFC 6749
//     §4.4, client_secret_* or private_key_jwt per RFC 7523 §2.2), JWT
//     bearer (RFC 7523 §2.1, workload identity and ID-JAG) and the RFC 8693
//     token exchange for an identity assertion grant (ID-JAG draft).
//   - revoke.go    RFC 7009 token revocation (token_type_hint, the client's
//     own authentication; 200 is success, 5xx ErrTransient,
//     unsupported_token_type ErrUnsupportedTokenType).
//   - dpop.go      RFC 9449 DPoP: the key, proofs (jti, htm, htu, iat, ath,
//     nonce), server nonces, and the client that proves possession at the
//     token endpoint and retries a nonce challenge once.
//   - jwt.go       compact JWS signing (ES256/384/512, RS*, PS*) and PEM keys.
//   - scopes.go    scope selection (challenge → PRM scopes_supported →
//     none), offline_access gating and the step-up union.
//   - errors.go    sentinel errors (match with errors.Is) and HTTPError.
//
// Secrets (tokens, client secrets, codes, verifiers) never appear in error
// strings produced by this package; token-endpoint failures are reported
// with the HTTP status and the OAuth error code only.
//
// # Why not go-sdk's oauthex
//
// github.com/modelcontextprotocol/go-sdk/oauthex (v1.8.0, the version in
// go.mod) covers part of this ground; it is not reused because, read from
// its source:
//
//   - GetProtectedResourceMetadata requires the PRM resource to equal the
//     resource URL exactly, so the root PRM of a server mounted at /mcp
//     (resource = its origin, which the MCP specification allows) is
//     refused; here a same-origin path prefix is accepted and then sent as
//     the RFC 8707 resource.
//   - Its URL checks (checkHTTPSOrLoopback) and its discovery transport
//     refuse plain http other than loopback and every private or reserved
//     address (RFC 1918, 100.64.0.0/10), and its redirect check refuses
//     loopback: an MCP server or authorization server inside the cluster
//     (http://…svc, a ClusterIP) could not be used. Package outbound blocks
//     only link-local and cloud-metadata destinations, on the dialed IP.
//   - GetAuthServerMeta accepts any non-empty
//     code_challenge_methods_supported ("plain" alone passes); here S256
//     is required.
//   - It wraps causes with %v ("Do not expose error types"), so a caller
//     cannot tell a transient failure from a refused destination with
//     errors.Is; a document over its 1 MiB limit is silently cut and
//     fails as bad JSON rather than as too large.
//   - ParseWWWAuthenticate fails the whole header when one challenge is
//     malformed and has no token68 form.
//   - It has no token endpoint of its own (refresh and code exchange come
//     from x/oauth2, whose refresh cannot send the RFC 8707 resource and
//     does not classify invalid_grant against transient errors), no DPoP
//     (the go-sdk module has only the PRM's DPoP metadata fields), and its
//     ClientCredentials know client secrets only, not private_key_jwt
//     (RFC 7523 §2.2).
package oauthproto
