package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/demo"
)

// demoOAuth is the demo's authorization server (dynamic registration, PKCE,
// rotating refresh tokens) and its notes MCP server (go-sdk, checking the
// server's tokens) on loopback, with faults injected in front of them: the
// token endpoint fails for one grant type, and the notes server refuses
// the tokens issued so far (401, as after a revocation).
type demoOAuth struct {
	mcpURL string

	mu      sync.Mutex
	fault   map[string]string // grant_type -> "500", "html", "invalid_grant"
	grants  map[string]int    // token requests per grant_type
	issued  []string          // every access and refresh token and code
	revoked map[string]bool   // access tokens the notes server refuses
}

func startDemoOAuth(t *testing.T) *demoOAuth {
	d := &demoOAuth{fault: map[string]string{}, grants: map[string]int{}, revoked: map[string]bool{}}
	var as *demo.AuthServer
	var asHandler http.Handler
	asSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.authServer(asHandler, w, r) }))
	t.Cleanup(asSrv.Close)
	as = demo.NewAuthServer(asSrv.URL, time.Hour)
	asHandler = as.Handler()
	var notes http.Handler
	mcpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		d.mu.Lock()
		refused := d.revoked[tok]
		d.mu.Unlock()
		if refused {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="http://`+r.Host+`/.well-known/oauth-protected-resource/mcp"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		notes.ServeHTTP(w, r)
	}))
	t.Cleanup(mcpSrv.Close)
	notes = demo.NotesHandler(as, mcpSrv.URL)
	d.mcpURL = mcpSrv.URL + "/mcp"
	return d
}

