package origins

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Errors of Check; match them with errors.Is.
var (
	// ErrOrigin: the request's Origin header names an origin that is not allowed.
	ErrOrigin = errors.New("origins: origin not allowed")
	// ErrCrossSite: the browser marked the request Sec-Fetch-Site: cross-site.
	ErrCrossSite = errors.New("origins: cross-site request")
	// ErrInvalid: a configured origin is not an absolute http(s) URL.
	ErrInvalid = errors.New("origins: invalid origin")
)

// Policy is a fixed set of allowed origins. The zero value and a nil
// *Policy allow none. It is safe for concurrent use (it never changes).
type Policy struct {
	list []string
}

// Of returns the ASCII serialisation of the origin of an absolute http(s)
// URL (RFC 6454 §6.2): scheme "://" host [":" port], in lower case, the
// scheme's default port left out. A bare origin is a URL too.
func Of(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalid, raw)
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme + "://" + hostPort(scheme, u.Host), nil
}

// hostPort is host[:port] in lower case without the scheme's default port.
func hostPort(scheme, authority string) string {
	authority = strings.ToLower(authority)
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		return authority // no port
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return authority
}

// New returns the policy that allows the origins of the given URLs. Empty
// entries are skipped, so optional settings can be passed as they are; any
// other entry must be an absolute http(s) URL.
func New(urls ...string) (*Policy, error) {
	p := &Policy{}
	for _, raw := range urls {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		o, err := Of(raw)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(p.list, o) {
			p.list = append(p.list, o)
		}
	}
	return p, nil
}

// Split splits a comma-separated list (ALLOWED_ORIGINS), dropping blanks.
func Split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// List returns the allowed origins in the order they were configured.
func (p *Policy) List() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.list)
}

// Allowed reports whether an Origin header value names an allowed origin.
// The opaque origin "null" is never allowed.
func (p *Policy) Allowed(origin string) bool {
	if p == nil || origin == "" || origin == "null" {
		return false
	}
	o, err := Of(origin)
	return err == nil && slices.Contains(p.list, o)
}

// ForHost returns the allowed origin whose host (and port) is host, a
// client-supplied Host or X-Forwarded-Host value; https is preferred when
// both schemes are allowed. ok is false for any other host, which then must
// not be used to build a URL.
func (p *Policy) ForHost(host string) (origin string, ok bool) {
	if p == nil || host == "" {
		return "", false
	}
	for _, scheme := range []string{"https", "http"} {
		o := scheme + "://" + hostPort(scheme, host)
		if slices.Contains(p.list, o) {
			return o, true
		}
	}
	return "", false
}

// Check applies the browser rules to a request: a Sec-Fetch-Site of
// cross-site is refused (ErrCrossSite), and so is an Origin header that is
// present and not allowed (ErrOrigin). A request with neither header (curl,
// a probe, a server-side client) passes: the rules only stop a browser
// from being used by another site.
func (p *Policy) Check(r *http.Request) error {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site")), "cross-site") {
		return ErrCrossSite
	}
	if o := r.Header.Get("Origin"); o != "" && !p.Allowed(o) {
		return fmt.Errorf("%w: %q", ErrOrigin, o)
	}
	return nil
}
