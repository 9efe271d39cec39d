// Package mcp connects agents to their MCP servers.
//
// A Manager keeps one MCP client session (go-sdk streamable HTTP transport)
// per (agent, agent revision, credential cache key). Sessions are per
// credential, not per agent, because the MCP server authorises every request
// with the user's own credential (a Rancher token, an OAuth2 access token...):
// a session opened with one user's token must never serve another user. The
// HTTP transport (connection pool and TLS configuration), on the other hand,
// is shared by all users of one agent revision; credentials are applied per
// request by a RoundTripper wrapper.
//
// go-sdk connects and initializes sessions, lists tools, keeps the standalone
// stream and closes sessions. tools/call goes through the session's caller
// (caller.go), one interface with two implementations and one call site in
// Manager.Call. The usual one is the package's own (call.go): one
// POST with the session's headers on the session's *http.Client, the JSON or
// SSE answer read with encoding/json into pooled buffers and bounded in
// size, server requests on the stream answered as go-sdk's client would
// (ping, roots/list; no elicitation or sampling), cancellation told to the
// server. Sessions on the 2026-07-28 wire (per-request _meta, standard
// headers, multi-round-trip results) and Managers with an elicitation
// handler call through go-sdk's CallTool (sdkCaller). TestCallersAgree runs
// every case (JSON, SSE, server requests, resumption, cancel, 404) through
// both.
//
// Tool lists are cached next to their session. Tools whose name ends in
// "Plan" are hidden from the model: they are the dry-run halves of tools that
// need human validation, and the validation flow calls them itself (through
// Call, which accepts any tool name) to show the user what would change.
//
// An agent's CA bundle is added to the system trust pool rather than
// replacing it, so that an agent whose MCP server sits behind a private CA
// can still reach servers with public certificates (for example behind a
// proxy or after a redirect), and so that a CA bundle never narrows trust
// for anything but the one agent it is configured on.
//
// Options.Elicit answers servers' elicitation requests (the SDK fills in the
// requested schema's defaults, SEP-1034); without it the capability is not
// advertised. Credentials that can answer a 401 by themselves (a DPoP server
// nonce) implement ChallengeAnswerer: the request is then sent once more.
// Tool input schemas reach the agent as the server sent them: no $ref is
// dereferenced and no JSON Schema keyword is dropped.
//
// HTTP 401 and 403 answers are surfaced as *HTTPStatusError (matching
// ErrUnauthorized or ErrForbidden) carrying the WWW-Authenticate challenge,
// which the OAuth layer uses to start an authorisation flow.
package mcp
