package provider

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts of the provider HTTP client. There is no overall request timeout:
// a long answer may stream for minutes. Instead the client bounds connecting,
// waiting for the response headers, and any silence inside the stream.
const (
	DefaultDialTimeout   = 10 * time.Second
	DefaultHeaderTimeout = 2 * time.Minute // a local Ollama may first load the model
	DefaultIdleTimeout   = 2 * time.Minute
)

// NewHTTPClient returns the client the providers use: proxy from the
// environment, bounded connect and header waits, and a stream that fails
// with ErrStalled after idle without data.
func NewHTTPClient(idle time.Duration) *http.Client {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DefaultDialTimeout,
		ResponseHeaderTimeout: DefaultHeaderTimeout,
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
	b := &idleBody{rc: resp.Body, cancel: cancel}
	b.timer = time.AfterFunc(t.idle, func() { cancel(ErrStalled) })
	b.idle = t.idle
	resp.Body = b
	return resp, nil
}

type idleBody struct {
	rc     io.ReadCloser
	cancel context.CancelCauseFunc
	timer  *time.Timer
	idle   time.Duration
	once   sync.Once
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() { b.timer.Stop(); b.cancel(nil) })
	return err
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
