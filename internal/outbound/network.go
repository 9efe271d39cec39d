package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Network is how the agent reaches other hosts: the proxy chosen for each
// request URL and the resolver the dialers use. It is read once, in the
// wiring (NetworkFromEnv), and handed to every client that leaves the
// process: model providers, MCP sessions, OAuth, Rancher, Kubernetes
// outside the cluster, the OTLP exporter. The zero Network sends every
// request directly and resolves names with the system resolver.
type Network struct {
	// Proxy returns the proxy for a request URL, nil for a direct
	// connection (httpproxy.Config.ProxyFunc semantics: loopback and
	// NO_PROXY hosts go direct). Nil: never a proxy.
	Proxy func(*url.URL) (*url.URL, error)
	// Resolve returns the addresses of a host name; nil means
	// net.DefaultResolver. Tests map names such as model.test to
	// 127.0.0.1 with it, since Go never proxies a loopback URL.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NetworkFromEnv reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their
// lower-case forms, the upper case winning, as http.ProxyFromEnvironment
// does) through getenv, once. A proxy URL without a scheme means http://.
func NetworkFromEnv(getenv func(string) string) Network {
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return getenv(strings.ToLower(name))
	}
	cfg := httpproxy.Config{HTTPProxy: get("HTTP_PROXY"), HTTPSProxy: get("HTTPS_PROXY"), NoProxy: get("NO_PROXY")}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return Network{}
	}
	return Network{Proxy: cfg.ProxyFunc()}
}

// ProxyFunc is Proxy in the form http.Transport.Proxy takes (nil when no
// proxy is configured, so the transport never consults the environment).
func (n Network) ProxyFunc() func(*http.Request) (*url.URL, error) {
	if n.Proxy == nil {
		return nil
	}
	return func(r *http.Request) (*url.URL, error) { return n.Proxy(r.URL) }
}

// proxyFor returns the proxy of u, nil when none.
func (n Network) proxyFor(u *url.URL) (*url.URL, error) {
	if n.Proxy == nil {
		return nil, nil
	}
	return n.Proxy(u)
}

// lookup resolves host (an IP literal stands for itself).
func (n Network) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	if n.Resolve != nil {
		return n.Resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// DialContext returns d.DialContext when the system resolver is used, else
// a dial that resolves the host with Resolve and tries each address in turn
// (d's Control hook still sees every IP dialed).
func (n Network) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.Resolve == nil {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		ips, err := n.lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		var errs []error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil, fmt.Errorf("dial %s: no address", addr)
		}
		return nil, errors.Join(errs...)
	}
}

// Transport returns a clone of Go's default transport that goes through
// n: its proxy and its resolver. Callers tune pools and TLS on the result.
func (n Network) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	n.Apply(tr, &net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second})
	return tr
}

// Apply makes tr go through n: Proxy from n (never from the environment)
// and DialContext from d with n's resolver.
func (n Network) Apply(tr *http.Transport, d *net.Dialer) {
	tr.Proxy = n.ProxyFunc()
	tr.DialContext = n.DialContext(d)
}
