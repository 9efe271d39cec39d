// Package httpapi holds the conventions every HTTP endpoint of the agent
// shares, so the server's routes and the OAuth endpoints answer alike.
//
// What lives here, one job per file:
//
//   - json.go   WriteJSON: a JSON answer (Content-Type application/json,
//     Cache-Control no-store: answers are per user and may carry
//     registration data).
//   - proxy.go  ProxyPrefix, the path Rancher's service proxy puts in front
//     of ours, and StripProxyPrefix, which serves such paths as if called
//     directly. The OAuth callback URL the agent registers includes it.
//     RequestHost, the host the browser used (X-Forwarded-Host behind a
//     proxy).
package httpapi
