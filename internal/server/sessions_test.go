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

// TestRevokedSessionEndsTheOpenSocket: a session Rancher no longer knows
// stops working on an open socket as it does for REST, within the user
// cache's lifetime; a Rancher that cannot answer costs a turn, not the chat.
func TestRevokedSessionEndsTheOpenSocket(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	c := e.dial("/v1/ws/messages/rev", "tok-alice")
	c.Metadata()
	bob := e.dial("/v1/ws/messages/rev-bob", "tok-bob")
	bob.Metadata()
	e.model.Push(llm.TextEntry("first"))
	c.Send(prompt("hi"))
	equalFrames(t, c.Turn(), []string{"<message>", "first", "</message>"})

	// Rancher cannot answer: this turn is refused, the chat stays.
	e.setRancherDown(true)
	e.advanceUsers(pastUserCache)
	c.Send(prompt("while rancher is down"))
	equalFrames(t, c.Turn(), []string{"<message>", `<error>{"message":"Could not check your Rancher session; try again in a moment."}</error>`, "</message>"})
	e.setRancherDown(false)

	// The user logs out of Rancher. Within the cache lifetime the session
	// is still trusted, by REST and by the socket alike.
	e.model.Push(llm.TextEntry("second"))
	c.Send(prompt("again"))
	equalFrames(t, c.Turn(), []string{"<message>", "second", "</message>"})
	e.revoke("tok-alice")
	if code := e.status("/v1/api/settings", "tok-alice"); code != http.StatusOK {
		t.Fatalf("settings within the cache lifetime = %d", code)
	}
	e.model.Push(llm.TextEntry("still cached"))
	c.Send(prompt("cached"))
	equalFrames(t, c.Turn(), []string{"<message>", "still cached", "</message>"})

	// Past it, Rancher is asked again: REST is refused, and so is the next turn.
	e.advanceUsers(pastUserCache)
	if code := e.status("/v1/api/settings", "tok-alice"); code != http.StatusUnauthorized {
		t.Fatalf("settings after logout = %d", code)
	}
	calls := len(e.model.Requests())
	c.Send(prompt("after logout"))
	if f := c.Read(); f != `<chat-error>{"message":"Your Rancher session has ended. Log in to Rancher again to keep chatting."}</chat-error>` {
		t.Fatalf("after logout got %q", f)
	}
	if s := c.Closed(); s != websocket.StatusNormalClosure {
		t.Fatalf("close status %v", s)
	}
	if n := len(e.model.Requests()); n != calls {
		t.Fatalf("the model was called for a refused turn (%d calls, want %d)", n, calls)
	}
	// Bob's session is his own.
	e.model.Push(llm.TextEntry("hi bob"))
	bob.Send(prompt("hi"))
	equalFrames(t, bob.Turn(), []string{"<message>", "hi bob", "</message>"})
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
	c.Metadata()
	c.Send(prompt("go slow"))
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame = %q", f)
	}
	<-ms.slowStarted
	c.Send(prompt("queued"))
	c.Send(prompt("over the limit 1"))
	c.Send(prompt("over the limit 2"))
	e.model.Push(llm.TextEntry("queued answer"))
	c.Send("<stop>")
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after stop got %q, want </message>", f)
	}
	refused := []string{"<message>", `<error>{"message":"Too many messages are waiting (at most 1): this one was not processed. Send it again when the answers have arrived."}</error>`, "</message>"}
	equalFrames(t, c.Turn(), refused)
	equalFrames(t, c.Turn(), refused)
	equalFrames(t, c.Turn(), []string{"<message>", "queued answer", "</message>"})
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
	a1.Metadata()
	a2 := e.dial("/v1/ws/messages/cap-2", "tok-alice")
	a2.Metadata()
	a3 := e.dial("/v1/ws/messages/cap-3", "tok-alice")
	if f := a3.Read(); f != `<chat-error>{"message":"Too many open chats: at most 2 at a time per user. Close another chat window and try again."}</chat-error>` {
		t.Fatalf("third socket got %q", f)
	}
	if s := a3.Closed(); s != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", s)
	}
	// The refused socket opened no chat.
	if _, err := e.store.Chat(context.Background(), "cap-3", "u-alice"); err == nil {
		t.Fatal("the refused socket created a chat")
	}
	b := e.dial("/v1/ws/messages/cap-bob", "tok-bob")
	b.Metadata()
	// The first two still work; closing one frees a place.
	e.model.Push(llm.TextEntry("ok"))
	a2.Send(prompt("hi"))
	equalFrames(t, a2.Turn(), []string{"<message>", "ok", "</message>"})
	a1.WS.Close(websocket.StatusNormalClosure, "")
	// The place is freed when the server has finished with the socket,
	// just after the close handshake: each attempt is a new handshake.
	for attempt := 1; ; attempt++ {
		c := e.dial("/v1/ws/messages/cap-4", "tok-alice")
		f := c.Read()
		if strings.HasPrefix(f, "<chat-metadata>") {
			break
		}
		c.WS.CloseNow()
		if attempt == 100 {
			t.Fatalf("no place after a close: %q", f)
		}
	}
}
