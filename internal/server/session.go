package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/rancher"
)

// DefaultMaxChatsPerUser bounds the open WebSockets of one user when
// Options.MaxChatsPerUser is 0 (MAX_CHATS_PER_USER).
const DefaultMaxChatsPerUser = 32

// sessionEnded is what the browser is told when Rancher no longer knows the
// session a socket was opened with.
const sessionEnded = "Your Rancher session has ended. Log in to Rancher again to keep chatting."

// checkedHandler re-resolves the socket's user before each turn, through
// the resolver's short cache: a session that Rancher revoked or let expire
// stops working on an open socket within the cache lifetime, as it does for
// REST requests. Refused, the turn gets <chat-error> and the socket closes;
// when Rancher cannot answer, that turn gets an error and the socket stays.
type checkedHandler struct {
	chat.Handler
	s      *Server
	conn   *chat.Conn
	user   agent.User
	header http.Header // of the handshake: the session cookie
	url    string
}

// Turn implements chat.Handler.
func (h *checkedHandler) Turn(ctx context.Context, em chat.Emitter, p chat.Prompt) {
	err := h.check(ctx)
	switch {
	case err == nil:
		h.Handler.Turn(ctx, em, p)
	case errors.Is(err, rancher.ErrUnauthenticated) || errors.Is(err, rancher.ErrNoSession) || errors.Is(err, errOtherUser):
		h.s.log.Info("turn refused: the Rancher session ended", "user", h.user.ID, "error", err)
		agent.ReportOutcome(ctx, agent.TurnFailed)
		h.s.fatal(ctx, h.conn, sessionEnded)
	default:
		h.s.log.Warn("turn refused: the Rancher session could not be checked", "user", h.user.ID, "error", err)
		agent.ReportOutcome(ctx, agent.TurnFailed)
		_ = em.Send(ctx, chat.MessageOpen)
		_ = em.Send(ctx, chat.ErrorFrame("Could not check your Rancher session; try again in a moment."))
		_ = em.Send(ctx, chat.MessageClose)
	}
}

var errOtherUser = errors.New("the session now belongs to another user")

// credentialHeaders keeps the headers of a handshake that say who the user
// is (the session cookie, an Authorization header): what the per-turn check
// needs, and far less to hold for an idle socket than every header.
func credentialHeaders(h http.Header) http.Header {
	out := make(http.Header, 2)
	for _, k := range []string{"Cookie", "Authorization"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

func (h *checkedHandler) check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	req.Header = h.header
	u, err := h.s.o.Users.Resolve(ctx, req)
	if err != nil {
		return err
	}
	if u.ID != h.user.ID {
		return fmt.Errorf("%w: %s", errOtherUser, u.ID)
	}
	return nil
}

// socketCounts bounds the open WebSockets of each user.
type socketCounts struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire counts one more socket of user, or reports false when the user
// already has max open.
func (c *socketCounts) acquire(user string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[user] >= max {
		return false
	}
	if c.open == nil {
		c.open = map[string]int{}
	}
	c.open[user]++
	return true
}

func (c *socketCounts) release(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[user]--; c.open[user] <= 0 {
		delete(c.open, user)
	}
}

// tooManyChats refuses a socket over the per-user bound.
func (s *Server) tooManyChats(ctx context.Context, conn *chat.Conn, user string) {
	s.log.Warn("websocket refused: too many open chats", "user", user, "max", s.o.MaxChatsPerUser)
	_ = conn.Send(ctx, chat.ChatErrorFrame(fmt.Sprintf("Too many open chats: at most %d at a time per user. Close another chat window and try again.", s.o.MaxChatsPerUser)))
	conn.Close(websocket.StatusPolicyViolation, "too many open chats")
}
