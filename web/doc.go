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
// that agent in the chat so that the usual sign-in card opens. Handler
// serves them under a Content-Security-Policy that allows no other
// origin's images, media, scripts or connections.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the page and its assets with a Content-Security-Policy
// (CSP Level 3) that is the second line behind package modeltext: the page
// loads scripts, styles, images and media from its own origin only, plus
// images and media from mediaHosts (ALLOWED_MEDIA_HOSTS, "host" or
// "host:port"), connects only to its own origin (the REST calls and the
// chat WebSocket), embeds nothing and cannot be framed. So even an image
// tag that reached the DOM could not make the browser fetch another
// origin's URL (an exfiltration channel for a poisoned answer).
func Handler(mediaHosts ...string) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	csp := ContentSecurityPolicy(mediaHosts...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}

// ContentSecurityPolicy is the page's policy: its own origin only, and
// images and media also from mediaHosts.
func ContentSecurityPolicy(mediaHosts ...string) string {
	media := "'self'"
	for _, h := range mediaHosts {
		if h = strings.TrimSpace(h); h != "" && !strings.ContainsAny(h, " ;,'\"") {
			media += " " + h
		}
	}
	return "default-src 'self'; img-src " + media + " data:; media-src " + media +
		"; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
