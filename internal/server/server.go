package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/store"
)

// UserResolver finds the Rancher user of a request.
type UserResolver interface {
	Resolve(ctx context.Context, r *http.Request) (agent.User, error)
}

// UserResolverFunc adapts a function.
type UserResolverFunc func(ctx context.Context, r *http.Request) (agent.User, error)

// Resolve implements UserResolver.
func (f UserResolverFunc) Resolve(ctx context.Context, r *http.Request) (agent.User, error) {
	return f(ctx, r)
}

// Options configure the server.
type Options struct {
	Users  UserResolver
	Agents agentconfig.Source
	Runner *agent.Runner
	Store  store.Store
	Logger *slog.Logger
	// Extra routes mounted as is (OAuth endpoints, the scripted model's
	// control API, the demo page), by pattern.
	Extra map[string]http.Handler
	// Protected routes are mounted behind the user check (401 {"detail"}).
	Protected map[string]http.Handler
	// FilterAgents, when set, keeps the agents a user may use (Rancher
	// RBAC). An error refuses the chat: the check fails closed.
	FilterAgents func(ctx context.Context, u agent.User, list []agentconfig.Agent) ([]agentconfig.Agent, error)
	// Origins are the browser origins allowed to open a WebSocket or call
	// the API (checkBrowser). Nil allows none: only requests without an
	// Origin header (not a browser) get through.
	Origins *origins.Policy
	// MayConfigure answers whether a user may configure agents: only they
	// may call the routes that make the agent fetch a URL they name
	// (guardFetch). nil error is yes. A nil MayConfigure refuses everyone;
	// AllowEveryone is the RBAC_ENABLED=false choice.
	MayConfigure func(ctx context.Context, u agent.User) error
	// Conn tunes each chat connection.
	Conn chat.Options
	// MaxChatsPerUser bounds the open WebSockets of one user
	// (MAX_CHATS_PER_USER); 0 is DefaultMaxChatsPerUser.
	MaxChatsPerUser int
	// ModelText neutralizes the model's answers replayed by GET
	// /v1/api/chats/{id}/messages, as they were when streamed.
	ModelText modeltext.Policy
	// Observer, when set, sees every chat connection (telemetry).
	Observer ConnObserver
	// AgentStatus, when set, is the status ("active" or "error") and
	// reason of an agent's configuration in GET /v1/api/agents.
	AgentStatus func(agentconfig.Agent) (status, reason string)
}

// ConnObserver sees chat connections: Connected when a WebSocket is
// accepted (the function it returns runs when it closes), Handler to wrap
// the session that runs the connection's turns.
type ConnObserver interface {
	Connected() (closed func())
	Handler(h chat.Handler, c ConnInfo) chat.Handler
}

// ConnInfo describes a chat connection to a ConnObserver.
type ConnInfo struct {
	ChatID string
	UserID string
	Agents []chat.AgentStatus
}

// Server serves HTTP and tracks open chats for a graceful shutdown.
type Server struct {
	o        Options
	log      *slog.Logger
	ready    atomic.Bool
	conns    sync.WaitGroup
	shutdown context.Context
	stop     context.CancelFunc
	handler  http.Handler
	sockets  socketCounts
}

// New builds the server and its routes.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Conn.Logger = o.Logger
	if o.MaxChatsPerUser <= 0 {
		o.MaxChatsPerUser = DefaultMaxChatsPerUser
	}
	s := &Server{o: o, log: o.Logger}
	s.shutdown, s.stop = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/api/health", s.health)
	mux.HandleFunc("GET /v1/api/readiness", s.readiness)
	mux.Handle("GET /v1/api/settings", s.withUser(http.HandlerFunc(s.settings)))
	mux.Handle("GET /v1/api/agents", s.withUser(http.HandlerFunc(s.listAgents)))
	mux.Handle("POST /v1/api/complete/ui-tools", s.withUser(http.HandlerFunc(s.completeUITools)))
	s.chatRoutes(mux)
	mux.HandleFunc("GET /v1/ws/messages", s.websocket)
	mux.HandleFunc("GET /v1/ws/messages/{chatId}", s.websocket)
	for pattern, h := range o.Extra {
		mux.Handle(pattern, h)
	}
	for pattern, h := range o.Protected {
		mux.Handle(pattern, s.withUser(h))
	}
	s.handler = recoverer(s.log, httpapi.StripProxyPrefix(checkBrowser(s.log, o.Origins, s.guardFetch(mux))))
	return s
}

// Handler is the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// SetReady marks the server ready (or not) for /v1/api/readiness.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// Drain tells every open chat that the server is going away: running turns
// finish (or are told), then connections close. It waits until all are
// closed or ctx ends.
func (s *Server) Drain(ctx context.Context) error {
	s.ready.Store(false)
	s.stop()
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readiness(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "not ready"})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) settings(w http.ResponseWriter, _ *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"storageType": s.o.Store.StorageType()})
}

type userKey struct{}

// UserFrom returns the user that withUser resolved.
func UserFrom(ctx context.Context) (agent.User, bool) {
	u, ok := ctx.Value(userKey{}).(agent.User)
	return u, ok
}

// withUser is middleware that resolves the user or answers 401 {"detail"}.
func (s *Server) withUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.o.Users.Resolve(r.Context(), r)
		if err != nil {
			s.log.Info("unauthorized request", "path", r.URL.Path, "error", err)
			httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// recoverer turns a handler panic into a 500 and a log line.
func recoverer(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.Error("handler panic", "path", r.URL.Path, "panic", v)
				httpapi.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "internal error"})
			}
		}()
		start := time.Now()
		h.ServeHTTP(w, r)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "duration", time.Since(start))
	})
}
