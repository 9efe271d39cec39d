// Package oauthtest is test support for OAuth-protected MCP servers: it runs a
// real authorization server (the npm package oidc-provider v9 on Node, see
// provider.mjs) and a go-sdk streamable MCP server that validates its JWT
// access tokens the way the MCP authorization spec (2025-11-25) requires.
//
// Everything listens on 127.0.0.1 with random ports and is torn down with
// t.Cleanup. ASOptions.Host and MCPOptions.Host announce a .test name
// instead of 127.0.0.1 in the URLs (hostname.go), for tests whose clients
// must go through a proxy. Node and oidc-provider are installed once with npm into
// $AI_AGENT_CACHE/oidc-provider (default ~/.cache/ai-agent/oidc-provider),
// guarded by a file lock; .ci/oidc-provider.sh pre-installs the same. When
// node/npm are unavailable the tests are skipped loudly, or fail when CI=true.
//
// Authorization server behaviour (StartAuthServer):
//   - RFC 8414 metadata at /.well-known/oauth-authorization-server and OIDC
//     discovery; iss in authorization responses (RFC 9207).
//   - Dynamic client registration at /reg (open; public clients with
//     token_endpoint_auth_method "none" allowed; http://127.0.0.1 redirect
//     URIs work with application_type web; grant_types defaults to
//     authorization_code + refresh_token).
//   - PKCE (S256 only) is required for every client.
//   - RFC 8707: pass resource=<MCP server URL> in the authorization request and
//     the token request; the access token is then a JWT with aud=<resource>,
//     scope = granted scopes from ASOptions.Scopes, sub = user, signed with
//     ASOptions.SigningAlg (RS256 default, or ES256). If the token request
//     (code or refresh) omits resource, the granted resource is used.
//   - Refresh tokens are issued on the authorization_code grant to every
//     client allowed the refresh_token grant (the default for DCR clients and
//     always for static clients); no offline_access scope or prompt=consent is
//     needed (offline_access is accepted but only kept by oidc-provider with
//     prompt=consent).
//   - With RotateRefreshTokens every refresh returns a new refresh token, and
//     reusing a rotated one fails with invalid_grant and revokes the grant (so
//     the newest refresh token stops working too).
//   - RFC 7009 revocation and RFC 7662 introspection are on. oidc-provider
//     revokes and introspects opaque tokens only: ASOptions.OpaqueAccessTokens
//     issues opaque access tokens, AuthServer.Introspect asks about a token
//     as a resource server would, and MCPOptions.Introspect makes the MCP
//     server authenticate every token by introspection (a revoked token is
//     refused before it expires).
//
// Login and consent are headless: AuthServer.Approve walks the authorization
// request through the provider's interaction pages as the given user and
// returns the redirect to the client's redirect_uri without requesting it.
package oauthtest
