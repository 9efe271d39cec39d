package rancher

import (
	"crypto/tls"
	"net/http"

	"github.com/rancher/ai-agent/internal/outbound"
)

// maxIdleConnsPerHost is how many idle connections to Rancher the client
// keeps: user lookups and RBAC checks of many users run at once against one
// host, and Go's default of 2 idle connections per host makes most of them
// dial.
const maxIdleConnsPerHost = 256

// NewHTTPClient returns the client for Rancher's API: a 10 s timeout, a
// connection pool sized for many concurrent users, HTTP/2 where Rancher
// offers it over TLS, and tlsCfg (nil: the system roots).
func NewHTTPClient(tlsCfg *tls.Config) *http.Client {
	return NewHTTPClientVia(tlsCfg, outbound.Network{})
}

// NewHTTPClientVia is NewHTTPClient through n's proxy and resolver (NO_PROXY
// keeps an in-cluster Rancher direct).
func NewHTTPClientVia(tlsCfg *tls.Config, n outbound.Network) *http.Client {
	tr := n.Transport()
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConnsPerHost, maxIdleConnsPerHost
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg
	}
	return &http.Client{Timeout: fetchTimeout, Transport: tr}
}
