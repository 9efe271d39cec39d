// Package server holds the HTTP surface: the /v1/api/* routes, the
// /v1/ws/messages WebSocket, and the middleware around them (the Rancher
// service-proxy prefix of package httpapi, the principal, logging, panics).
//
// principal.go resolves the Rancher user of a request in one middleware,
// withPrincipal, lazily and at most once per request, into the request's
// context (UserFrom): every route reads it there, the WebSocket included.
// The user is resolved once more only to re-check an open socket before
// each turn (session.go), so that a session Rancher revoked stops working
// on an open socket too.
//
// Route policy belongs to each route's owner: a handler is wrapped with the
// guards of package guard (same-site, signed in, administrator) where the
// route is defined (server.go's own routes, package oauth's endpoints, the
// model list and settings routes of cmd/ai-agent), and the server mounts
// handlers as they come (Options.Routes), keeping no pattern list. guard.go
// holds the checks those guards run: allowed origins, Sec-Fetch-Site and
// JSON bodies (SameSite), a user (SignedIn), a user who may configure
// agents (Admin). Routes lists what is mounted, for the audit test.
//
// oauthuser.go and oauthagent.go are the seam to package oauth: OAuthUser
// gives the OAuth endpoints the user, and OAuthAgent adapts the OAuth
// service to the agent's CredentialProvider and Authenticator, with what
// OAuth needs of the WebSocket request (its host and cookies), so that
// package agent carries no HTTP. agents.go is GET /v1/api/agents, the
// administrators' list of agents with the status of their configuration;
// health and readiness stay 200 when an agent is broken, since the others
// work.
//
// The WebSocket handler (ws.go) is where a connection starts: it takes the
// principal, opens the chat, builds an agent.Session and hands the socket
// to chat.Conn, which turns frames into turns. session.go bounds the open
// sockets of each user and checks the user again before each turn.
package server
