package chat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/chat"
)

// echoHandler answers each prompt in one message, as package agent's Session does
// with the model's words.
type echoHandler struct{}

func (echoHandler) Open(context.Context, chat.Emitter) {}

func (echoHandler) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	_ = em.Send(ctx, chat.MessageOpen)
	_ = em.Send(ctx, "You said: "+p.Text)
	_ = em.Send(ctx, chat.MessageClose)
}

// A Conn serves one accepted WebSocket with a Handler: the reader turns
// each client frame into a prompt, a reply or a stop, and the turns run
// one at a time on a goroutine of their own, sending frames through the
// Emitter. The client here speaks as the Rancher AI UI does.
func ExampleConn() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		chat.NewConn(ws, chat.Options{}).Serve(r.Context(), echoHandler{})
	}))
	defer srv.Close()

	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/ws/messages", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.CloseNow()
	_ = ws.Write(ctx, websocket.MessageText, []byte(`{"prompt":"hello","context":{},"tags":[]}`))
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(b))
		if string(b) == chat.MessageClose {
			break
		}
	}
	// Output:
	// <message>
	// You said: hello
	// </message>
}
