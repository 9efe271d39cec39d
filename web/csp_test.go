package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPageHasContentSecurityPolicy(t *testing.T) {
	for _, tc := range []struct {
		hosts   []string
		img     string // the img-src directive
		refused []string
	}{
		{nil, "img-src 'self' data:", []string{"*", "http:", "https:"}},
		{[]string{"img.example", "cdn.example:8443"}, "img-src 'self' img.example cdn.example:8443 data:", []string{"*"}},
		// A value that would add a directive is dropped, not spliced in.
		{[]string{"evil.example; script-src *"}, "img-src 'self' data:", []string{"evil.example", "script-src *"}},
	} {
		for _, path := range []string{"/", "/chat.js"} {
			rec := httptest.NewRecorder()
			Handler(tc.hosts...).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: HTTP %d", path, rec.Code)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			directives := map[string]string{}
			for _, d := range strings.Split(csp, ";") {
				d = strings.TrimSpace(d)
				name, _, _ := strings.Cut(d, " ")
				directives[name] = d
			}
			if directives["img-src"] != tc.img {
				t.Errorf("%s with hosts %q: %q, want %q", path, tc.hosts, directives["img-src"], tc.img)
			}
			for _, want := range []string{"default-src 'self'", "object-src 'none'", "frame-src 'none'", "base-uri 'none'"} {
				name, _, _ := strings.Cut(want, " ")
				if directives[name] != want {
					t.Errorf("%s: %s is %q, want %q (policy %q)", path, name, directives[name], want, csp)
				}
			}
			for _, bad := range tc.refused {
				if strings.Contains(directives["img-src"]+" "+directives["media-src"]+" "+directives["default-src"], bad) {
					t.Errorf("%s: policy %q allows %q", path, csp, bad)
				}
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", path)
			}
		}
	}
}
