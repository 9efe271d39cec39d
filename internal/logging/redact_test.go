package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/logging"
)

const secret = "s3cr3t-value"

// logOne logs through fn and returns the decoded JSON line and the raw text.
func logOne(t *testing.T, fn func(*slog.Logger)) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	fn(logging.NewLogger(&buf, slog.LevelDebug))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	return m, buf.String()
}

func TestSensitiveKeysRedacted(t *testing.T) {
	keys := []string{"authorization", "Authorization", "x-api-key", "X-API-Key", "r_token", "R_token",
		"cookie", "set-cookie", "r_sess", "R_SESS", "access_token", "refresh_token", "client_secret",
		"password", "token", "TOKEN"}
	for _, k := range keys {
		m, raw := logOne(t, func(l *slog.Logger) { l.Info("msg", k, secret) })
		if m[k] != logging.Redacted || strings.Contains(raw, secret) {
			t.Errorf("key %q: %s", k, raw)
		}
	}
	// Non-string values under sensitive keys are redacted too.
	_, raw := logOne(t, func(l *slog.Logger) { l.Info("msg", "token", []string{secret}) })
	if strings.Contains(raw, secret) {
		t.Errorf("slice under token leaked: %s", raw)
	}
}

func TestNonSensitiveUntouched(t *testing.T) {
	m, _ := logOne(t, func(l *slog.Logger) {
		l.Info("listed 3 pods", "agent", "rancher", "inputTokens", 42, "tokenizer", "bpe", "note", "basic")
	})
	if m["msg"] != "listed 3 pods" || m["agent"] != "rancher" || m["inputTokens"] != float64(42) ||
		m["tokenizer"] != "bpe" || m["note"] != "basic" {
		t.Fatalf("changed: %v", m)
	}
}

func TestNestedGroups(t *testing.T) {
	m, raw := logOne(t, func(l *slog.Logger) {
		l.Info("req", slog.Group("http", slog.Group("headers", "Cookie", secret, "Accept", "json")))
	})
	h := m["http"].(map[string]any)["headers"].(map[string]any)
	if h["Cookie"] != logging.Redacted || h["Accept"] != "json" || strings.Contains(raw, secret) {
		t.Fatalf("got %s", raw)
	}
}

func TestWithAttrsAndWithGroup(t *testing.T) {
	m, raw := logOne(t, func(l *slog.Logger) {
		l.With("authorization", secret).WithGroup("g").With("password", secret, "user", "bob").
			Info("x", slog.String("token", secret), "ok", "yes")
	})
	g := m["g"].(map[string]any)
	if m["authorization"] != logging.Redacted || g["password"] != logging.Redacted ||
		g["token"] != logging.Redacted || g["user"] != "bob" || g["ok"] != "yes" || strings.Contains(raw, secret) {
		t.Fatalf("got %s", raw)
	}
}

func TestHTTPHeaderValue(t *testing.T) {
	hdr := http.Header{"Authorization": {"Bearer " + secret}, "X-Api-Key": {secret},
		"X-Forwarded-For": {"10.0.0.1"}, "X-Note": {"Bearer " + secret}}
	m, raw := logOne(t, func(l *slog.Logger) { l.Info("h", "headers", hdr) })
	h := m["headers"].(map[string]any)
	if strings.Contains(raw, secret) || h["X-Forwarded-For"].([]any)[0] != "10.0.0.1" ||
		h["X-Note"].([]any)[0] != "Bearer "+logging.Redacted {
		t.Fatalf("got %s", raw)
	}
	if hdr.Get("Authorization") != "Bearer "+secret {
		t.Fatal("the caller's header was modified")
	}
}

func TestMessagePatterns(t *testing.T) {
	cases := map[string]string{
		"sent Authorization: Bearer " + secret + " ok": "sent Authorization: Bearer [REDACTED] ok",
		"basic creds Basic " + secret:                  "basic creds Basic [REDACTED]",
		"cookie R_SESS=" + secret + "; other=1":        "cookie R_SESS=[REDACTED]; other=1",
		"GET /cb?code=1&access_token=" + secret:        "GET /cb?code=1&access_token=[REDACTED]",
	}
	for in, want := range cases {
		m, raw := logOne(t, func(l *slog.Logger) { l.Info(in, "detail", in, "err", errors.New(in)) })
		if m["msg"] != want || m["detail"] != want || m["err"] != want || strings.Contains(raw, secret) {
			t.Errorf("%q: got %s", in, raw)
		}
	}
}

func TestLevelAndParseLevel(t *testing.T) {
	cases := map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn,
		"Warning": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo, "bogus": slog.LevelInfo}
	for in, want := range cases {
		if got := logging.ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v, want %v", in, got, want)
		}
	}
	var buf bytes.Buffer
	l := logging.NewLogger(&buf, slog.LevelWarn)
	l.Info("hidden")
	if buf.Len() != 0 || l.Enabled(context.Background(), slog.LevelInfo) {
		t.Fatalf("info logged at warn level: %q", buf.String())
	}
}
