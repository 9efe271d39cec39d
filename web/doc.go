// Package web embeds the chat page that `ai-agent demo` serves: plain
// files with no build step (static/index.html, chat.css, chat.js and
// markdown.js, a small Markdown renderer of ours that builds DOM nodes, so
// no HTML from the model reaches the page). It speaks the same WebSocket
// frames and REST calls as the Rancher AI UI (shared spec ui-protocol.md):
// the chat list and history, the agent picker, <think> sections, sub-agent
// status, resource buttons and source links, the human-validation card and
// the OAuth sign-in card with its popup handshake (BroadcastChannel
// "oauth_channel"), so the demo shows the real protocol end to end.
// connections.js (with connections.css) adds the Connections panel: each
// OAuth2 agent's status from GET /v1/api/oauth2/connections, Sign out
// through DELETE /v1/api/oauth2/connections/{agent}, and Sign in, which asks
// that agent in the chat so that the usual sign-in card opens.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page and its assets.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServerFS(sub)
}
