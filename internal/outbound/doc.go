// Package outbound is how the agent leaves the process: the network every
// outbound client goes through (proxy and resolver), and the guarded HTTP
// client for requests whose URL a user or an administrator chose: OAuth
// discovery, client registration, token, refresh and revocation requests
// on a user's behalf (package oauthproto, driven by package oauth) and the
// model catalog's Ollama and Bedrock listings (package llm/provider).
//
// What lives here, one job per file:
//
//   - network.go  Network, read once by NetworkFromEnv from HTTP_PROXY,
//     HTTPS_PROXY and NO_PROXY (or their lower-case forms, the upper case
//     winning; golang.org/x/net/http/httpproxy semantics, as
//     http.ProxyFromEnvironment: loopback and NO_PROXY hosts go direct),
//     and handed by the wiring to every client that leaves the process:
//     model providers, MCP sessions, OAuth, Rancher, Kubernetes outside the
//     cluster and the OTLP exporter. No client reads the proxy variables
//     itself. Transport and Apply make an http.Transport use its proxy and
//     its resolver (tests map *.test names to loopback with it, since Go
//     never proxies a loopback URL).
//   - outbound.go  NewClient: a total timeout per request, a response size
//     cap (ErrBodyTooLarge), redirects only within the origin of the first
//     request (ErrCrossOriginRedirect, RFC 6454 origins), the proxy of its
//     Network, and no link-local or cloud-metadata destination
//     (ErrBlockedAddress), checked on the dialed IP so DNS rebinding cannot
//     bypass it; Origin and SameOrigin, the origin comparison its callers
//     share; ReadBody, a context-aware read of a capped body.
//   - proxyguard.go  proxyGuard, in front of a NewClient transport with a
//     proxy: the dial-time check then sees only the proxy, so the guard
//     resolves the target itself and refuses a blocked address before
//     anything is sent, and turns every proxied failure and the proxy's
//     own error answers (407, 502, 503, 504) into ErrUnreachable, so that
//     a proxy's answer is never a scan oracle for internal hosts.
//
// Subpackage proxytest is a recording forward proxy for tests (CONNECT
// tunnels and absolute-form requests, one line per request: method, host,
// path; never a query or a body).
//
// It keeps no package-level mutable state; each NewClient has its own
// connection pool.
package outbound
