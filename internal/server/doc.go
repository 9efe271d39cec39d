// Package server holds the HTTP surface: the /v1/api/* routes, the
// /v1/ws/messages WebSocket, and the middleware around them (user
// resolution in front of the chat routes and the OAuth JSON routes; the
// WebSocket route resolves the user in ws.go and again before each turn
// in session.go —, the Rancher service-proxy prefix of package httpapi, logging,
// panics). oauthuser.go gives the OAuth endpoints the user. guard.go
// holds the trust-boundary middleware: checkBrowser (allowed origins,
// Sec-Fetch-Site, JSON bodies) and guardFetch (only users who may configure
// agents make the agent fetch a URL they name). agents.go is GET
// /v1/api/agents, the administrators' list of agents with the status of
// their configuration; health and readiness stay 200 when an agent is
// broken, since the others work.
//
// The WebSocket handler (ws.go) is where a connection starts: it resolves
// the user, opens the chat, builds an agent.Session and hands the socket to
// chat.Conn, which turns frames into turns. session.go bounds the open
// sockets of each user and checks the user again before each turn, so a
// session Rancher revoked stops working on an open socket too.
package server
