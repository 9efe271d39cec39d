package chattest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat/chattest"
)

// TestClient drives a server that sends <chat-metadata>, echoes each frame
// followed by </message>, and closes with 1001 after "bye".
func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "R_SESS=tok" {
			http.Error(w, "no user", http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		_ = ws.Write(ctx, websocket.MessageText, []byte(`<chat-metadata>{"chatId":"c1"}</chat-metadata>`))
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if string(b) == "bye" {
				ws.Close(websocket.StatusGoingAway, "")
				return
			}
			_ = ws.Write(ctx, websocket.MessageText, []byte("<message>"))
			_ = ws.Write(ctx, websocket.MessageText, b)
			_ = ws.Write(ctx, websocket.MessageText, []byte("</message>"))
		}
	}))
	defer srv.Close()

	if _, resp, err := chattest.DialErr(t, srv.URL, chattest.Cookie("")); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("dial without a cookie: %v %v", resp, err)
	}
	c := chattest.Dial(t, srv.URL, chattest.Cookie("R_SESS=tok"))
	if md := c.Metadata(); md["chatId"] != "c1" {
		t.Fatalf("metadata %v", md)
	}
	if got := c.Ask("hi"); len(got) != 3 || got[1] != "hi" || got[2] != "</message>" {
		t.Fatalf("Ask = %q", got)
	}
	c.Send("again")
	if got := c.UntilPrefix("again"); len(got) != 2 || got[0] != "<message>" {
		t.Fatalf("UntilPrefix = %q", got)
	}
	if f := c.Read(); f != "</message>" {
		t.Fatalf("Read = %q", f)
	}
	c.Send("bye")
	if s := c.Closed(); s != websocket.StatusGoingAway {
		t.Fatalf("Closed = %v", s)
	}
}
