package logging

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// Redacted replaces every secret value.
const Redacted = "[REDACTED]"

// Patterns masked inside string values; group 1 is kept.
var (
	authSchemeRE = regexp.MustCompile(`\b(Bearer|BEARER|bearer|Basic|BASIC)\s+[^\s"',;]+`)
	cookieRE     = regexp.MustCompile(`(?i)\b((?:R_SESS|mcp_oauth_(?:at|rt)_[\w.-]*)=)[^\s;"',&]+`)
	queryRE      = regexp.MustCompile(`(?i)\b((?:access_token|refresh_token|client_secret|code_verifier|password)=)[^\s&;"',]+`)
)

// isSensitiveKey reports whether values logged under key are redacted.
func isSensitiveKey(key string) bool {
	switch strings.ToLower(key) {
	case "authorization", "proxy-authorization", "x-api-key", "api_key", "apikey",
		"r_token", "cookie", "set-cookie", "r_sess",
		"access_token", "refresh_token", "id_token", "client_secret",
		"password", "token", "rancher_api_token":
		return true
	}
	return false
}

// redact masks Bearer/Basic credentials, R_SESS and OAuth cookies and
// token-like query parameters inside s.
func redact(s string) string {
	s = authSchemeRE.ReplaceAllString(s, "$1 "+Redacted)
	s = cookieRE.ReplaceAllString(s, "${1}"+Redacted)
	return queryRE.ReplaceAllString(s, "${1}"+Redacted)
}

// NewLogger returns a JSON logger writing to w at level, with redaction.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(newRedactingHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// ParseLevel maps LOG_LEVEL (debug, info, warn/warning, error; any case) to
// a level. Anything else is info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// redactingHandler redacts records before passing them to the next handler.
type redactingHandler struct{ next slog.Handler }

// newRedactingHandler wraps next so that secrets never reach it.
func newRedactingHandler(next slog.Handler) slog.Handler { return redactingHandler{next: next} }

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return redactingHandler{next: h.next.WithAttrs(red)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	if isSensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: redactAny(v)}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactAny handles the common container types that carry credentials.
func redactAny(v slog.Value) slog.Value {
	switch x := v.Any().(type) {
	case http.Header:
		return slog.AnyValue(redactMulti(x))
	case map[string][]string:
		return slog.AnyValue(redactMulti(x))
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, s := range x {
			out[k] = redactValue(k, s)
		}
		return slog.AnyValue(out)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = redact(s)
		}
		return slog.AnyValue(out)
	case error:
		return slog.StringValue(redact(x.Error()))
	}
	return v
}

func redactMulti[M ~map[string][]string](m M) M {
	out := make(M, len(m))
	for k, vs := range m {
		red := make([]string, len(vs))
		for i, s := range vs {
			red[i] = redactValue(k, s)
		}
		out[k] = red
	}
	return out
}

func redactValue(key, s string) string {
	if isSensitiveKey(key) {
		return Redacted
	}
	return redact(s)
}
