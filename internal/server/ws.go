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
	"github.com/rancher/ai-agent/internal/store"
)

var chatIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// websocket serves /v1/ws/messages[/{chatId}]: user, chat, agents, then the
// frame loop of chat.Conn.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	chatID := r.PathValue("chatId")
	if chatID != "" && !chatIDPattern.MatchString(chatID) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "invalid chat id"})
		return
	}
	if s.shutdown.Err() != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "server shutting down"})
		return
	}
	user, err := s.o.Users.Resolve(r.Context(), r)
	if err != nil {
		s.log.Info("websocket refused: no user", "error", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
		return
	}
	user.Host, user.Cookies = RequestHost(r), r.Cookies()
	opts := &websocket.AcceptOptions{OriginPatterns: s.o.AllowedOrigins, InsecureSkipVerify: len(s.o.AllowedOrigins) == 0}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		s.log.Info("websocket accept failed", "error", err)
		return
	}
	s.conns.Add(1)
	defer s.conns.Done()
	if s.o.Observer != nil {
		defer s.o.Observer.Connected()()
	}
	conn := chat.NewConn(ws, s.o.Conn)
	// The connection's own life, not the request's, bounds set-up work.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !s.sockets.acquire(user.ID, s.o.MaxChatsPerUser) {
		s.tooManyChats(ctx, conn, user.ID)
		return
	}
	defer s.sockets.release(user.ID)

	if chatID == "" {
		chatID = uuid.NewString()
	}
	if _, err := s.o.Store.OpenChat(ctx, chatID, user.ID); err != nil {
		msg := "Failed to open the chat"
		if errors.Is(err, store.ErrNotFound) {
			msg = "Chat not found"
		}
		s.fatal(ctx, conn, msg)
		return
	}
	list, err := s.o.Agents.Agents(ctx)
	if err != nil {
		s.log.Error("listing agents failed", "error", err)
		s.fatal(ctx, conn, "No agent configurations available")
		return
	}
	if s.o.FilterAgents != nil {
		if list, err = s.o.FilterAgents(ctx, user, list); err != nil {
			s.log.Warn("agent access check failed", "error", err)
			s.fatal(ctx, conn, "Could not check which agents you may use; try again later")
			return
		}
	}
	sess, err := s.o.Runner.Open(ctx, user, list, chatID)
	if err != nil {
		s.fatal(ctx, conn, errMessage(err))
		return
	}
	meta := chat.Metadata{ChatID: chatID, Agents: sess.Metadata(), StorageType: s.o.Store.StorageType()}
	if err := conn.Send(ctx, chat.ChatMetadataFrame(meta)); err != nil {
		return
	}
	var h chat.Handler = &checkedHandler{Handler: sess, s: s, conn: conn, user: user, header: r.Header.Clone(), url: r.URL.String()}
	if s.o.Observer != nil {
		h = s.o.Observer.Handler(h, ConnInfo{ChatID: chatID, UserID: user.ID, Agents: meta.Agents})
	}
	conn.Serve(s.shutdown, h)
	conn.Close(websocket.StatusNormalClosure, "")
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
