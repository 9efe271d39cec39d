// Package outbound is the guarded HTTP client for requests whose URL a user
// or an administrator chose: OAuth discovery, client registration and token
// requests on a user's behalf (package oauthproto, driven by package oauth)
// and the model catalog's Ollama and Bedrock listings (package
// llm/provider).
//
// What lives here, one job per file:
//
//   - outbound.go  NewClient: a total timeout per request, a response size
//     cap (ErrBodyTooLarge), redirects only within the origin of the first
//     request (ErrCrossOriginRedirect, RFC 6454 origins), no proxy from the
//     environment and no link-local or cloud-metadata destination
//     (ErrBlockedAddress), checked on the dialed IP so DNS rebinding cannot
//     bypass it; Origin and SameOrigin, the origin comparison its callers
//     share; ReadBody, a context-aware read of a capped body.
//
// It keeps no package-level mutable state; each NewClient has its own
// connection pool.
package outbound
