package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/internal/demo"
)

// flakyMCP is the demo's go-sdk MCP server behind a listener the test
// controls: it can drop the connection of the next tools/call requests
// (after reading them, before any answer), and restart as a new server on
// the same address, which knows none of the old sessions.
type flakyMCP struct {
	t    *testing.T
	addr string

	mu    sync.Mutex
	drops int // tools/call requests still to drop
	srv   *http.Server
	// sessions counts the initialize requests (new sessions).
	sessions int
	calls    int
	// held, when set, receives each tools/call, which then waits until
	// release is closed.
	held    chan struct{}
	release chan struct{}
}

func startFlakyMCP(t *testing.T) *flakyMCP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyMCP{t: t, addr: ln.Addr().String()}
	f.serve(ln)
	t.Cleanup(func() { f.server().Close() })
	return f
}

func (f *flakyMCP) url() string { return "http://" + f.addr + "/mcp" }

func (f *flakyMCP) server() *http.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.srv
}

// serve starts a new go-sdk server (no sessions) on ln.
func (f *flakyMCP) serve(ln net.Listener) {
	s := demo.NewMCPServer()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		drop := false
		switch {
		case bytes.Contains(body, []byte(`"method":"initialize"`)):
			f.sessions++
		case bytes.Contains(body, []byte(`"method":"tools/call"`)):
			f.calls++
			if f.drops > 0 {
				f.drops--
				drop = true
			}
		}
		held, release := f.held, f.release
		f.mu.Unlock()
		if drop {
			hijackClose(f.t, w)
			return
		}
		if held != nil && bytes.Contains(body, []byte(`"method":"tools/call"`)) {
			held <- struct{}{}
			<-release
		}
		h.ServeHTTP(w, r)
	})}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// restart closes the server and starts a new one on the same address.
func (f *flakyMCP) restart() {
	f.t.Helper()
	if err := f.server().Close(); err != nil {
		f.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatalf("listen again on %s: %v", f.addr, err)
	}
	f.serve(ln)
}

func (f *flakyMCP) drop(n int) { f.mu.Lock(); f.drops = n; f.mu.Unlock() }

// hold makes the next tools/call wait: the returned channel receives it
// when it arrives, and release lets it (and every later one) go on.
func (f *flakyMCP) hold() (arrived <-chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held, f.release = make(chan struct{}, 1), make(chan struct{})
	held, rel := f.held, f.release
	return held, func() {
		f.mu.Lock()
		f.held = nil
		f.mu.Unlock()
		close(rel)
	}
}

func (f *flakyMCP) counts() (sessions, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions, f.calls
}

// noneConfig writes a config with one NONE agent "cluster" on mcpURL.
func noneConfig(t *testing.T, mcpURL string) string {
	return writeConfig(t, fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: cluster}\nspec:\n  displayName: Cluster\n  mcpURL: %s\n  authenticationType: NONE\n", mcpURL))
}

const addPush = `{"mcpTool":{"name":"add","args":{"a":2,"b":3}},"text":{"chunks":["Done."]}}`

// TestFaultMCPDropsConnectionMidCall: the MCP server reads a tools/call and
// drops the connection without answering. Once: the agent opens a new
// session and retries, and the user gets the answer as if nothing
// happened. Every time: the call's result tells the model what failed
// (the user's answer is the model's), the turn ends normally, and the next
// turn works. History and the thread stay whole.
func TestFaultMCPDropsConnectionMidCall(t *testing.T) {
	m := startFlakyMCP(t)
	f := startFaultServe(t, noneConfig(t, m.url()), nil)
	c := f.dial(t, "mcp-drop")
	c.Read()

	m.drop(1)
	push(t, f.addr, addPush)
	if got := strings.Join(c.Ask(`{"prompt":"add 2 and 3","context":{}}`), "|"); got != "<message>|Done.|</message>" {
		t.Fatalf("dropped once: %q", got)
	}
	if s, n := m.counts(); s != 2 || n != 2 {
		t.Errorf("%d sessions and %d calls, want a new session and one retry", s, n)
	}

	m.drop(2)
	push(t, f.addr, addPush)
	if got := strings.Join(c.Ask(`{"prompt":"add 2 and 3 again","context":{}}`), "|"); got != "<message>|Done.|</message>" {
		t.Fatalf("dropped twice: %q", got)
	}
	push(t, f.addr, addPush)
	if got := strings.Join(c.Ask(`{"prompt":"and once more","context":{}}`), "|"); got != "<message>|Done.|</message>" {
		t.Fatalf("after the drops: %q", got)
	}
	if h := strings.Join(f.history(t, "mcp-drop"), "|"); h != "user:add 2 and 3|agent:Done.|user:add 2 and 3 again|agent:Done.|user:and once more|agent:Done." {
		t.Errorf("history %q", h)
	}
	res := toolResults(f.thread(t, "mcp-drop"))
	t.Logf("tool results: %q", res)
	if len(res) != 3 || res[0] != "The sum of 2 and 3 is 5." || res[2] != res[0] ||
		res[1] != `Error: the MCP server of agent "cluster" cannot be reached right now; tool "add" did not run.` {
		t.Errorf("tool results %q", res)
	}
}

