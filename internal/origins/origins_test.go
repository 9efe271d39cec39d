package origins_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/rancher/ai-agent/internal/origins"
)

func TestOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://Rancher.Example.com/dashboard?x=1": "https://rancher.example.com",
		"https://rancher.example.com:443":           "https://rancher.example.com",
		"http://127.0.0.1:80/":                      "http://127.0.0.1",
		"http://127.0.0.1:8000/v1/api/oauth2/cb":    "http://127.0.0.1:8000",
		"https://[::1]:443":                         "https://[::1]",
		"https://[::1]:8443/x":                      "https://[::1]:8443",
	} {
		if got, err := origins.Of(in); err != nil || got != want {
			t.Errorf("Of(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"rancher.example.com", "ftp://x", "https://user@x", "/relative", "null"} {
		if _, err := origins.Of(bad); !errors.Is(err, origins.ErrInvalid) {
			t.Errorf("Of(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPolicy(t *testing.T) {
	p, err := origins.New("", "https://rancher.example.com/", "https://rancher.example.com", "http://127.0.0.1:8000/v1/api/oauth2/callback")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.List(); !slices.Equal(got, []string{"https://rancher.example.com", "http://127.0.0.1:8000"}) {
		t.Fatalf("List = %v", got)
	}
	for o, want := range map[string]bool{
		"https://rancher.example.com":      true,
		"https://RANCHER.example.com:443":  true,
		"http://rancher.example.com":       false, // another scheme is another origin
		"https://rancher.example.com:8443": false,
		"https://rancher.example.com.evil": false,
		"http://127.0.0.1:8000":            true,
		"null":                             false,
		"":                                 false,
	} {
		if got := p.Allowed(o); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", o, got, want)
		}
	}
	for host, want := range map[string]string{
		"rancher.example.com":     "https://rancher.example.com",
		"rancher.example.com:443": "https://rancher.example.com",
		"127.0.0.1:8000":          "http://127.0.0.1:8000",
		"evil.example.com":        "",
		"rancher.example.com:80":  "",
		"":                        "",
	} {
		got, ok := p.ForHost(host)
		if got != want || ok != (want != "") {
			t.Errorf("ForHost(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	if _, err := origins.New("https://ok", "not a url"); !errors.Is(err, origins.ErrInvalid) {
		t.Fatalf("New with a bad entry: %v", err)
	}
	var none *origins.Policy
	if none.Allowed("https://rancher.example.com") {
		t.Fatal("a nil policy allowed an origin")
	}
}

func TestCheck(t *testing.T) {
	p, _ := origins.New("https://rancher.example.com")
	req := func(h map[string]string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/api/oauth2/refresh", nil)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	for _, c := range []struct {
		h    map[string]string
		want error
	}{
		{nil, nil}, // curl
		{map[string]string{"Origin": "https://rancher.example.com", "Sec-Fetch-Site": "same-origin"}, nil},
		{map[string]string{"Sec-Fetch-Site": "none"}, nil},
		{map[string]string{"Origin": "https://evil.example"}, origins.ErrOrigin},
		{map[string]string{"Origin": "null"}, origins.ErrOrigin},
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, origins.ErrCrossSite},
		{map[string]string{"Origin": "https://rancher.example.com", "Sec-Fetch-Site": "Cross-Site"}, origins.ErrCrossSite},
	} {
		if err := p.Check(req(c.h)); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("Check(%v) = %v, want %v", c.h, err, c.want)
		}
	}
	if got := origins.Split(" https://a , ,https://b,"); !slices.Equal(got, []string{"https://a", "https://b"}) {
		t.Fatalf("Split = %v", got)
	}
}
