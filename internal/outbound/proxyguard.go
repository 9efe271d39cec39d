package outbound

import (
	"fmt"
	"io"
	"net/http"
)

// proxyGuard sits in front of a transport that may send a request through
// a proxy. The dial-time check (dialControl) then only sees the proxy's
// address, so for a proxied request the guard resolves the target's name
// itself and refuses it when any address is link-local or a metadata
// service (ErrBlockedAddress), before anything is sent. A proxied request
// that fails, or that the proxy answers with its own error (407, 502, 503,
// 504), becomes ErrUnreachable and nothing else: the proxy's wording,
// timing class or status must not tell the caller whether an internal host
// or port exists.
//
// The proxy resolves the name again; a name whose DNS answer changes
// between the two lookups (rebinding) is the proxy's to refuse, as every
// corporate proxy does for metadata addresses.
type proxyGuard struct {
	base http.RoundTripper
	net  Network
}

func (g *proxyGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	proxy, err := g.net.proxyFor(req.URL)
	if err != nil || proxy == nil {
		if err != nil {
			closeBody(req)
			return nil, fmt.Errorf("%w", ErrUnreachable)
		}
		return g.base.RoundTrip(req)
	}
	ips, err := g.net.lookup(req.Context(), req.URL.Hostname())
	if err != nil || len(ips) == 0 {
		closeBody(req)
		if cerr := req.Context().Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%w", ErrUnreachable)
	}
	for _, ip := range ips {
		if blockedAddr(ip) {
			closeBody(req)
			return nil, fmt.Errorf("%w: %s", ErrBlockedAddress, ip)
		}
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		if cerr := req.Context().Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%w", ErrUnreachable)
	}
	// Only a plain-HTTP request gets the proxy's own answer as a
	// response; an https one is tunneled (CONNECT) and a failed tunnel is
	// an error above, so its statuses are the target's.
	switch resp.StatusCode {
	case http.StatusProxyAuthRequired, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if req.URL.Scheme != "http" {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("%w", ErrUnreachable)
	}
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
