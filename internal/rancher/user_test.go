package rancher_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/rancher"
)

// fakeRancher answers /v3/users?me=true: token "good-<id>" is user <id>,
// "forbidden" gets 403, "nobody" gets empty data, anything else 401.
type fakeRancher struct {
	srv      *httptest.Server
	requests atomic.Int32
	release  chan struct{} // when non-nil, responses wait for it
	arrived  chan struct{} // when non-nil, gets a value per request
}

func newFake(t *testing.T) *fakeRancher {
	f := &fakeRancher{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if f.arrived != nil {
			f.arrived <- struct{}{}
		}
		if f.release != nil {
			<-f.release
		}
		c, err := r.Cookie("R_SESS")
		if r.URL.Path != "/v3/users" || r.URL.Query().Get("me") != "true" || err != nil ||
			r.Header.Get("Authorization") != "Bearer "+c.Value {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch tok := c.Value; {
		case strings.HasPrefix(tok, "good-"):
			_, _ = w.Write([]byte(`{"type":"collection","data":[{"id":"` + strings.TrimPrefix(tok, "good-") + `"}]}`))
		case tok == "forbidden":
			w.WriteHeader(http.StatusForbidden)
		case tok == "nobody":
			_, _ = w.Write([]byte(`{"data":[]}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func reqWithCookie(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/api/chats", nil)
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "R_SESS", Value: token})
	}
	return r
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestResolveCookie(t *testing.T) {
	f := newFake(t)
	var logs bytes.Buffer
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL + "/",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	u, err := r.Resolve(context.Background(), reqWithCookie("good-u-abc"))
	if err != nil || u.ID != "u-abc" || u.Token != "good-u-abc" {
		t.Fatalf("Resolve = %+v, %v", u, err)
	}
	if strings.Contains(logs.String(), "good-u-abc") || logs.Len() == 0 {
		t.Fatalf("logs leak the token or are empty: %q", logs.String())
	}
}

func TestResolveOverride(t *testing.T) {
	f := newFake(t)
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL, APIToken: "good-admin"})
	for _, cookie := range []string{"", "good-other"} {
		u, err := r.Resolve(context.Background(), reqWithCookie(cookie))
		if err != nil || u.ID != "admin" || u.Token != "good-admin" {
			t.Fatalf("cookie %q: Resolve = %+v, %v", cookie, u, err)
		}
	}
}

func TestResolveCacheAndExpiry(t *testing.T) {
	f := newFake(t)
	c := &clock{now: time.Unix(1000, 0)}
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL, Now: c.Now, CacheTTL: time.Minute})
	for range 3 {
		if _, err := r.Resolve(context.Background(), reqWithCookie("good-u1")); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("%d Rancher requests, want 1 (cached)", n)
	}
	c.Add(59 * time.Second)
	_, _ = r.Resolve(context.Background(), reqWithCookie("good-u1"))
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("%d requests before expiry", n)
	}
	c.Add(2 * time.Second)
	_, _ = r.Resolve(context.Background(), reqWithCookie("good-u1"))
	if n := f.requests.Load(); n != 2 {
		t.Fatalf("%d requests after expiry, want 2", n)
	}
	_, _ = r.Resolve(context.Background(), reqWithCookie("good-u2"))
	if n := f.requests.Load(); n != 3 {
		t.Fatalf("another token shared the cache entry")
	}
}

func TestResolveFailuresCachedBriefly(t *testing.T) {
	f := newFake(t)
	c := &clock{now: time.Unix(1000, 0)}
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL, Now: c.Now})
	for _, tok := range []string{"bad", "forbidden", "nobody"} {
		if _, err := r.Resolve(context.Background(), reqWithCookie(tok)); !errors.Is(err, rancher.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", tok, err)
		}
	}
	_, _ = r.Resolve(context.Background(), reqWithCookie("bad"))
	if n := f.requests.Load(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	c.Add(3 * time.Second)
	_, _ = r.Resolve(context.Background(), reqWithCookie("bad"))
	if n := f.requests.Load(); n != 4 {
		t.Fatalf("failure cached beyond 2s: %d requests", n)
	}
}

func TestResolveNoSession(t *testing.T) {
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: "http://127.0.0.1:1"})
	if _, err := r.Resolve(context.Background(), reqWithCookie("")); !errors.Is(err, rancher.ErrNoSession) {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveTransportError(t *testing.T) {
	f := newFake(t)
	f.srv.Close()
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL})
	_, err := r.Resolve(context.Background(), reqWithCookie("good-x"))
	if err == nil || errors.Is(err, rancher.ErrUnauthenticated) || strings.Contains(err.Error(), "good-x") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveConcurrentSingleRequest(t *testing.T) {
	f := newFake(t)
	f.release, f.arrived = make(chan struct{}), make(chan struct{}, 50)
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			u, err := r.Resolve(context.Background(), reqWithCookie("good-u9"))
			if err == nil && u.ID != "u9" {
				err = errors.New("wrong user " + u.ID)
			}
			errs <- err
		})
	}
	// The flight's request has reached Rancher: the other callers joined
	// it, or come after it and find its answer in the cache.
	<-f.arrived
	close(f.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("%d Rancher requests, want 1", n)
	}
}

func TestResolveCallerCancel(t *testing.T) {
	f := newFake(t)
	f.release, f.arrived = make(chan struct{}), make(chan struct{}, 50)
	r := rancher.NewUserResolver(rancher.UserOptions{RancherURL: f.srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Resolve(ctx, reqWithCookie("good-u9")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(f.release)
	u, err := r.Resolve(context.Background(), reqWithCookie("good-u9"))
	if err != nil || u.ID != "u9" {
		t.Fatalf("after cancel: %+v, %v", u, err)
	}
}
