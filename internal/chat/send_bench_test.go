package chat_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
)

// sender is a Handler whose Open sends n frames, then reports.
type sender struct {
	n     int
	frame string
	done  chan error
}

func (s *sender) Open(ctx context.Context, em chat.Emitter) {
	var err error
	for range s.n {
		if err = em.Send(ctx, s.frame); err != nil {
			break
		}
	}
	s.done <- err
}

func (s *sender) Turn(context.Context, chat.Emitter, chat.Prompt) {}

// BenchmarkSend is the cost of one Conn.Send of a typical text-delta frame
// over a loopback WebSocket (ns, bytes and allocations per frame; the
// reading client, in the same process, discards each message through a
// reused buffer).
//
//	go test -run '^$' -bench BenchmarkSend -benchmem ./internal/chat/
func BenchmarkSend(b *testing.B) {
	s := &sender{n: b.N, frame: strings.Repeat("x", 48), done: make(chan error, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		chat.NewConn(ws, chat.Options{}).Serve(context.Background(), s)
	}))
	defer srv.Close()
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	b.ReportAllocs()
	b.ResetTimer()
	buf := make([]byte, 256)
	for range b.N {
		_, r, err := ws.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-s.done; err != nil {
		b.Fatal(err)
	}
}
