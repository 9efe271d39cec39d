package oauthtest

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Host names (ASOptions.Host, MCPOptions.Host).
//
// Go's HTTP clients never send a request for 127.0.0.1 or localhost
// through a proxy, so a test of proxied OAuth traffic addresses the
// servers by names of the reserved .test domain (RFC 6761 §6.2) that its
// clients resolve to 127.0.0.1 with a resolver of their own (for example
// outbound/proxytest.Resolver). The servers still listen on 127.0.0.1;
// only the URLs they announce (issuer, endpoints, PRM resource) carry the
// name. oauthtest's own requests (metadata, JWKS, Approve, the test
// endpoints) dial 127.0.0.1 for any .test name, with no proxy.

// checkHost reports whether host is empty or a name under .test.
func checkHost(host string) bool {
	return host == "" || (strings.HasSuffix(strings.ToLower(host), ".test") && !strings.ContainsAny(host, ":/@[]"))
}

// loopbackClient is an HTTP client that reaches *.test names on 127.0.0.1
// and never uses a proxy.
func loopbackClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(strings.ToLower(host), ".test") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     5 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}
