// Package oauth is the agent's OAuth service for OAUTH2 agents: it keeps
// each Rancher user's tokens for each agent, obtains them (a browser
// sign-in through the user's chat, or a grant without one), renews them
// before they expire, and presents them on every MCP request. The wire
// protocol (discovery, registration, PKCE, token requests, DPoP proofs) is
// package oauthproto; the guarded HTTP client is package outbound; the
// browser is reached through the Browser interface (chat.Browser in the
// agent), so this package builds no WebSocket frame.
//
// It keeps no package-level mutable state: the per-user state (tokens,
// pending sign-ins, client registrations) lives in a store.OAuthStore,
// sealed by the Vault; the Service is built by the caller with its clock,
// timers and stores (ServiceOptions).
//
// What lives here, one job per file:
//
//   - service.go   Service and ServiceOptions (timers with their defaults),
//     the Browser and Identity it works with, redirect URIs (fixed, or per
//     allowed origin behind Rancher's service-proxy prefix), per-agent HTTP
//     clients and the discovery cache, Run (the periodic sweep).
//   - signin.go    Authenticate: after a 401/403, a silent refresh, else the
//     browser's refresh with its cookie, else a sign-in (authorization code
//     with PKCE) with step-up scopes for insufficient_scope.
//   - credentials.go  Credential, the mcp.Credentials of one (user, agent):
//     a token source and a presenter, nothing else; the presenter puts the
//     token on the request as Bearer or DPoP (as it was bound when
//     obtained) and answers use_dpop_nonce; refresh (refreshOpts) renews a
//     user's token once for all concurrent requests (RefreshCoalesce),
//     retrying transient failures; client identities.
//   - tokensource.go  one token source per grant, each with Token(ctx), in
//     the shape of golang.org/x/oauth2's TokenSource: authorization code
//     (the stored token, refreshed ExpiryLeeway before expiry), client
//     credentials, workload identity, enterprise.
//   - reuse.go     the reuse cache in front of them (x/oauth2's
//     ReuseTokenSource): the unsealed token stays in memory until near
//     expiry; each use compares the stored sealed record with the cached
//     one (each write seals with a fresh nonce, so a record is its own
//     version), so a refresh, sign-out or revocation on any replica is seen
//     at the next use.
//   - complete.go  CompleteSignIn: the callback's state, code exchange,
//     locked store and cookies.
//   - service_grants.go  the agent grants' keys (one token per agent for
//     client credentials and workload identity, per user for enterprise,
//     one IdP sign-in for every agent of that enterprise), the binding of a
//     new token (useDPoP and the once-per-resource Bearer fallback), DPoP
//     keys by record.
//   - register_agent.go  Register: an agent's client registration before
//     its first sign-in (called by the controller).
//   - handlers.go  the HTTP endpoints (Routes): metadata and registration
//     for the settings form, /refresh for the browser's cookie, the
//     authorization callback (which calls CompleteSignIn), our Client ID
//     Metadata Document.
//   - page.go      the callback's HTML page.
//   - cookies.go   the sealed access/refresh cookies and their path.
//   - config.go    an agent's OAuth Secret (AgentConfig, grant types).
//   - vault.go     tokens, client registrations and pending sign-ins, sealed
//     in the store; a pending sign-in is keyed by its user and state (a
//     callback with another user's session finds nothing and burns
//     nothing), one per (user, agent).
//   - seal.go      AES-256-GCM sealing with several keys (the first seals,
//     all open; each value names its key, so keys can be rotated).
//   - observe.go   the Observer of sign-ins and refreshes (telemetry) and
//     their outcomes.
//   - audit.go     one structured audit line ("audit": true, never a token)
//     per sign-in, refresh, revocation and administrative revocation.
//   - connections.go  what a user holds per agent (Connections, from the
//     store), Revoke (RFC 7009 at the authorization server, then replaced
//     here, under the refresh lock, by a marker that holds no token and
//     refuses the sealed refresh cookie of any browser, so every replica's
//     next use finds nothing: no replica keeps a token in memory, and no
//     browser's copy outlives the store) and the sweep of tokens of
//     deleted or moved agents and of departed Rancher users.
//   - connections_http.go  the connection endpoints (ConnectionRoutes: the
//     user's list and sign-out, an administrator's list and revocation) and
//     SignOutSentence, the sentence the sign-in page and <auth-error> show.
//
// Subpackage oauthtest runs a real authorization server (node
// oidc-provider) and a protected go-sdk MCP server for tests.
//
// Secrets never appear in logs, error strings, URLs or pages produced by
// this package.
package oauth
