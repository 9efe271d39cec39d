package chat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/chat/chattest"
)

// flooder sends big frames in Open until a Send fails, then tries one more.
type flooder struct {
	frame        string
	sent         int
	first, after chan error
}

func (f *flooder) Open(ctx context.Context, em chat.Emitter) {
	var err error
	for err == nil {
		if err = em.Send(ctx, f.frame); err == nil {
			f.sent++
		}
	}
	f.first <- err
	f.after <- em.Send(ctx, "late")
}

func (f *flooder) Turn(context.Context, chat.Emitter, chat.Prompt) {}

// TestSendPastTheWriteTimeoutFails: a browser that stops reading makes the
// frame write that cannot complete within WriteTimeout fail with a
// deadline error (after the frames that fit in the socket buffers went
// out, each within its own deadline), and the connection is then gone:
// the next Send fails at once with ErrClientGone.
func TestSendPastTheWriteTimeoutFails(t *testing.T) {
	f := &flooder{frame: strings.Repeat("x", 256<<10), first: make(chan error, 1), after: make(chan error, 1)}
	served := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		chat.NewConn(ws, chat.Options{WriteTimeout: 200 * time.Millisecond}).Serve(context.Background(), f)
	}))
	t.Cleanup(srv.Close)
	ws := chattest.Dial(t, srv.URL, nil) // never reads
	err := <-f.first
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send to a browser that does not read: %v, want a deadline error", err)
	}
	if f.sent == 0 {
		t.Fatalf("no frame went out before the timeout")
	}
	if err := <-f.after; !errors.Is(err, chat.ErrClientGone) {
		t.Fatalf("send after the timeout: %v, want ErrClientGone", err)
	}
	ws.WS.CloseNow()
	<-served
}
