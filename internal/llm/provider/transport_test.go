package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// countDials makes c's transport count the connections it opens.
func countDials(c *http.Client) *atomic.Int64 {
	var n atomic.Int64
	base := c.Transport.(*idleTransport).base.(*http.Transport)
	dial := base.DialContext
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return dial(ctx, network, addr)
	}
	return &n
}

// TestIdleBodyStallsAndDrains: one timer per response bounds both the
// silence inside a stream (ErrStalled, the request's cause) and the drain
// of a body closed before its end. A drained body gives its connection
// back (the next request dials nothing); a body whose rest never comes is
// given up after drainTimeout and its connection closed.
func TestIdleBodyStallsAndDrains(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flush(w, "first\n")
		switch r.URL.Path {
		case "/silent", "/endless":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			flush(w, "rest\n")
		}
	}))
	defer srv.Close()
	c := newHTTPClient(100 * time.Millisecond)
	dials := countDials(c)
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len("first\n"))
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := get("/silent")
	_, err := io.ReadAll(resp.Body)
	if err == nil || !errors.Is(context.Cause(resp.Request.Context()), ErrStalled) {
		t.Fatalf("silent stream: read error %v, cause %v; want ErrStalled", err, context.Cause(resp.Request.Context()))
	}
	resp.Body.Close()

	get("/short").Body.Close() // its rest is drained: the connection is kept
	before := dials.Load()
	get("/short").Body.Close()
	if dials.Load() != before {
		t.Fatalf("a drained body's connection was not reused: %d dials", dials.Load()-before)
	}

	resp = get("/endless")
	resp.Body.Close() // returns once the drain timer cancelled the request
	if cause := context.Cause(resp.Request.Context()); !errors.Is(cause, errDrained) {
		t.Fatalf("undrained body: cause %v, want errDrained", cause)
	}
}
