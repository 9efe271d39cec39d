package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/outbound/proxytest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNetworkFromEnvSemantics(t *testing.T) {
	mustURL := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	for _, tc := range []struct {
		env        map[string]string
		target     string
		wantProxy  string
		wantDirect bool
	}{
		{env: map[string]string{"HTTPS_PROXY": "http://p.example:3128"}, target: "https://api.openai.com/v1", wantProxy: "http://p.example:3128"},
		{env: map[string]string{"https_proxy": "p.example:8080"}, target: "https://a.example/", wantProxy: "http://p.example:8080"},
		{env: map[string]string{"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"}, target: "https://a.example/", wantProxy: "http://upper:1"},
		{env: map[string]string{"HTTP_PROXY": "http://p:1"}, target: "https://a.example/", wantDirect: true}, // HTTPS needs HTTPS_PROXY
		{env: map[string]string{"HTTP_PROXY": "http://p:1"}, target: "http://a.example/", wantProxy: "http://p:1"},
		{env: map[string]string{"HTTP_PROXY": "http://p:1", "NO_PROXY": ".svc,.cluster.local"}, target: "http://mcp.ns.svc/", wantDirect: true},
		{env: map[string]string{"HTTP_PROXY": "http://p:1", "no_proxy": "10.0.0.0/8"}, target: "http://10.1.2.3/", wantDirect: true},
		{env: map[string]string{"HTTP_PROXY": "http://p:1"}, target: "http://127.0.0.1:8080/", wantDirect: true},
		{env: map[string]string{"HTTP_PROXY": "http://p:1"}, target: "http://localhost/", wantDirect: true},
		{env: map[string]string{}, target: "http://a.example/", wantDirect: true},
	} {
		n := NetworkFromEnv(envOf(tc.env))
		got, err := n.proxyFor(mustURL(tc.target))
		if err != nil {
			t.Fatalf("%v %s: %v", tc.env, tc.target, err)
		}
		switch {
		case tc.wantDirect && got != nil:
			t.Errorf("%v %s: proxy %s, want direct", tc.env, tc.target, got)
		case !tc.wantDirect && (got == nil || got.String() != tc.wantProxy):
			t.Errorf("%v %s: proxy %v, want %s", tc.env, tc.target, got, tc.wantProxy)
		}
	}
	if NetworkFromEnv(envOf(nil)).ProxyFunc() != nil {
		t.Error("no proxy configured: ProxyFunc must be nil so the transport never reads the environment")
	}
}

// testNetwork is a Network whose proxy is p (NO_PROXY noProxy) and whose
// resolver maps *.test to loopback, plus the names in extra.
func testNetwork(p *proxytest.Proxy, noProxy string, extra map[string]string) Network {
	n := NetworkFromEnv(envOf(map[string]string{"HTTP_PROXY": p.URL.String(), "HTTPS_PROXY": p.URL.String(), "NO_PROXY": noProxy}))
	n.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
		if ip, ok := extra[host]; ok {
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		}
		return proxytest.Resolver(ctx, host)
	}
	return n
}

func hostPort(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestGuardedClientGoesThroughProxy(t *testing.T) {
	p := proxytest.Start(t, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls") }))
	defer tls.Close()
	hc := NewClient(Options{Network: testNetwork(p, "direct.test", nil), InsecureSkipTLS: true})
	defer hc.CloseIdleConnections()

	for _, tc := range []struct{ url, want, saw string }{
		{"http://auth.test:" + hostPort(t, srv.URL) + "/.well-known/x", "ok", "GET http://auth.test:" + hostPort(t, srv.URL) + "/.well-known/x"},
		{"https://auth.test:" + hostPort(t, tls.URL) + "/token", "tls", "CONNECT auth.test:" + hostPort(t, tls.URL)},
	} {
		resp, err := hc.Get(tc.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want {
			t.Fatalf("GET %s: body %q", tc.url, b)
		}
		if !p.Saw(tc.saw) {
			t.Fatalf("proxy log %q lacks %q", p.Log(), tc.saw)
		}
	}
	// NO_PROXY: straight to the server, the proxy sees nothing new.
	before := len(p.Log())
	resp, err := hc.Get("http://direct.test:" + hostPort(t, srv.URL) + "/")
	if err != nil {
		t.Fatalf("NO_PROXY host: %v", err)
	}
	resp.Body.Close()
	if after := p.Log(); len(after) != before {
		t.Fatalf("NO_PROXY host went through the proxy: %q", after[before:])
	}
}

func TestGuardedClientJudgesTargetNotProxy(t *testing.T) {
	p := proxytest.Start(t, nil)
	hc := NewClient(Options{Network: testNetwork(p, "", map[string]string{"metadata.test": "169.254.169.254", "imds6.test": "fd00:ec2::254"})})
	defer hc.CloseIdleConnections()
	for _, u := range []string{"http://metadata.test/latest/meta-data/", "https://metadata.test/", "http://imds6.test/", "http://169.254.169.254/"} {
		_, err := hc.Get(u)
		if !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("GET %s through the proxy: err = %v, want ErrBlockedAddress", u, err)
		}
	}
	if l := p.Log(); len(l) != 0 {
		t.Fatalf("a blocked target reached the proxy: %q", l)
	}
}

func TestGuardedClientProxyErrorsAreUniform(t *testing.T) {
	// The proxy reaches open.test but nothing listens on closed.test's
	// port, and it cannot resolve gone.test at all; it answers each
	// failure in its own words (502 with a text). The caller must get the
	// same error every time.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := hostPort(t, "http://"+ln.Addr().String())
	ln.Close()
	p := proxytest.Start(t, func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "gone.test" {
			return nil, errors.New("no such host")
		}
		return proxytest.Resolver(ctx, host)
	})
	hc := NewClient(Options{Network: testNetwork(p, "", nil)})
	defer hc.CloseIdleConnections()
	var msgs []string
	for _, u := range []string{
		"http://closed.test:" + closedPort + "/", "https://closed.test:" + closedPort + "/",
		"http://gone.test/", "https://gone.test/",
	} {
		resp, err := hc.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s: status %s, want an error", u, resp.Status)
		}
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("GET %s: err = %v, want ErrUnreachable", u, err)
		}
		msgs = append(msgs, strings.TrimPrefix(err.Error(), fmt.Sprintf("Get %q: ", u)))
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("proxy failures differ: %q", msgs)
		}
	}
	if len(p.Log()) != 4 {
		t.Fatalf("proxy log %q: want the 4 requests", p.Log())
	}
}
