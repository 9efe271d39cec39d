package oauthproto

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/outbound"
)

func TestRefreshSendsResourceAndKeepsRefreshToken(t *testing.T) {
	as := newFakeServer(t)
	rotate := false
	as.handle("/token", func(w http.ResponseWriter, r *http.Request) {
		resp := map[string]any{"access_token": "AT-2", "token_type": "Bearer", "expires_in": "120"}
		if rotate {
			resp["refresh_token"] = "RT-NEW"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	meta := &ASMetadata{Issuer: as.URL, TokenEndpoint: as.URL + "/token"}
	ci := ClientInfo{ClientID: "c", ClientSecret: "s", AuthMethod: AuthMethodPost, Issuer: as.URL}

	tok, err := Refresh(context.Background(), testClient(), "RT-OLD", "https://mcp.example.com/mcp", ci, meta)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "AT-2" || tok.RefreshToken != "RT-OLD" || tok.ExpiresIn != 120 {
		t.Errorf("token = %+v (old refresh token must be kept)", tok)
	}
	f := as.requests("/token")[0].Form
	for k, v := range map[string]string{
		"grant_type": "refresh_token", "refresh_token": "RT-OLD",
		"resource": "https://mcp.example.com/mcp", "client_id": "c", "client_secret": "s",
	} {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	rotate = true
	tok, err = Refresh(context.Background(), testClient(), "RT-OLD", "", ci, meta)
	if err != nil || tok.RefreshToken != "RT-NEW" {
		t.Fatalf("rotation: %+v, %v", tok, err)
	}
	if as.requests("/token")[1].Form.Has("resource") {
		t.Error("empty resource must be omitted (per-server override for ASes that reject it)")
	}
}

func TestRefreshErrorClassification(t *testing.T) {
	for _, tt := range []struct {
		name      string
		status    int
		body      string
		want      error
		transient bool
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"token RT-SECRET revoked"}`, ErrInvalidGrant, false},
		{"invalid_client", 401, `{"error":"invalid_client"}`, ErrInvalidClient, false},
		{"server error", 503, `<html>down</html>`, ErrTransient, true},
		{"throttled", 429, ``, ErrTransient, true},
		{"200 with error field", 200, `{"error":"invalid_grant"}`, ErrInvalidGrant, false},
		{"200 without token", 200, `{"token_type":"Bearer"}`, ErrTokenEndpoint, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeServer(t)
			as.handle("/token", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			meta := &ASMetadata{Issuer: as.URL, TokenEndpoint: as.URL + "/token"}
			_, err := Refresh(context.Background(), testClient(), "RT-SECRET", "https://mcp/x", ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}, meta)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrTransient) != tt.transient {
				t.Fatalf("transient = %v", !tt.transient)
			}
			if strings.Contains(err.Error(), "RT-SECRET") {
				t.Fatalf("error leaks the refresh token: %v", err)
			}
		})
	}
}

func TestRefreshNetworkErrorIsTransient(t *testing.T) {
	as := newFakeServer(t)
	url := as.URL
	as.Close()
	meta := &ASMetadata{Issuer: url, TokenEndpoint: url + "/token"}
	_, err := Refresh(context.Background(), testClient(), "RT", "", ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}, meta)
	if !errors.Is(err, ErrTransient) || errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("err = %v, want ErrTransient", err)
	}
}

func TestRefreshOversizedResponse(t *testing.T) {
	as := newFakeServer(t)
	as.handle("/token", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"access_token":"` + strings.Repeat("a", 4096) + `"}`))
	})
	meta := &ASMetadata{Issuer: as.URL, TokenEndpoint: as.URL + "/token"}
	hc := outbound.NewClient(outbound.Options{MaxBody: 1024})
	_, err := Refresh(context.Background(), hc, "RT", "", ClientInfo{ClientID: "c", AuthMethod: AuthMethodNone}, meta)
	if !errors.Is(err, outbound.ErrBodyTooLarge) {
		t.Fatalf("err = %v, want outbound.ErrBodyTooLarge", err)
	}
}

func TestRefreshRefusesForeignClientAndEmptyToken(t *testing.T) {
	meta := &ASMetadata{Issuer: "https://as", TokenEndpoint: "https://as/token"}
	if _, err := Refresh(context.Background(), testClient(), "RT", "", ClientInfo{ClientID: "c", Issuer: "https://other"}, meta); !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Refresh(context.Background(), testClient(), "", "", ClientInfo{ClientID: "c"}, meta); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("err = %v", err)
	}
}