// TestFaultMCPRestartsWithoutSessions: the MCP server restarts on the same
// address and knows none of the old sessions (404 for the session id). The
// agent initializes a new session once and retries the call; the user
// sees the answer.
func TestFaultMCPRestartsWithoutSessions(t *testing.T) {
	m := startFlakyMCP(t)
	f := startFaultServe(t, noneConfig(t, m.url()), nil)
	c := f.dial(t, "mcp-restart")
	c.Read()
	push(t, f.addr, addPush)
	c.Ask(`{"prompt":"add 2 and 3","context":{}}`)

	m.restart()
	push(t, f.addr, addPush)
	if got := strings.Join(c.Ask(`{"prompt":"add 2 and 3 again","context":{}}`), "|"); got != "<message>|Done.|</message>" {
		t.Fatalf("after the restart: %q", got)
	}
	// The new server saw one initialize (the new session) and the call.
	if s, n := m.counts(); s != 2 || n < 2 {
		t.Errorf("%d sessions and %d calls, want the old and one new session", s, n)
	}
	if h := strings.Join(f.history(t, "mcp-restart"), "|"); h != "user:add 2 and 3|agent:Done.|user:add 2 and 3 again|agent:Done." {
		t.Errorf("history %q", h)
	}
	if res := toolResults(f.thread(t, "mcp-restart")); !slices.Equal(res, []string{"The sum of 2 and 3 is 5.", "The sum of 2 and 3 is 5."}) {
		t.Errorf("tool results %q", res)
	}
}

// TestFaultMCPUnauthorizedAfterRevocation: signed in, the token is revoked:
// the MCP server answers 401 and the authorization server refuses the
// refresh token (invalid_grant). The tool call asks the user to sign in;
// dismissed, the call's result says so (no dangling call) and the turn
// ends; the next turn asks again, and after the sign-in the call runs.
func TestFaultMCPUnauthorizedAfterRevocation(t *testing.T) {
	d := startDemoOAuth(t)
	f := startFaultServe(t, ghConfig(t, d.mcpURL, ""), nil)
	c := f.dial(t, "revoked")
	c.Read()
	d.signIn(t, c, c.UntilPrefix("<authentication>")[1], "alice")
	c.UntilPrefix("</message>")

	d.revokeAll()
	d.setFault("refresh_token", "invalid_grant")
	push(t, f.addr, `{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["I could not ask the notes server."]}}`)
	c.Send(`{"prompt":"who am I?","context":{}}`)
	first := c.UntilPrefix("<authentication>")
	c.Send("authentication_canceled")
	first = append(first, c.UntilPrefix("</message>")...)
	t.Logf("sign-in dismissed: %q", first[2:])
	if len(first) != 4 || first[0] != "<message>" || first[2] != "I could not ask the notes server." {
		t.Fatalf("frames %q", first)
	}

	push(t, f.addr, whoamiPush)
	c.Send(`{"prompt":"who am I, then?","context":{}}`)
	second := c.UntilPrefix("<authentication>")
	d.signIn(t, c, second[len(second)-1], "alice")
	second = append(second, c.UntilPrefix("</message>")...)
	if got := strings.Join(second, "|"); !strings.HasPrefix(got, "<message>|<authentication>") || !strings.HasSuffix(got, "|You are alice.|</message>") || len(second) != 4 {
		t.Fatalf("second turn %q", second)
	}
	if h := strings.Join(f.history(t, "revoked"), "|"); h != "user:who am I?|agent:I could not ask the notes server.|user:who am I, then?|agent:You are alice." {
		t.Errorf("history %q", h)
	}
	noSecrets(t, slices.Concat(first, second), d.secrets()...)
	res := toolResults(f.thread(t, "revoked"))
	t.Logf("tool results: %q", res)
	if len(res) != 2 || res[0] != `Error: the user canceled the sign-in for agent "gh", so tool "whoami" did not run.` || res[1] != whoamiResult {
		t.Errorf("tool results %q", res)
	}
}
