package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRancherUserExists: the OAuth sweep's question to Rancher, GET
// /v3/users/{id} with RANCHER_API_TOKEN: 200 is yes, 404 is no (the
// user's tokens go), and anything else (5xx, 401, unreachable) is an
// error, for which the sweep deletes nothing. Without a URL or a token no
// question is asked at all.
func TestRancherUserExists(t *testing.T) {
	const apiToken = "token-abc:xyz"
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+apiToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.EscapedPath() {
		case "/v3/users/u-alive":
			w.Write([]byte(`{"id":"u-alive"}`))
		case "/v3/users/u-gone", "/v3/users/u%2Fodd":
			w.WriteHeader(http.StatusNotFound)
		case "/v3/users/u-flaky":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer rancher.Close()
	exists := (&app{env: env{RancherURL: rancher.URL, RancherAPIToken: apiToken}}).rancherUserExists()
	ctx := context.Background()
	for _, tc := range []struct {
		id      string
		exists  bool
		wantErr bool
	}{
		{"u-alive", true, false},
		{"u-gone", false, false},
		{"u/odd", false, false}, // path-escaped
		{"u-flaky", false, true},
	} {
		got, err := exists(ctx, tc.id)
		if got != tc.exists || (err != nil) != tc.wantErr {
			t.Errorf("%s: exists=%t err=%v, want exists=%t error=%t", tc.id, got, err, tc.exists, tc.wantErr)
		}
	}
	wrong := (&app{env: env{RancherURL: rancher.URL, RancherAPIToken: "other"}}).rancherUserExists()
	if _, err := wrong(ctx, "u-gone"); err == nil {
		t.Error("a 401 (wrong token) is taken as an answer")
	}
	rancher.Close()
	if _, err := exists(ctx, "u-gone"); err == nil {
		t.Error("an unreachable Rancher is taken as an answer")
	}
	if (&app{env: env{RancherURL: rancher.URL}}).rancherUserExists() != nil {
		t.Error("without RANCHER_API_TOKEN the sweep still asks Rancher")
	}
}
