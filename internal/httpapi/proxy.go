package httpapi

import (
	"net/http"
	"strings"
)

// ProxyPrefix is the path Rancher's service proxy puts in front of ours.
const ProxyPrefix = "/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy"

// StripProxyPrefix serves paths that still carry ProxyPrefix as if they
// did not; other paths pass unchanged.
func StripProxyPrefix(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, ProxyPrefix); ok && strings.HasPrefix(rest, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = rest
			r2.URL.RawPath = ""
			h.ServeHTTP(w, r2)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RequestHost is the host the browser used: the first X-Forwarded-Host
// when a proxy set it, else Host. It is client-supplied: use it only to
// pick among configured values (an allowed origin's callback URL).
func RequestHost(r *http.Request) string {
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		if i := strings.IndexByte(h, ','); i >= 0 {
			h = h[:i]
		}
		return strings.TrimSpace(h)
	}
	return r.Host
}
