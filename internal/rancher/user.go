package rancher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SessionCookie is the Rancher session cookie the UI sends.
const SessionCookie = "R_SESS"

// Errors of Resolve; test with errors.Is.
var (
	// ErrNoSession means the request carries no session cookie and no
	// RANCHER_API_TOKEN override is configured.
	ErrNoSession = errors.New("rancher: no session")
	// ErrUnauthenticated means Rancher rejected the token or knows no user for it.
	ErrUnauthenticated = errors.New("rancher: unauthenticated")
)

const (
	defaultCacheTTL = 30 * time.Second
	failureTTL      = 2 * time.Second
	fetchTimeout    = 10 * time.Second
	maxCacheEntries = 1024
)

// User is the Rancher user behind a request.
type User struct {
	// ID is the Rancher user id, e.g. "u-abcde".
	ID string
	// Token is the session token that identified the user: the R_SESS
	// cookie, or RANCHER_API_TOKEN when set. Never log it.
	Token string
}

// UserOptions configures a UserResolver.
type UserOptions struct {
	// RancherURL is the Rancher base URL, e.g. https://rancher.example.com.
	RancherURL string
	// APIToken (RANCHER_API_TOKEN) replaces the cookie of every request.
	APIToken string
	// HTTPClient defaults to newHTTPClient(nil).
	HTTPClient *http.Client
	// CacheTTL is how long a resolved user is kept; default 30s.
	CacheTTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

type cacheEntry struct {
	user    User
	err     error
	expires time.Time
}

type flight struct {
	done chan struct{}
	user User
	err  error
}

// UserResolver resolves requests to Rancher users. It is safe for concurrent use.
type UserResolver struct {
	opts UserOptions

	mu      sync.Mutex
	cache   map[string]cacheEntry
	flights map[string]*flight
}

// NewUserResolver returns a resolver; zero options get their defaults.
func NewUserResolver(o UserOptions) *UserResolver {
	o.RancherURL = strings.TrimRight(o.RancherURL, "/")
	if o.HTTPClient == nil {
		o.HTTPClient = newHTTPClient(nil)
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = defaultCacheTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &UserResolver{opts: o, cache: map[string]cacheEntry{}, flights: map[string]*flight{}}
}

// Token returns the session token of req: the APIToken override when set,
// else the R_SESS cookie, else "".
func (r *UserResolver) Token(req *http.Request) string {
	if r.opts.APIToken != "" {
		return r.opts.APIToken
	}
	if c, err := req.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// Resolve returns the user behind req. Results are cached per token for
// CacheTTL (rejections for 2s); concurrent calls for one token share one
// Rancher request.
func (r *UserResolver) Resolve(ctx context.Context, req *http.Request) (User, error) {
	token := r.Token(req)
	if token == "" {
		return User{}, ErrNoSession
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])

	r.mu.Lock()
	if e, ok := r.cache[key]; ok && r.opts.Now().Before(e.expires) {
		r.mu.Unlock()
		return e.user, e.err
	}
	f, ok := r.flights[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[key] = f
		// The fetch outlives a cancelled caller so that the others still get an answer.
		go r.run(context.WithoutCancel(ctx), key, token, f)
	}
	r.mu.Unlock()

	select {
	case <-f.done:
		return f.user, f.err
	case <-ctx.Done():
		return User{}, fmt.Errorf("rancher: resolve user: %w", ctx.Err())
	}
}

func (r *UserResolver) run(ctx context.Context, key, token string, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	f.user, f.err = r.fetch(ctx, token)

	r.mu.Lock()
	delete(r.flights, key)
	now := r.opts.Now()
	switch {
	case f.err == nil:
		r.store(key, cacheEntry{user: f.user, expires: now.Add(r.opts.CacheTTL)}, now)
	case errors.Is(f.err, ErrUnauthenticated):
		r.store(key, cacheEntry{err: f.err, expires: now.Add(min(failureTTL, r.opts.CacheTTL))}, now)
	}
	r.mu.Unlock()
	defer close(f.done)

	if f.err != nil {
		level := slog.LevelWarn
		if errors.Is(f.err, ErrUnauthenticated) {
			level = slog.LevelDebug
		}
		r.opts.Logger.LogAttrs(ctx, level, "rancher user lookup failed",
			slog.String("tokenHash", key[:12]), slog.String("error", f.err.Error()))
	} else {
		r.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "rancher user resolved",
			slog.String("tokenHash", key[:12]), slog.String("userId", f.user.ID))
	}
}

// store caches e; r.mu is held. Expired entries are dropped when the cache is full.
func (r *UserResolver) store(key string, e cacheEntry, now time.Time) {
	if len(r.cache) >= maxCacheEntries {
		for k, old := range r.cache {
			if !now.Before(old.expires) {
				delete(r.cache, k)
			}
		}
	}
	r.cache[key] = e
}

func (r *UserResolver) fetch(ctx context.Context, token string) (User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.opts.RancherURL+"/v3/users?me=true", nil)
	if err != nil {
		return User{}, fmt.Errorf("rancher: resolve user: %w", err)
	}
	req.Header.Set("Cookie", SessionCookie+"="+token)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		return User{}, fmt.Errorf("rancher: resolve user: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return User{}, fmt.Errorf("%w: rancher answered %d", ErrUnauthenticated, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return User{}, fmt.Errorf("rancher: resolve user: unexpected status %d", resp.StatusCode)
	}
	var body struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&body); err != nil {
		return User{}, fmt.Errorf("rancher: resolve user: decode /v3/users: %w", err)
	}
	if len(body.Data) == 0 || body.Data[0].ID == "" {
		return User{}, fmt.Errorf("%w: no user for this session", ErrUnauthenticated)
	}
	return User{ID: body.Data[0].ID, Token: token}, nil
}