// authServer serves the demo authorization server, failing token requests
// as d.fault says and recording what it issues.
func (d *demoOAuth) authServer(as http.Handler, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		if loc := serveRecorded(as, w, r).Header().Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				d.record(u.Query().Get("code"))
			}
		}
		return
	}
	_ = r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	d.mu.Lock()
	d.grants[grant]++
	fault := d.fault[grant]
	d.mu.Unlock()
	switch fault {
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":"server_error"}`)
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Sign in to the corporate proxy</body></html>")
		return
	case "invalid_grant":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"grant revoked"}`)
		return
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(serveRecorded(as, w, r).Body.Bytes(), &tok)
	d.record(tok.AccessToken, tok.RefreshToken)
}

// serveRecorded serves r with h, passes the answer on to w and returns it.
func serveRecorded(h http.Handler, w http.ResponseWriter, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	return rec
}

func (d *demoOAuth) record(secrets ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			d.issued = append(d.issued, s)
		}
	}
}

func (d *demoOAuth) setFault(grant, fault string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fault[grant] = fault
}

func (d *demoOAuth) requests(grant string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.grants[grant]
}

// revokeAll makes the notes server refuse every token issued so far.
func (d *demoOAuth) revokeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.issued {
		d.revoked[s] = true
	}
}

func (d *demoOAuth) secrets() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.issued)
}

// approve plays the user on the demo authorization page: it allows the
// request as user and returns the redirect to our callback.
func (d *demoOAuth) approve(t *testing.T, authURL, user string) string {
	t.Helper()
	if code, _ := getPage(t, authURL); code != http.StatusOK {
		t.Fatalf("authorization page: HTTP %d", code)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("user", user)
	form.Set("decision", "allow")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(u.Scheme+"://"+u.Host+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: HTTP %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// signIn completes an <authentication> frame: approval, the callback page
// (which must say it signed in), authentication_confirmed.
func (d *demoOAuth) signIn(t *testing.T, c *chattest.Client, frame, user string) {
	t.Helper()
	if code, page := getPage(t, d.approve(t, authURL(t, frame), user)); code != http.StatusOK || !strings.Contains(page, "oauth_success") {
		t.Fatalf("callback: HTTP %d %s", code, page)
	}
	c.Send("authentication_confirmed")
}

const (
	whoamiPush   = `{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["You are alice."]}}`
	whoamiResult = "You are signed in to the notes server as alice."
	// exchangeFailed is the callback page's text when the code exchange fails.
	exchangeFailed = "The authorization server did not issue a token. Close this window and try again."
)

// TestFaultTokenEndpointCodeExchange: the token endpoint answers 500, or
// an HTML page, to the code exchange of the callback. The popup shows that
// the authorization server issued no token (and nothing secret); the UI
// then reports the popup closed (authentication_canceled) and the sign-in
// message ends quietly. The user's next prompt asks to sign in again, once;
// that sign-in works and the same turn answers. History keeps the prompt
// and the answer, the thread has no dangling tool call, and no frame holds
// a token or code.
func TestFaultTokenEndpointCodeExchange(t *testing.T) {
	for _, fault := range []string{"500", "html"} {
		t.Run(fault, func(t *testing.T) {
			d := startDemoOAuth(t)
			f := startFaultServe(t, ghConfig(t, d.mcpURL, ""), nil)
			c := f.dial(t, "exchange-"+fault)
			c.Read()
			frames := c.UntilPrefix("<authentication>")
			d.setFault("authorization_code", fault)
			code, page := getPage(t, d.approve(t, authURL(t, frames[len(frames)-1]), "alice"))
			t.Logf("callback page: HTTP %d %q", code, exchangeFailed)
			if code != http.StatusBadGateway || !strings.Contains(page, exchangeFailed) || strings.Contains(page, "oauth_success") {
				t.Fatalf("callback page: HTTP %d %s", code, page)
			}
			c.Send("authentication_canceled")
			frames = append(frames, c.UntilPrefix("</message>")...)
			if strings.Join(frames, "|") != "<message>|"+frames[1]+"|</message>" {
				t.Fatalf("sign-in message %q", frames)
			}

			d.setFault("authorization_code", "")
			push(t, f.addr, whoamiPush)
			c.Send(`{"prompt":"who am I?","context":{}}`)
			turn := c.UntilPrefix("<authentication>")
			if len(turn) != 2 || turn[0] != "<message>" {
				t.Fatalf("frames %q, want <message> and one <authentication>", turn)
			}
			d.signIn(t, c, turn[1], "alice")
			turn = append(turn, c.UntilPrefix("</message>")...)
			if got := strings.Join(turn[2:], "|"); got != "You are alice.|</message>" {
				t.Fatalf("after the second sign-in: %q", turn)
			}
			if n := d.requests("authorization_code"); n != 2 {
				t.Errorf("%d code exchanges, want 2 (the failed one, the good one)", n)
			}
			if h := strings.Join(f.history(t, "exchange-"+fault), "|"); h != "user:who am I?|agent:You are alice." {
				t.Errorf("history %q", h)
			}
			noSecrets(t, append(append(frames, turn...), page), d.secrets()...)
			if res := toolResults(f.thread(t, "exchange-"+fault)); !slices.Equal(res, []string{whoamiResult}) {
				t.Errorf("tool results %q", res)
			}
		})
	}
}

// TestFaultTokenEndpointRefresh: signed in, the MCP server refuses the
// token (401) in the middle of a turn, and the token endpoint answers the
// refresh with 500, an HTML page, or invalid_grant. The agent tries the
// refresh once, then asks the user to sign in, once, in the same turn (no
// error, no loop); after it, the tool call is retried and the turn
// answers. History, the thread and the frames are as above.
func TestFaultTokenEndpointRefresh(t *testing.T) {
	for _, fault := range []string{"500", "html", "invalid_grant"} {
		t.Run(fault, func(t *testing.T) {
			d := startDemoOAuth(t)
			f := startFaultServe(t, ghConfig(t, d.mcpURL, ""), nil)
			id := "refresh-" + fault
			c := f.dial(t, id)
			c.Read()
			frames := c.UntilPrefix("<authentication>")
			d.signIn(t, c, frames[len(frames)-1], "alice")
			frames = append(frames, c.UntilPrefix("</message>")...)
			push(t, f.addr, whoamiPush)
			turn := c.Ask(`{"prompt":"who am I?","context":{}}`)
			if strings.Join(turn, "|") != "<message>|You are alice.|</message>" {
				t.Fatalf("first turn %q", turn)
			}

			d.revokeAll()
			d.setFault("refresh_token", fault)
			push(t, f.addr, whoamiPush)
			c.Send(`{"prompt":"and now?","context":{}}`)
			second := c.UntilPrefix("<authentication>")
			t.Logf("refresh %s: %q", fault, second[:len(second)-1])
			if len(second) != 2 || second[0] != "<message>" {
				t.Fatalf("frames %q, want <message> and one <authentication>", second)
			}
			if n := d.requests("refresh_token"); n < 1 {
				t.Errorf("no refresh was tried before asking to sign in")
			}
			d.signIn(t, c, second[1], "alice")
			second = append(second, c.UntilPrefix("</message>")...)
			if got := strings.Join(second[2:], "|"); got != "You are alice.|</message>" {
				t.Fatalf("after the sign-in: %q", second)
			}
			if h := strings.Join(f.history(t, id), "|"); h != "user:who am I?|agent:You are alice.|user:and now?|agent:You are alice." {
				t.Errorf("history %q", h)
			}
			noSecrets(t, slices.Concat(frames, turn, second), d.secrets()...)
			if res := toolResults(f.thread(t, id)); !slices.Equal(res, []string{whoamiResult, whoamiResult}) {
				t.Errorf("tool results %q", res)
			}
		})
	}
}
