package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Errors of the guarded client. Match them with errors.Is.
var (
	// ErrBlockedAddress: the outbound client refused to connect to a
	// link-local or cloud-metadata address.
	ErrBlockedAddress = errors.New("outbound: destination address is not allowed")
	// ErrBodyTooLarge: a response body exceeded Options.MaxBody.
	ErrBodyTooLarge = errors.New("outbound: response body too large")
	// ErrCrossOriginRedirect: a redirect pointed to another origin.
	ErrCrossOriginRedirect = errors.New("outbound: cross-origin redirect refused")
	// ErrUnreachable: a request sent through the proxy failed, whatever
	// the proxy answered (refused, unknown host, timeout, a gateway
	// error): one error, so that the proxy's answers cannot be used to
	// scan what lies behind it.
	ErrUnreachable = errors.New("outbound: destination not reachable through the proxy")
)

// Defaults for Options.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 1 << 20 // 1 MiB
	maxRedirects   = 5
	// maxIdleConnsPerHost: token refreshes and discovery of many users reach
	// one authorization server at once; Go's default of 2 idle connections
	// per host would make most of them dial.
	maxIdleConnsPerHost = 256
)

// Options configures NewClient. Zero values select defaults.
type Options struct {
	// Timeout bounds a whole request including redirects and body read
	// (default 10 s).
	Timeout time.Duration
	// MaxBody caps every response body (default 1 MiB); reading more fails
	// with ErrBodyTooLarge.
	MaxBody int64
	// RootCAs replaces the system roots when set (e.g. the admin's caBundle).
	RootCAs *x509.CertPool
	// InsecureSkipTLS disables certificate verification (INSECURE_SKIP_TLS).
	InsecureSkipTLS bool
	// Network is the proxy and resolver (zero: direct, system resolver).
	// Through a proxy the address check still judges the final target:
	// its name is resolved here and refused before the request leaves.
	Network Network
}

// blockedAddr reports whether ip (IPv4-mapped IPv6 included) is a destination
// a user-controlled URL must never reach: link-local ranges (which include the
// AWS/GCP/Azure metadata service at 169.254.169.254) and the Alibaba and AWS
// IPv6 metadata addresses. Loopback stays allowed (tests, the local demo).
func blockedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() { // 169.254.0.0/16, fe80::/10
		return true
	}
	switch ip {
	case netip.AddrFrom4([4]byte{100, 100, 100, 200}), // Alibaba Cloud metadata
		netip.AddrFrom16([16]byte{0xfd, 0x00, 0x0e, 0xc2, 14: 0x02, 15: 0x54}): // AWS IMDS IPv6
		return true
	}
	return false
}

// dialControl runs after DNS resolution on the concrete IP being dialed, so a
// hostname that resolves (or re-resolves) to a blocked address is refused.
func dialControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBlockedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrBlockedAddress, host)
	}
	if blockedAddr(ip) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ip)
	}
	return nil
}

// NewClient returns the HTTP client used for every request made on a
// user's behalf (discovery, registration, token). It enforces:
//   - a total timeout per request;
//   - a response size limit (ErrBodyTooLarge);
//   - redirects only within the origin of the original request
//     (ErrCrossOriginRedirect), at most 5;
//   - no connections to link-local or cloud-metadata addresses
//     (ErrBlockedAddress), checked on the dialed IP;
//   - the proxy of opts.Network, never one read from the environment; a
//     proxied request's target is resolved and checked first, and every
//     proxied failure is ErrUnreachable (proxyGuard).
func NewClient(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	dialer := &net.Dialer{
		Timeout:   opts.Timeout,
		KeepAlive: 30 * time.Second,
		Control:   dialControl,
	}
	tr := &http.Transport{
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            opts.RootCAs,
			InsecureSkipVerify: opts.InsecureSkipTLS, //nolint:gosec // explicit admin opt-in
		},
	}
	opts.Network.Apply(tr, dialer)
	var rt http.RoundTripper = tr
	if opts.Network.Proxy != nil {
		rt = &proxyGuard{base: tr, net: opts.Network}
	}
	return &http.Client{
		Timeout:       opts.Timeout,
		Transport:     &limitTransport{base: rt, max: opts.MaxBody},
		CheckRedirect: sameOriginRedirect,
	}
}

func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("outbound: stopped after %d redirects", maxRedirects)
	}
	if Origin(req.URL) != Origin(via[0].URL) {
		return fmt.Errorf("%w: %s -> %s", ErrCrossOriginRedirect, Origin(via[0].URL), Origin(req.URL))
	}
	return nil
}

// origin returns scheme://host:port with defaults made explicit and case folded.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// SameOrigin compares the origins of two absolute URLs.
func SameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && Origin(ua) == Origin(ub)
}

type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrBodyTooLarge, resp.ContentLength, t.max)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// limitedBody fails with ErrBodyTooLarge once more than the limit is read
// (instead of silently truncating, which would turn into confusing JSON errors).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), fmt.Errorf("%w", ErrBodyTooLarge)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ReadBody reads a (size-limited) response body.
func ReadBody(ctx context.Context, r io.Reader) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
