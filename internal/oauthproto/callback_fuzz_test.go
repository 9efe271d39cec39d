package oauthproto

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseCallback: the query of the redirect back to us yields a code
// only when the state matches and the iss (RFC 9207) is the flow's issuer;
// every refusal is a classified error that never repeats the code.
func FuzzParseCallback(f *testing.F) {
	const state, issuer = "state-4f9a0c", "https://as.example.com"
	for _, q := range []string{
		"code=abc123secretcode&state=" + state + "&iss=" + url.QueryEscape(issuer),
		"code=abc&state=" + state,
		"error=access_denied&error_description=no&state=" + state + "&iss=" + url.QueryEscape(issuer),
		"error=%3Cscript%3E&state=" + state,
		"code=x&state=other", "state=" + state, "", "%zz", "code=a&code=b&state=" + state + "&state=x",
	} {
		f.Add(q)
	}
	p := Pending{State: state, Issuer: issuer}
	as := &ASMetadata{Issuer: issuer, AuthorizationResponseIssParameterSupported: true}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // the HTTP server rejects it before us
		}
		code, err := ParseCallback(q, p, as)
		if err == nil {
			if code == "" || code != q.Get("code") || q.Get("state") != state || q.Get("iss") != issuer || q.Get("error") != "" {
				t.Fatalf("accepted %q: code %q", raw, code)
			}
			return
		}
		if code != "" {
			t.Fatalf("code %q with error %v", code, err)
		}
		if !errors.Is(err, ErrStateMismatch) && !errors.Is(err, ErrIssMissing) && !errors.Is(err, ErrIssMismatch) &&
			!errors.Is(err, ErrIssuerMismatch) && !errors.Is(err, ErrAuthorizationDenied) {
			t.Fatalf("unclassified error %v", err)
		}
		if c := q.Get("code"); len(c) >= 6 && strings.Contains(err.Error(), c) {
			t.Fatalf("error %q repeats the code", err)
		}
	})
}
