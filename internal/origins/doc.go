// Package origins is the agent's allow-list of browser origins (RFC 6454):
// the one value that decides whether a WebSocket handshake or a REST call
// that carries an Origin or Sec-Fetch-Site header comes from a page the
// administrator trusts, and which client-supplied host may name the OAuth
// redirect URI.
//
// The allowed origins come from configuration only (Rancher's server-url
// setting, RANCHER_URL, OAUTH_REDIRECT_URI, the demo's own address and
// ALLOWED_ORIGINS); a request never adds to them.
package origins
