package chat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestSendAbortedWhenTheConnectionEnds: a frame write blocked on a browser
// that does not read ends as soon as the connection's life ends (here
// cancelled directly, as the reader does when the browser goes away), not
// after WriteTimeout (an hour here: the test would hang).
func TestSendAbortedWhenTheConnectionEnds(t *testing.T) {
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c := NewConn(ws, Options{WriteTimeout: time.Hour})
		conns <- c
		<-c.life.Done()
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow() // never reads
	c := <-conns
	sent := make(chan error, 1)
	go func() { sent <- c.Send(ctx, strings.Repeat("x", 32<<20)) }()
	for !c.writing.Load() {
		runtime.Gosched()
	}
	c.cancel()
	if err := <-sent; err == nil {
		t.Fatal("a write under way when the connection ended succeeded")
	}
	if err := c.Send(ctx, "late"); err == nil {
		t.Fatal("Send after the end succeeded")
	}
}
