package guard

import (
	"context"
	"net/http"

	"github.com/rancher/ai-agent/internal/httpapi"
)

// Needs is a set of guards.
type Needs uint8

const (
	// SameSiteCheck refuses a browser request from another site (Origin,
	// Sec-Fetch-Site) and a POST, PUT or PATCH without a JSON body.
	SameSiteCheck Needs = 1 << iota
	// SignedInCheck refuses a request without a Rancher user (401).
	SignedInCheck
	// AdminCheck refuses a user who may not configure agents (403).
	AdminCheck
)

// Refusal is a guard's answer: the HTTP status and the sentence of the
// {"detail"} body. The zero Refusal lets the request through.
type Refusal struct {
	Status int
	Detail string
}

// Checks are the server's answers to each guard.
type Checks interface {
	SameSite(r *http.Request) Refusal
	SignedIn(r *http.Request) Refusal
	Admin(r *http.Request) Refusal
}

type checksKey struct{}

// WithChecks returns ctx carrying the checks that guarded handlers run.
func WithChecks(ctx context.Context, c Checks) context.Context {
	return context.WithValue(ctx, checksKey{}, c)
}

// guarded is a handler behind guards.
type guarded struct {
	needs Needs
	// adminWhen, when set, limits AdminCheck to the requests it accepts.
	adminWhen func(*http.Request) bool
	next      http.Handler
}

func wrap(n Needs, when func(*http.Request) bool, h http.Handler) http.Handler {
	if g, ok := h.(*guarded); ok {
		out := *g
		out.needs |= n
		if when != nil {
			out.adminWhen = when
		}
		return &out
	}
	return &guarded{needs: n, adminWhen: when, next: h}
}

// SameSite wraps h with the browser-trust check.
func SameSite(h http.Handler) http.Handler { return wrap(SameSiteCheck, nil, h) }

// SignedIn wraps h with the user check.
func SignedIn(h http.Handler) http.Handler { return wrap(SignedInCheck, nil, h) }

// Admin wraps h with the user check and the may-configure check.
func Admin(h http.Handler) http.Handler { return wrap(SignedInCheck|AdminCheck, nil, h) }

// AdminWhen is Admin for the requests when accepts, SignedIn for the others
// (a model list names a URL to fetch only with parameters).
func AdminWhen(when func(*http.Request) bool, h http.Handler) http.Handler {
	return wrap(SignedInCheck|AdminCheck, when, h)
}

// Of reports the guards h carries (none for a handler no guard wraps).
func Of(h http.Handler) Needs {
	if g, ok := h.(*guarded); ok {
		return g.needs
	}
	return 0
}

func (g *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(checksKey{}).(Checks)
	if c == nil {
		httpapi.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "internal error"})
		return
	}
	if g.needs&SameSiteCheck != 0 && refused(w, c.SameSite(r)) {
		return
	}
	if g.needs&SignedInCheck != 0 && refused(w, c.SignedIn(r)) {
		return
	}
	if g.needs&AdminCheck != 0 && (g.adminWhen == nil || g.adminWhen(r)) && refused(w, c.Admin(r)) {
		return
	}
	g.next.ServeHTTP(w, r)
}

func refused(w http.ResponseWriter, f Refusal) bool {
	if f.Status == 0 {
		return false
	}
	httpapi.WriteJSON(w, f.Status, map[string]string{"detail": f.Detail})
	return true
}
