package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
)

// callbackPage is the popup's page. On success its script posts
// {type:'oauth_success'} on BroadcastChannel "oauth_channel" (the Rancher AI
// UI listens there; it never reads anything from the page) and closes the
// window a moment later, so the message is delivered before the UI sees the
// popup closed. On failure (the user denied access, the authorization
// server failed, the sign-in expired) it shows a safe message and posts
// {type:'oauth_failure', message} there, so that the page that opened it
// ends its sign-in card at once (the Rancher AI UI ignores other types).
var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;margin:3rem;color:#222}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Success}}<script nonce="{{.Nonce}}">
try { const c = new BroadcastChannel('oauth_channel'); c.postMessage({type: 'oauth_success'}); c.close(); } catch (e) {}
setTimeout(function () { window.close(); }, 300);
</script>{{else}}<script nonce="{{.Nonce}}">
try { const c = new BroadcastChannel('oauth_channel'); c.postMessage({type: 'oauth_failure', message: {{.Message}}}); c.close(); } catch (e) {}
</script>{{end}}
</body></html>
`))

type pageData struct {
	Title, Message, Nonce string
	Success               bool
}

// writePage renders the callback page. Messages are fixed texts, never an
// error string or anything from the request.
func writePage(w http.ResponseWriter, code int, success bool, title, msg string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	nonce := base64.RawStdEncoding.EncodeToString(b[:])
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_ = callbackPage.Execute(w, pageData{Title: title, Message: msg, Nonce: nonce, Success: success})
}
