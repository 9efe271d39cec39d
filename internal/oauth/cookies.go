package oauth

import (
	"net/http"
	"strings"
	"time"
)

// Cookie kinds: the seed's cookie names are mcp_oauth_at_<agent> and
// mcp_oauth_rt_<agent>.
const (
	cookieAccess  = "at"
	cookieRefresh = "rt"
	cookieMaxAge  = 7 * 24 * time.Hour
)

// CookieName is the seed's cookie name for a kind ("at" or "rt") and agent.
func CookieName(kind, agent string) string { return "mcp_oauth_" + kind + "_" + agent }

// cookieAAD binds a cookie to its kind, user, agent and the authorization
// server that issued the token: a cookie from a former issuer of the agent
// does not open, so its token is never sent to the new one.
func cookieAAD(kind string, k TokenKey) []byte {
	return []byte("cookie\x00" + kind + "\x00" + k.User + "\x00" + k.Agent + "\x00" + k.Issuer)
}

// sealedCookie builds one of the seed's cookies, sealed (encrypted and bound
// to user, agent and issuer), HttpOnly, Secure, SameSite=Strict, on path.
func (s *Service) sealedCookie(kind string, k TokenKey, value, path string) *http.Cookie {
	return &http.Cookie{
		Name: CookieName(kind, k.Agent), Value: s.o.Sealer.SealString(value, cookieAAD(kind, k)),
		Path: path, MaxAge: int(cookieMaxAge.Seconds()), HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode,
	}
}

// openCookie returns the value of a sealed cookie of k among cookies, or "".
func (s *Service) openCookie(cookies []*http.Cookie, kind string, k TokenKey) string {
	name := CookieName(kind, k.Agent)
	for _, c := range cookies {
		if c.Name != name {
			continue
		}
		if v, err := s.o.Sealer.OpenString(c.Value, cookieAAD(kind, k)); err == nil {
			return v
		}
	}
	return ""
}

// cookiePath is the path the cookies are scoped to: the agent's own path,
// i.e. the redirect URI's path without /v1/api/oauth2/callback (Rancher's
// service-proxy prefix), so they reach the WebSocket and /refresh but no
// other service behind Rancher.
func cookiePath(redirectURI string) string {
	i := strings.Index(redirectURI, "://")
	if i < 0 {
		return "/"
	}
	rest := redirectURI[i+3:]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return "/"
	}
	p := strings.TrimSuffix(rest[j:], callbackPath)
	if p == "" {
		return "/"
	}
	return p
}
