package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/server"
)

// pastUserCache is more than the user resolver's cache lifetime (30s).
const pastUserCache = 31 * time.Second

func (e *env) status(path, token string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	req.Header.Set("Cookie", "R_SESS="+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closed reads until the server closes the socket and returns the status.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 {
				return s
			}
			c.t.Fatalf("read: %v, want a close", err)
		}
		c.t.Fatalf("frame %q, want a close", b)
	}
}

// TestRevokedSessionEndsTheOpenSocket: a session Rancher no longer knows
// stops working on an open socket as it does for REST, within the user
// cache's lifetime; a Rancher that cannot answer costs a turn, not the chat.
func TestRevokedSessionEndsTheOpenSocket(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	c := e.dial("/v1/ws/messages/rev", "tok-alice")
	c.metadata()
	bob := e.dial("/v1/ws/messages/rev-bob", "tok-bob")
	bob.metadata()
	e.model.Push(llm.TextEntry("first"))
	c.send(prompt("hi"))
	equalFrames(t, c.turn(), []string{"<message>", "first", "</message>"})

	// Rancher cannot answer: this turn is refused, the chat stays.
	e.setRancherDown(true)
	e.advanceUsers(pastUserCache)
	c.send(prompt("while rancher is down"))
	equalFrames(t, c.turn(), []string{"<message>", `<error>{"message":"Could not check your Rancher session; try again in a moment."}</error>`, "</message>"})
	e.setRancherDown(false)

	// The user logs out of Rancher. Within the cache lifetime the session
	// is still trusted, by REST and by the socket alike.
	e.model.Push(llm.TextEntry("second"))
	c.send(prompt("again"))
	equalFrames(t, c.turn(), []string{"<message>", "second", "</message>"})
	e.revoke("tok-alice")
	if code := e.status("/v1/api/settings", "tok-alice"); code != http.StatusOK {
		t.Fatalf("settings within the cache lifetime = %d", code)
	}
	e.model.Push(llm.TextEntry("still cached"))
	c.send(prompt("cached"))
	equalFrames(t, c.turn(), []string{"<message>", "still cached", "</message>"})

	// Past it, Rancher is asked again: REST is refused, and so is the next turn.
	e.advanceUsers(pastUserCache)
	if code := e.status("/v1/api/settings", "tok-alice"); code != http.StatusUnauthorized {
		t.Fatalf("settings after logout = %d", code)
	}
	calls := len(e.model.Requests())
	c.send(prompt("after logout"))
	if f := c.read(); f != `<chat-error>{"message":"Your Rancher session has ended. Log in to Rancher again to keep chatting."}</chat-error>` {
		t.Fatalf("after logout got %q", f)
	}
	if s := c.closed(); s != websocket.StatusNormalClosure {
		t.Fatalf("close status %v", s)
	}
	if n := len(e.model.Requests()); n != calls {
		t.Fatalf("the model was called for a refused turn (%d calls, want %d)", n, calls)
	}
	// Bob's session is his own.
	e.model.Push(llm.TextEntry("hi bob"))
	bob.send(prompt("hi"))
	equalFrames(t, bob.turn(), []string{"<message>", "hi bob", "</message>"})
	if _, err := e.dialErr("/v1/ws/messages/rev", "tok-alice"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("reconnect after logout: %v", err)
	}
}

// TestPromptOverAFullQueueIsAnswered: prompts beyond the queue are refused
// with an error message of their own once the running turn is over; the
// queued ones still run, in order.
func TestPromptOverAFullQueueIsAnswered(t *testing.T) {
	ms := startMath(t)
	e := newEnvOpts(t, func(o *server.Options) { o.Conn.QueueSize = 1 }, newAgent("math", ms.url()))
	e.model.Push(call("slow", `{}`))
	c := e.dial("/v1/ws/messages/full", "tok-alice")
	c.metadata()
	c.send(prompt("go slow"))
	if f := c.read(); f != "<message>" {
		t.Fatalf("frame = %q", f)
	}
	<-ms.slowStarted
	c.send(prompt("queued"))
	c.send(prompt("over the limit 1"))
	c.send(prompt("over the limit 2"))
	e.model.Push(llm.TextEntry("queued answer"))
	c.send("<stop>")
	if f := c.read(); f != "</message>" {
		t.Fatalf("after stop got %q, want </message>", f)
	}
	refused := []string{"<message>", `<error>{"message":"Too many messages are waiting (at most 1): this one was not processed. Send it again when the answers have arrived."}</error>`, "</message>"}
	equalFrames(t, c.turn(), refused)
	equalFrames(t, c.turn(), refused)
	equalFrames(t, c.turn(), []string{"<message>", "queued answer", "</message>"})
	reqs := e.model.Requests()
	if len(reqs) != 2 {
		t.Fatalf("model calls = %d, want 2", len(reqs))
	}
	for _, m := range reqs[1].Messages {
		if strings.Contains(m.Content, "over the limit") {
			t.Fatalf("a refused prompt reached the model: %q", m.Content)
		}
	}
}

// TestOpenChatsPerUserAreBounded: the socket over MaxChatsPerUser is
// refused with <chat-error>; other users are not counted against it, and a
// closed socket frees its place.
func TestOpenChatsPerUserAreBounded(t *testing.T) {
	ms := startMath(t)
	e := newEnvOpts(t, func(o *server.Options) { o.MaxChatsPerUser = 2 }, newAgent("math", ms.url()))
	a1 := e.dial("/v1/ws/messages/cap-1", "tok-alice")
	a1.metadata()
	a2 := e.dial("/v1/ws/messages/cap-2", "tok-alice")
	a2.metadata()
	a3 := e.dial("/v1/ws/messages/cap-3", "tok-alice")
	if f := a3.read(); f != `<chat-error>{"message":"Too many open chats: at most 2 at a time per user. Close another chat window and try again."}</chat-error>` {
		t.Fatalf("third socket got %q", f)
	}
	if s := a3.closed(); s != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", s)
	}
	// The refused socket opened no chat.
	if _, err := e.store.Chat(context.Background(), "cap-3", "u-alice"); err == nil {
		t.Fatal("the refused socket created a chat")
	}
	b := e.dial("/v1/ws/messages/cap-bob", "tok-bob")
	b.metadata()
	// The first two still work; closing one frees a place.
	e.model.Push(llm.TextEntry("ok"))
	a2.send(prompt("hi"))
	equalFrames(t, a2.turn(), []string{"<message>", "ok", "</message>"})
	a1.ws.Close(websocket.StatusNormalClosure, "")
	// The place is freed when the server has finished with the socket,
	// just after the close handshake: each attempt is a new handshake.
	for attempt := 1; ; attempt++ {
		c := e.dial("/v1/ws/messages/cap-4", "tok-alice")
		f := c.read()
		if strings.HasPrefix(f, "<chat-metadata>") {
			break
		}
		c.ws.CloseNow()
		if attempt == 100 {
			t.Fatalf("no place after a close: %q", f)
		}
	}
}
