package chat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/chat/chattest"
)

// asker runs a sign-in or a refresh through chat.Browser for each prompt and
// reports the outcome as a frame.
type asker struct{}

func (asker) Open(context.Context, chat.Emitter) {}

func (asker) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	b := chat.Browser{Emitter: em}
	switch p.Text {
	case "sign in":
		ok, err := b.AskSignIn(ctx, "https://as/authorize?a=1&b=2", "gh")
		_ = em.Send(ctx, fmt.Sprintf("confirmed=%v err=%v", ok, err))
	case "refresh":
		_ = em.Send(ctx, fmt.Sprintf("refresh err=%v", b.AskRefresh(ctx, "gh")))
	}
}

// TestBrowserAsksThroughTheConnection: the sign-in and refresh frames of
// spec/ui-protocol.md go out, the matching reply (and only it) comes back
// through the single reader, and a cancel is told apart from a confirm.
func TestBrowserAsksThroughTheConnection(t *testing.T) {
	shutdown, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		chat.NewConn(ws, chat.Options{}).Serve(shutdown, asker{})
	}))
	t.Cleanup(srv.Close)
	ws := chattest.Dial(t, srv.URL, nil)
	send := ws.Send
	const authFrame = `<authentication>{"type":"oauth2","url":"https://as/authorize?a=1&b=2","agent":"gh"}</authentication>`
	for _, tt := range []struct{ reply, want string }{
		{chat.ReplyAuthCanceled, "confirmed=false err=<nil>"},
		{chat.ReplyAuthConfirmed, "confirmed=true err=<nil>"},
	} {
		send("sign in")
		if f := ws.Read(); f != authFrame {
			t.Fatalf("frame %q, want %q", f, authFrame)
		}
		send(chat.ReplyRefreshConfirmed) // not an answer to a sign-in: dropped
		send(tt.reply)
		if f := ws.Read(); f != tt.want {
			t.Fatalf("after %s: %q, want %q", tt.reply, f, tt.want)
		}
	}
	send("refresh")
	if f := ws.Read(); f != `<token-refresh>{"agent":"gh"}</token-refresh>` {
		t.Fatalf("frame %q", f)
	}
	send(chat.ReplyAuthConfirmed) // dropped
	send(chat.ReplyRefreshConfirmed)
	if f := ws.Read(); f != "refresh err=<nil>" {
		t.Fatalf("after refresh: %q", f)
	}
}
