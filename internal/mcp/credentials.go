package mcp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

// ErrOAuth2Credentials is wrapped by FixedHeaderCredentials for OAUTH2 agents,
// whose credentials package oauth supplies.
var ErrOAuth2Credentials = errors.New("OAUTH2 credentials are provided by the oauth package")

// RancherIdentity is the user's Rancher token and Rancher URL, for RANCHER auth.
type RancherIdentity struct{ Token, URL string }

// fixedHeaders sets the same headers on every request.
type fixedHeaders struct {
	key     string
	headers [][2]string // name, value; order is stable
}

func (c *fixedHeaders) CacheKey() string { return c.key }

func (c *fixedHeaders) Authorize(req *http.Request) error {
	for _, h := range c.headers {
		req.Header.Set(h[0], h[1])
	}
	return nil
}

func newFixedHeaders(typ v1alpha1.AuthenticationType, headers [][2]string) *fixedHeaders {
	h := sha256.New()
	h.Write([]byte(typ))
	for _, kv := range headers {
		h.Write([]byte{0})
		h.Write([]byte(kv[0]))
		h.Write([]byte{0})
		h.Write([]byte(kv[1]))
	}
	return &fixedHeaders{key: string(typ) + ":" + hex.EncodeToString(h.Sum(nil)), headers: headers}
}

// FixedHeaderCredentials builds the Credentials of the authentication types
// that set the same headers on every request: NONE (none), RANCHER (the
// user's R_token and R_url), BASIC and HEADER (from the agent's Secret). For
// OAUTH2 it returns an error wrapping ErrOAuth2Credentials.
func FixedHeaderCredentials(a agentconfig.Agent, rancher RancherIdentity) (Credentials, error) {
	switch typ := a.Spec.AuthenticationType; typ {
	case "", v1alpha1.AuthNone:
		return newFixedHeaders(v1alpha1.AuthNone, nil), nil
	case v1alpha1.AuthRancher:
		return newFixedHeaders(typ, [][2]string{{"R_token", rancher.Token}, {"R_url", rancher.URL}}), nil
	case v1alpha1.AuthBasic:
		var vals [2]string
		for i, k := range []string{"username", "password"} {
			v, ok := a.AuthSecret[k]
			if !ok {
				return nil, fmt.Errorf("agent %q: BASIC authentication secret %q has no key %q", a.Name, a.Spec.AuthenticationSecret, k)
			}
			vals[i] = string(v)
		}
		b := base64.StdEncoding.EncodeToString([]byte(vals[0] + ":" + vals[1]))
		return newFixedHeaders(typ, [][2]string{{"Authorization", "Basic " + b}}), nil
	case v1alpha1.AuthHeader:
		if len(a.AuthSecret) == 0 {
			return nil, fmt.Errorf("agent %q: HEADER authentication secret %q has no keys", a.Name, a.Spec.AuthenticationSecret)
		}
		names := make([]string, 0, len(a.AuthSecret))
		for k := range a.AuthSecret {
			if !validHeaderName(k) {
				return nil, fmt.Errorf("agent %q: HEADER authentication secret key %q is not a valid HTTP header name", a.Name, k)
			}
			names = append(names, k)
		}
		sort.Strings(names)
		headers := make([][2]string, 0, len(names))
		for _, k := range names {
			v := strings.TrimRight(string(a.AuthSecret[k]), "\r\n")
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("agent %q: HEADER authentication secret key %q has an invalid header value", a.Name, k)
			}
			headers = append(headers, [2]string{k, v})
		}
		return newFixedHeaders(typ, headers), nil
	case v1alpha1.AuthOAuth2:
		return nil, fmt.Errorf("agent %q: %w", a.Name, ErrOAuth2Credentials)
	default:
		return nil, fmt.Errorf("agent %q: unknown authentication type %q", a.Name, typ)
	}
}

// validHeaderName reports whether s is an RFC 7230 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
