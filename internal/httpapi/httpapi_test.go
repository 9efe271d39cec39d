package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/httpapi"
)

func TestWriteJSON(t *testing.T) {
	rr := httptest.NewRecorder()
	httpapi.WriteJSON(rr, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
	if rr.Code != 401 || rr.Header().Get("Content-Type") != "application/json" || rr.Header().Get("Cache-Control") != "no-store" ||
		strings.TrimSpace(rr.Body.String()) != `{"detail":"Unauthorized"}` {
		t.Fatalf("%d %v %q", rr.Code, rr.Header(), rr.Body.String())
	}
}

func TestStripProxyPrefix(t *testing.T) {
	h := httpapi.StripProxyPrefix(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	for in, want := range map[string]string{
		httpapi.ProxyPrefix + "/v1/api/health":   "/v1/api/health",
		"/v1/api/health":                         "/v1/api/health",
		httpapi.ProxyPrefix + "x/v1/api/health":  httpapi.ProxyPrefix + "x/v1/api/health", // not a path segment
		httpapi.ProxyPrefix:                      httpapi.ProxyPrefix,
		httpapi.ProxyPrefix + "/v1/ws/messages/": "/v1/ws/messages/",
	} {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", in, nil))
		if rr.Body.String() != want {
			t.Errorf("%s served as %s, want %s", in, rr.Body.String(), want)
		}
	}
}
