// Package proxytest is a recording forward proxy for tests: it tunnels
// CONNECT requests and forwards absolute-form HTTP requests (RFC 9110
// §9.3.6, RFC 9112 §3.2.2), and records one line per request it forwarded
// ("CONNECT host:port", "GET http://host:port/path"). Host names are
// resolved with the resolver given, so test names such as model.test can
// reach loopback servers: Go's clients never send a loopback URL through a
// proxy, so tests address their servers by such names.
package proxytest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Resolver maps every name ending in ".test" to 127.0.0.1 and refuses the
// others: the resolver of Proxy and of the clients under test.
func Resolver(_ context.Context, host string) ([]netip.Addr, error) {
	if strings.HasSuffix(strings.ToLower(host), ".test") {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, fmt.Errorf("proxytest: no address for %q", host)
}

// Proxy is a running recording proxy.
type Proxy struct {
	URL *url.URL

	srv     *http.Server
	ln      net.Listener
	forward *httputil.ReverseProxy
	tr      *http.Transport
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	log    []string
	tunnel map[net.Conn]struct{}
	wg     sync.WaitGroup
	seen   chan struct{} // signalled (non-blocking) on every record
}

// Start starts a proxy on 127.0.0.1 that resolves names with resolve (nil:
// Resolver); it is closed at the end of the test.
func Start(t testing.TB, resolve func(context.Context, string) ([]netip.Addr, error)) *Proxy {
	t.Helper()
	if resolve == nil {
		resolve = Resolver
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: listen: %v", err)
	}
	p := &Proxy{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}, ln: ln, tunnel: map[net.Conn]struct{}{}, seen: make(chan struct{}, 1)}
	d := &net.Dialer{Timeout: 5 * time.Second}
	p.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err != nil {
			ips, err := resolve(ctx, host)
			if err != nil || len(ips) == 0 {
				return nil, fmt.Errorf("proxytest: resolve %s: %v", host, err)
			}
			host = ips[0].String()
		}
		return d.DialContext(ctx, network, net.JoinHostPort(host, port))
	}
	p.tr = &http.Transport{DialContext: p.dial, Proxy: nil}
	p.forward = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.URL = r.In.URL; r.Out.Host = r.In.Host },
		Transport:     p.tr,
		FlushInterval: -1,
		ErrorLog:      nil,
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); _ = p.srv.Serve(ln) }()
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) record(line string) {
	p.mu.Lock()
	p.log = append(p.log, line)
	p.mu.Unlock()
	select {
	case p.seen <- struct{}{}:
	default:
	}
}

// Log returns the lines recorded so far, in order.
func (p *Proxy) Log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

// Saw reports whether a recorded line starts with prefix.
func (p *Proxy) Saw(prefix string) bool {
	return slices.ContainsFunc(p.Log(), func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// WaitFor waits until a line starting with prefix is recorded or ctx ends.
func (p *Proxy) WaitFor(ctx context.Context, prefix string) error {
	for {
		if p.Saw(prefix) {
			return nil
		}
		select {
		case <-p.seen:
		case <-ctx.Done():
			return fmt.Errorf("proxytest: no %q in %q: %w", prefix, p.Log(), ctx.Err())
		}
	}
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.record("CONNECT " + r.Host)
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "proxytest: not a proxy request", http.StatusBadRequest)
		return
	}
	p.record(r.Method + " " + r.URL.Scheme + "://" + r.URL.Host + r.URL.Path)
	p.forward.ServeHTTP(w, r)
}

func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	up, err := p.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		http.Error(w, "proxytest: "+err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "proxytest: no hijack", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	down, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	p.mu.Lock()
	p.tunnel[up], p.tunnel[down] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var once sync.Once
	done := func() {
		once.Do(func() {
			up.Close()
			down.Close()
			p.mu.Lock()
			delete(p.tunnel, up)
			delete(p.tunnel, down)
			p.mu.Unlock()
		})
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		defer done()
		if n := rw.Reader.Buffered(); n > 0 {
			b, _ := rw.Reader.Peek(n)
			if _, err := up.Write(b); err != nil {
				return
			}
		}
		_, _ = io.Copy(up, down)
	}()
	go func() {
		defer p.wg.Done()
		defer done()
		_, _ = io.Copy(down, up)
	}()
}

// Close stops the proxy and every tunnel.
func (p *Proxy) Close() {
	_ = p.srv.Close()
	p.mu.Lock()
	for c := range p.tunnel {
		c.Close()
	}
	p.mu.Unlock()
	p.tr.CloseIdleConnections()
	p.wg.Wait()
}
