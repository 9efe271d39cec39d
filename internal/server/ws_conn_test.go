package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/llm"
)

func TestMCPServerDown(t *testing.T) {
	ms := startMath(t)
	down := "http://127.0.0.1:1/mcp"
	e := newEnv(t, newAgent("math", ms.url()), newAgent("broken", down))
	e.model.Push(llm.TextEntry("ok"))
	c := e.dial("/v1/ws/messages", "tok-alice")
	md := c.Metadata()
	ag := md["agents"].([]any)
	// A server that refuses connections is an outage: unknown, with a
	// sentence, not error.
	if ag[0].(map[string]any)["status"] != "active" || ag[1].(map[string]any)["status"] != "unknown" ||
		ag[1].(map[string]any)["description"] != `Agent "broken" cannot reach its MCP server right now; try again later, and tell the administrator if it persists.` {
		t.Fatalf("agents = %v", ag)
	}
	// Only one agent works: it is used directly.
	c.Send(prompt("hi"))
	equalFrames(t, c.Turn(), []string{"<message>", "ok", "</message>"})

	*e.source = agentconfig.StaticSource{newAgent("broken", down)}
	c2 := e.dial("/v1/ws/messages", "tok-alice")
	f := c2.Read()
	if f != `<chat-error>{"message":"Agent \"broken\" cannot reach its MCP server right now; try again later, and tell the administrator if it persists."}</chat-error>` {
		t.Fatalf("frame = %q", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c2.WS.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("want normal close after chat-error, got %v", err)
	}
}

func TestMalformedFramesKeepTheConnection(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(`{"prompt": 5}`)
	got := c.Turn()
	const unreadable = `<error>{"message":"This message could not be read (it is not a prompt the agent understands); reload the page and send it again."}</error>`
	if len(got) != 3 || got[1] != unreadable {
		t.Fatalf("frames = %q", got)
	}
	c.Send(`{"context":{}}`)
	if got := c.Turn(); got[1] != unreadable {
		t.Fatalf("frames = %q", got)
	}
	// Stray OAuth replies are not prompts; a plain-text prompt still works.
	c.Send("authentication_confirmed")
	c.Send("token_refresh_confirmed")
	e.model.Push(llm.TextEntry("still here"))
	c.Send("hello")
	equalFrames(t, c.Turn(), []string{"<message>", "still here", "</message>"})
	if n := len(e.model.Requests()); n != 1 {
		t.Fatalf("model calls = %d, want 1 (replies must not become prompts)", n)
	}
}

func TestStopMidTurn(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(call("slow", `{}`))
	c := e.dial("/v1/ws/messages/stop-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("go slow"))
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame = %q", f)
	}
	<-ms.slowStarted
	c.Send("<stop>")
	if f := c.Read(); f != "</message>" {
		t.Fatalf("after stop got %q, want </message>", f)
	}
	waitFor(t, ms.slowCtxDone, "the MCP call was not cancelled")
	thread, _ := e.store.Messages(context.Background(), "stop-1")
	last := thread[len(thread)-1]
	if last.Role != "tool" || last.Content != "Execution stopped by the user." || last.ToolCallID != "call_1" {
		t.Fatalf("last stored message = %+v", last)
	}
	// The connection goes on, and the next model call sees a valid thread.
	e.model.Push(llm.TextEntry("ready"))
	c.Send(prompt("again"))
	equalFrames(t, c.Turn(), []string{"<message>", "ready", "</message>"})
	seen := msgs(e.model.Requests()[1].Messages)
	if seen[3] != "tool: Execution stopped by the user. (for call_1)" {
		t.Fatalf("model saw %q", seen)
	}
}

func TestClientDisconnectCancelsTurn(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(call("slow", `{}`))
	c := e.dial("/v1/ws/messages/gone-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("go slow"))
	<-ms.slowStarted
	c.WS.Close(websocket.StatusGoingAway, "bye")
	waitFor(t, ms.slowCtxDone, "the MCP call was not cancelled when the client left")
	// Drain returns once every chat has closed: the cancelled turn has
	// written its tool answer by then.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if thread, _ := e.store.Messages(context.Background(), "gone-1"); len(thread) != 3 || thread[2].Role != "tool" || !thread[2].IsError {
		t.Fatalf("thread = %+v", thread)
	}
}

func TestNoUser(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	_, err := e.dialErr("/v1/ws/messages", "")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("dial without cookie: %v", err)
	}
	resp, err := http.Get(e.http.URL + "/v1/api/settings")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 401 || body["detail"] == "" {
		t.Fatalf("settings without user: %d %v", resp.StatusCode, body)
	}
}

func TestOtherUsersChatIsNotFound(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(llm.TextEntry("hi alice"))
	a := e.dial("/v1/ws/messages/mine", "tok-alice")
	a.Metadata()
	a.Send(prompt("hello"))
	a.Turn()
	b := e.dial("/v1/ws/messages/mine", "tok-bob")
	if f := b.Read(); f != `<chat-error>{"message":"Chat not found"}</chat-error>` {
		t.Fatalf("bob got %q", f)
	}
}

func TestResumeKeepsHistory(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(llm.TextEntry("first"), llm.TextEntry("second"))
	c := e.dial("/v1/ws/messages/res-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("one"))
	c.Turn()
	c.WS.Close(websocket.StatusNormalClosure, "__MANUAL_DISCONNECT__")
	c2 := e.dial("/v1/ws/messages/res-1", "tok-alice")
	if md := c2.Metadata(); md["chatId"] != "res-1" {
		t.Fatalf("metadata = %v", md)
	}
	c2.Send(prompt("two"))
	c2.Turn()
	equalFrames(t, msgs(e.model.Requests()[1].Messages), []string{
		"system: You are the math agent.", "user: one", "assistant: first", "user: two",
	})
}

func TestProxyPrefixAndHealth(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	for _, p := range []string{"/v1/api/health", "/v1/api/readiness", "/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy/v1/api/health"} {
		resp, err := http.Get(e.http.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	c := e.dial("/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy/v1/ws/messages", "tok-alice")
	c.Metadata()
}

func TestShutdownLetsTheTurnFinish(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.ChunkDelay = 100 * time.Millisecond
	e.model.Push(llm.TextEntry("a", "b", "c"))
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()
	c.Send(prompt("hi"))
	if f := c.Read(); f != "<message>" {
		t.Fatal(f)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- e.srv.Drain(ctx)
	}()
	equalFrames(t, c.Turn(), []string{"a", "b", "c", "</message>"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.WS.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("close = %v, want 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := e.dialErr("/v1/ws/messages", "tok-alice"); err == nil {
		t.Fatal("new chats must be refused while draining")
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(msg)
	}
}
