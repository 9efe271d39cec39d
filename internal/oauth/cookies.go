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

func cookieAAD(kind, user, agent string) []byte {
	return []byte("cookie\x00" + kind + "\x00" + user + "\x00" + agent)
}

// sealedCookie builds one of the seed's cookies, sealed (encrypted and bound
// to user and agent), HttpOnly, Secure, SameSite=Strict, on path.
func (s *Service) sealedCookie(kind, user, agent, value, path string) *http.Cookie {
	return &http.Cookie{
		Name: CookieName(kind, agent), Value: s.o.Sealer.SealString(value, cookieAAD(kind, user, agent)),
		Path: path, MaxAge: int(cookieMaxAge.Seconds()), HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode,
	}
}

// openCookie returns the value of a sealed cookie among cookies, or "".
func (s *Service) openCookie(cookies []*http.Cookie, kind, user, agent string) string {
	name := CookieName(kind, agent)
	for _, c := range cookies {
		if c.Name != name {
			continue
		}
		if v, err := s.o.Sealer.OpenString(c.Value, cookieAAD(kind, user, agent)); err == nil {
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
