package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Log formats (LOG_FORMAT).
const (
	FormatJSON = "json"
	FormatText = "text"
)

// New returns a logger writing to w at level in format (FormatJSON or
// FormatText), with redaction; see Config.
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == FormatText {
		return slog.New(newRedactingHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(newRedactingHandler(slog.NewJSONHandler(w, opts)))
}

// Config reads LOG_LEVEL and LOG_FORMAT strictly: an unknown value is an
// error that names the variable and the valid values, instead of quietly
// meaning the default. Empty values are info and json.
func Config(levelVar, formatVar string) (slog.Level, string, error) {
	var level slog.Level
	switch strings.ToLower(strings.TrimSpace(levelVar)) {
	case "", "info":
		level = slog.LevelInfo
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return 0, "", fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", levelVar)
	}
	switch f := strings.ToLower(strings.TrimSpace(formatVar)); f {
	case "", FormatJSON:
		return level, FormatJSON, nil
	case FormatText:
		return level, FormatText, nil
	default:
		return 0, "", fmt.Errorf("LOG_FORMAT=%q: want json or text", formatVar)
	}
}
