package server

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/store"
)

var chatIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// websocket serves /v1/ws/messages[/{chatId}] (mounted behind guard.SameSite
// and guard.SignedIn): user, chat, agents, then the frame loop of chat.Conn.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	chatID := r.PathValue("chatId")
	if chatID != "" && !chatIDPattern.MatchString(chatID) {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "invalid chat id"})
		return
	}
	if s.shutdown.Err() != nil {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "server shutting down"})
		return
	}
	user, err := principalOf(r.Context()) // guard.SignedIn has checked it
	if err != nil {
		httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
		return
	}
	// guard.SameSite has refused an Origin that is not allowed (403, before
	// any frame); the library's own same-host rule would refuse the UI,
	// whose Origin is Rancher's while the Host is the service's.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Info("websocket accept failed", "error", err)
		return
	}
	// The handshake's goroutine, its deep stack and the request end here:
	// the hijacked connection is served by a goroutine of its own, which
	// only reads while the chat is idle (the chat is opened by the
	// connection's first job, on a goroutine that ends with it).
	header, url, hs := credentialHeaders(r.Header), r.URL.String(), handshakeOf(r)
	s.conns.Add(1)
	go func() {
		defer s.conns.Done()
		if s.o.Observer != nil {
			defer s.o.Observer.Connected()()
		}
		conn := chat.NewConn(ws, s.o.Conn)
		if !s.sockets.acquire(user.ID, s.o.MaxChatsPerUser) {
			s.tooManyChats(context.Background(), conn, user.ID)
			return
		}
		defer s.sockets.release(user.ID)
		conn.Serve(s.shutdown, &opening{s: s, conn: conn, user: user, chatID: chatID, header: header, url: url, hs: hs})
		conn.Close(websocket.StatusNormalClosure, "")
	}()
}

// opening is a connection's chat.Handler: Open opens the chat (store,
// agents, RBAC filter, agent session), sends <chat-metadata> and then runs
// the session's own Open (the eager OAuth sign-in); turns go to the session.
type opening struct {
	s      *Server
	conn   *chat.Conn
	user   agent.User
	chatID string
	header http.Header // of the handshake, for the per-turn user check
	url    string
	hs     *handshake   // what OAuth needs of the handshake (OAuthAgent)
	turns  chat.Handler // set by Open; nil when the chat could not open
}

func (o *opening) Open(ctx context.Context, em chat.Emitter) {
	ctx = withHandshake(ctx, o.hs)
	s := o.s
	// Set-up is not cut short by a <stop>, only by the connection ending.
	setup, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(ctx, func() {
		if !errors.Is(context.Cause(ctx), chat.ErrStopped) {
			cancel()
		}
	})()
	if o.chatID == "" {
		o.chatID = uuid.NewString()
	}
	if _, err := s.o.Store.OpenChat(setup, o.chatID, o.user.ID); err != nil {
		msg := "Failed to open the chat"
		if errors.Is(err, store.ErrNotFound) {
			msg = "Chat not found"
		}
		s.fatal(setup, o.conn, msg)
		return
	}
	list, err := s.o.Agents.Agents(setup)
	if err != nil {
		s.log.Error("listing agents failed", "error", err)
		s.fatal(setup, o.conn, "No agent configurations available")
		return
	}
	if s.o.FilterAgents != nil {
		if list, err = s.o.FilterAgents(setup, o.user, list); err != nil {
			s.log.Warn("agent access check failed", "error", err)
			s.fatal(setup, o.conn, "Could not check which agents you may use; try again later")
			return
		}
	}
	sess, err := s.o.Runner.Open(setup, o.user, list, o.chatID)
	if err != nil {
		// The chain goes to the log; the user reads one sentence.
		s.log.Warn("chat not opened: no usable agent", "chat", o.chatID, "error", err)
		s.fatal(setup, o.conn, errMessage(err))
		return
	}
	meta := chat.Metadata{ChatID: o.chatID, Agents: sess.Metadata(), StorageType: s.o.Store.StorageType()}
	if err := em.Send(setup, chat.ChatMetadataFrame(meta)); err != nil {
		return
	}
	var h chat.Handler = &checkedHandler{Handler: sess, s: s, conn: o.conn, user: o.user, header: o.header, url: o.url}
	if s.o.Observer != nil {
		h = s.o.Observer.Handler(h, ConnInfo{ChatID: o.chatID, UserID: o.user.ID, Agents: meta.Agents})
	}
	o.turns = h
	h.Open(ctx, em)
}

func (o *opening) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	if o.turns == nil { // the chat did not open; the connection is closing
		return
	}
	o.turns.Turn(withHandshake(ctx, o.hs), em, p)
}

func (s *Server) fatal(ctx context.Context, conn *chat.Conn, msg string) {
	_ = conn.Send(ctx, chat.ChatErrorFrame(msg))
	conn.Close(websocket.StatusNormalClosure, "")
}

// errMessage is the reason of an agent error that the user can act on.
func errMessage(err error) string {
	if ue, ok := errors.AsType[*agent.UnavailableError](err); ok {
		return ue.Reason
	}
	return "No agent available"
}
