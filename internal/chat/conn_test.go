package chat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/chat/chattest"
)

// echo opens with a greeting and answers each prompt with its text.
type echo struct {
	opened chan struct{}
	gate   chan struct{} // when set, each turn waits for a value
}

func (e *echo) Open(ctx context.Context, em chat.Emitter) {
	_ = em.Send(ctx, "hello")
	e.opened <- struct{}{}
}

func (e *echo) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	if e.gate != nil {
		<-e.gate
	}
	_ = em.Send(ctx, p.Text)
	_ = em.Send(ctx, chat.MessageClose)
}

func serveEcho(t *testing.T, h *echo) (string, context.CancelFunc) {
	t.Helper()
	shutdown, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		chat.NewConn(ws, chat.Options{}).Serve(shutdown, h)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(cancel)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), cancel
}

// chatGoroutines counts the goroutines running code of package chat.
func chatGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "internal/chat.(*Conn)") {
			n++
		}
	}
	return n
}

// TestIdleConnectionHasOneGoroutine: once Open is done and no prompt is
// queued, a connection runs only its reader; a prompt starts a worker that
// ends with the turn.
func TestIdleConnectionHasOneGoroutine(t *testing.T) {
	const conns = 20
	h := &echo{opened: make(chan struct{}, conns)}
	url, _ := serveEcho(t, h)
	var all []*chattest.Client
	for range conns {
		ws := chattest.Dial(t, url, nil)
		if f := ws.Read(); f != "hello" {
			t.Fatalf("first frame %q", f)
		}
		<-h.opened
		all = append(all, ws)
	}
	idle := func() bool { return chatGoroutines() == conns }
	if !eventually(idle) {
		t.Fatalf("%d idle connections run %d goroutines in package chat, want %d", conns, chatGoroutines(), conns)
	}
	all[0].Send("ping")
	for _, want := range []string{chat.MessageOpen, "ping", chat.MessageClose} {
		if f := all[0].Read(); f != want {
			t.Fatalf("frame %q, want %q", f, want)
		}
	}
	if !eventually(idle) {
		t.Fatalf("after a turn: %d goroutines in package chat, want %d", chatGoroutines(), conns)
	}
}

// eventually reports whether cond becomes true within 10 s, checking each
// time the scheduler ran others.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		runtime.Gosched()
	}
	return cond()
}

// TestPromptsRunInOrder: prompts sent while a turn runs wait in the queue
// and run one after another, in order.
func TestPromptsRunInOrder(t *testing.T) {
	h := &echo{opened: make(chan struct{}, 1), gate: make(chan struct{})}
	url, _ := serveEcho(t, h)
	ws := chattest.Dial(t, url, nil)
	ws.Read()
	for _, p := range []string{"one", "two", "three"} {
		ws.Send(p)
	}
	var got []string
	for _, p := range []string{"one", "two", "three"} {
		if f := ws.Read(); f != chat.MessageOpen {
			t.Fatalf("frame %q before %s", f, p)
		}
		h.gate <- struct{}{}
		got = append(got, ws.Read(), ws.Read())
	}
	if strings.Join(got, "|") != "one|</message>|two|</message>|three|</message>" {
		t.Fatalf("frames %q", got)
	}
}

// TestShutdownWaitsForTheTurn: shutdown lets the running turn close its
// message, then closes the connection with 1001.
func TestShutdownWaitsForTheTurn(t *testing.T) {
	h := &echo{opened: make(chan struct{}, 1), gate: make(chan struct{})}
	url, shutdown := serveEcho(t, h)
	ws := chattest.Dial(t, url, nil)
	ws.Read()
	ws.Send("last")
	if f := ws.Read(); f != chat.MessageOpen {
		t.Fatalf("frame %q", f)
	}
	shutdown()
	var wg sync.WaitGroup
	wg.Go(func() { h.gate <- struct{}{} })
	if f := ws.Read(); f != "last" {
		t.Fatalf("frame %q", f)
	}
	if f := ws.Read(); f != chat.MessageClose {
		t.Fatalf("frame %q", f)
	}
	if s := ws.Closed(); s != websocket.StatusGoingAway {
		t.Fatalf("after the turn: close %v, want 1001", s)
	}
	wg.Wait()
}
