// Package chattest is the browser's side of a chat WebSocket
// (spec/ui-protocol.md) for tests: dial with the handshake headers a
// browser sends, send frames, read frames up to a given one, decode
// <chat-metadata>. Every failure fails the test; the connection closes when
// the test ends.
package chattest
