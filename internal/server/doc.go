// Package server holds the HTTP surface: the /v1/api/* routes, the
// /v1/ws/messages WebSocket, and the middleware around them (user
// resolution, the Rancher service-proxy prefix, logging, panics).
//
// The WebSocket handler (ws.go) is where a connection starts: it resolves
// the user, opens the chat, builds an agent.Session and hands the socket to
// chat.Conn, which turns frames into turns. session.go bounds the open
// sockets of each user and checks the user again before each turn, so a
// session Rancher revoked stops working on an open socket too.
package server
