package server

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/guard"
)

// principal is the Rancher user of one request, resolved at most once, on
// first use (health probes and the static page never ask).
type principal struct {
	once    sync.Once
	resolve func() (agent.User, error)
	user    agent.User
	err     error
}

type principalKey struct{}

var errNoPrincipal = errors.New("no user resolver on this request")

// withPrincipal is the one place that resolves the Rancher user: it puts
// the request's principal (resolved lazily, once) and the server's guard
// checks in the request's context. Every route, the WebSocket included,
// reads the user through UserFrom.
func (s *Server) withPrincipal(next http.Handler) http.Handler {
	c := checks{log: s.log, origins: s.o.Origins, mayConfigure: s.o.MayConfigure}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &principal{resolve: func() (agent.User, error) { return s.o.Users.Resolve(r.Context(), r) }}
		ctx := context.WithValue(guard.WithChecks(r.Context(), c), principalKey{}, p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// principalOf returns the request's user, resolving it on first use.
func principalOf(ctx context.Context) (agent.User, error) {
	p, _ := ctx.Value(principalKey{}).(*principal)
	if p == nil {
		return agent.User{}, errNoPrincipal
	}
	p.once.Do(func() { p.user, p.err = p.resolve() })
	return p.user, p.err
}

// UserFrom returns the Rancher user of the request, if it has one.
func UserFrom(ctx context.Context) (agent.User, bool) {
	u, err := principalOf(ctx)
	return u, err == nil
}
