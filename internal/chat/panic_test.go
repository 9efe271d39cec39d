package chat_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// panicky panics in the turn of the prompt "boom", and in Open when the
// chat is opened with ?open=boom; other prompts are echoed.
type panicky struct{ openBoom bool }

func (p *panicky) Open(ctx context.Context, em chat.Emitter) {
	if p.openBoom {
		panic("open went wrong")
	}
	_ = em.Send(ctx, "hello")
}

func (p *panicky) Turn(ctx context.Context, em chat.Emitter, pr chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	if pr.Text == "boom" {
		panic("turn went wrong")
	}
	_ = em.Send(ctx, pr.Text)
	_ = em.Send(ctx, chat.MessageClose)
}

// TestPanicEndsOnlyItsConnection: a turn or an Open that panics closes
// its own socket (an <error>, then 1011) and is logged with its stack; the
// process and every other chat go on.
func TestPanicEndsOnlyItsConnection(t *testing.T) {
	var logs logtest.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	shutdown, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var served sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		served.Add(1)
		defer served.Done()
		chat.NewConn(ws, chat.Options{Logger: log}).Serve(shutdown, &panicky{openBoom: r.URL.Query().Get("open") == "boom"})
	}))
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	other := chattest.Dial(t, url, nil)
	if f := other.Read(); f != "hello" {
		t.Fatalf("first frame %q", f)
	}
	bad := chattest.Dial(t, url, nil)
	bad.Read()
	bad.Send("boom")
	if f := bad.Read(); f != chat.MessageOpen {
		t.Fatalf("frame %q", f)
	}
	if f := bad.Read(); !strings.HasPrefix(f, "<error>") || !strings.Contains(f, "Reopen it") {
		t.Fatalf("after the panic: %q, want an <error>", f)
	}
	if s := bad.Closed(); s != websocket.StatusInternalError {
		t.Fatalf("close %v, want 1011", s)
	}
	badOpen := chattest.Dial(t, url+"?open=boom", nil)
	if f := badOpen.Read(); !strings.HasPrefix(f, "<error>") {
		t.Fatalf("after a panic in Open: %q", f)
	}
	if s := badOpen.Closed(); s != websocket.StatusInternalError {
		t.Fatalf("close %v, want 1011", s)
	}
	// The other chat is untouched.
	other.Send("still here")
	if got := strings.Join(other.Turn(), ""); got != "<message>still here</message>" {
		t.Fatalf("other chat: %q", got)
	}
	other.WS.Close(websocket.StatusNormalClosure, "")
	cancel()
	served.Wait()
	out := logs.String()
	for _, want := range []string{`"in":"turn","panic":"turn went wrong"`, `"in":"open","panic":"open went wrong"`, `"stack":"goroutine `} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
