// Package web embeds the small chat page that `ai-agent demo` serves. It
// speaks the same WebSocket frames as the Rancher AI UI, including the OAuth
// popup handshake (BroadcastChannel "oauth_channel"), so the demo shows the
// real protocol end to end.
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
