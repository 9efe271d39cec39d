package logging_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/logging"
)

func TestConfigRejectsUnknownValues(t *testing.T) {
	for _, tc := range []struct {
		level, format string
		want          slog.Level
		wantFormat    string
		wantErr       string
	}{
		{"", "", slog.LevelInfo, "json", ""},
		{"DEBUG", "text", slog.LevelDebug, "text", ""},
		{"warning", "JSON", slog.LevelWarn, "json", ""},
		{"verbose", "", 0, "", `LOG_LEVEL="verbose": want debug, info, warn or error`},
		{"info", "pretty", 0, "", `LOG_FORMAT="pretty": want json or text`},
	} {
		l, f, err := logging.Config(tc.level, tc.format)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Config(%q, %q) error = %v, want %q", tc.level, tc.format, err, tc.wantErr)
			}
			continue
		}
		if err != nil || l != tc.want || f != tc.wantFormat {
			t.Errorf("Config(%q, %q) = %v, %q, %v; want %v, %q", tc.level, tc.format, l, f, err, tc.want, tc.wantFormat)
		}
	}
}

func TestTextFormatRedacts(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf, slog.LevelInfo, logging.FormatText).Info("call", "authorization", "Bearer "+secret, "agent", "notes")
	out := buf.String()
	if strings.HasPrefix(out, "{") || !strings.Contains(out, "agent=notes") {
		t.Fatalf("not a text line: %q", out)
	}
	if strings.Contains(out, secret) {
		t.Fatalf("secret in text log: %q", out)
	}
}
