package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher/ai-agent/internal/outbound"
)

// Timeouts of the provider HTTP client. There is no overall request timeout:
// a long answer may stream for minutes. Instead the client bounds connecting,
// waiting for the response headers, and any silence inside the stream.
const (
	DefaultDialTimeout   = 10 * time.Second
	DefaultHeaderTimeout = 2 * time.Minute // a local Ollama may first load the model
	DefaultIdleTimeout   = 2 * time.Minute
	// MaxIdleConnsPerHost is how many idle connections to one provider
	// host the pool keeps: every concurrent turn may hold one, and Go's
	// default of 2 makes a busy agent dial for most model calls. The pool
	// only ever holds connections that concurrency opened.
	MaxIdleConnsPerHost = 1024
	// drainLimit and drainTimeout bound what Close reads of a response the
	// caller did not read to its end (a stream stops at its "done" event,
	// before the chunked encoding's last bytes): read to EOF, the
	// connection goes back to the pool instead of being closed.
	drainLimit   = 64 << 10
	drainTimeout = 100 * time.Millisecond
	// WriteBufferSize is the transport's write buffer per connection: a
	// model request (headers, a long thread and the tool schemas, often
	// 5–30 KB) then leaves in one write syscall instead of one per 4 KiB
	// (Go's default). The buffer lives as long as its pooled connection,
	// one per concurrent model call at most.
	WriteBufferSize = 32 << 10
)

// NewHTTPClient is NewHTTPClientVia with a direct connection.
func NewHTTPClient(idle time.Duration) *http.Client {
	return NewHTTPClientVia(idle, outbound.Network{})
}

// NewHTTPClientVia returns the client the providers use: n's proxy and
// resolver (never the environment read here), bounded connect and header
// waits, a stream that fails with ErrStalled after idle without data, and
// connections kept for reuse (one client and pool per model, shared by
// every chat).
func NewHTTPClientVia(idle time.Duration, n outbound.Network) *http.Client {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	base := &http.Transport{
		Proxy:                 n.ProxyFunc(),
		DialContext:           n.DialContext(&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}),
		ForceAttemptHTTP2:     true, // HTTP/2 where the server offers it over TLS (ALPN)
		MaxIdleConns:          MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DefaultDialTimeout,
		ResponseHeaderTimeout: DefaultHeaderTimeout,
		WriteBufferSize:       WriteBufferSize,
	}
	return &http.Client{Transport: &idleTransport{base: base, idle: idle}}
}

// idleTransport cancels a request whose response body stays silent for idle.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	b := &idleBody{rc: resp.Body, ctx: ctx, cancel: cancel, idle: t.idle}
	b.timer = time.AfterFunc(t.idle, b.expired)
	resp.Body = b
	return resp, nil
}

// idleBody is a response body whose one timer bounds the silence while it
// is read (ErrStalled) and then, once re-armed by Close, the drain
// (errDrained): one timer per request, not two.
type idleBody struct {
	rc       io.ReadCloser
	ctx      context.Context
	cancel   context.CancelCauseFunc
	timer    *time.Timer
	idle     time.Duration
	draining atomic.Bool
	once     sync.Once
}

func (b *idleBody) expired() {
	if b.draining.Load() {
		b.cancel(errDrained)
		return
	}
	b.cancel(ErrStalled)
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

// Close reads what is left of the body (bounded by drainLimit and
// drainTimeout, skipped once the request was cancelled) so that the
// connection can be reused, then closes it.
func (b *idleBody) Close() error {
	b.once.Do(func() {
		b.timer.Stop()
		if b.ctx.Err() == nil {
			// Re-armed for the drain (no Read resets it after Close). A
			// stall timer that fired just now cancels the drain at once.
			b.draining.Store(true)
			b.timer.Reset(drainTimeout)
			_, _ = io.Copy(io.Discard, io.LimitReader(b.rc, drainLimit))
			b.timer.Stop()
		}
	})
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// errDrained cancels a response whose rest did not arrive within drainTimeout.
var errDrained = errors.New("provider: response not drained in time")

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
