package provider

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Callers test them with errors.Is; the agent loop shows
// the error text in <chat-error>, so every message is written for a user and
// never carries a key, token or URL query.
var (
	// ErrNotConfigured is the Python agent's "LLM not configured.": ACTIVE_LLM
	// is missing or names no known provider.
	//lint:ignore ST1005 the Python agent's exact message, shown to users as it is
	ErrNotConfigured = errors.New("LLM not configured.")
	// ErrModelNotConfigured is "LLM Model not configured.": <PROVIDER>_MODEL
	// is missing.
	//lint:ignore ST1005 the Python agent's exact message, shown to users as it is
	ErrModelNotConfigured = errors.New("LLM Model not configured.")
	// ErrMissingSetting reports another required provider setting (URL, key,
	// region, token).
	ErrMissingSetting = errors.New("LLM setting missing")
	// ErrProvider wraps every failure reported by a provider's API.
	ErrProvider = errors.New("LLM provider error")
	// ErrInterrupted marks a failure after the response began streaming: the
	// user saw part of an answer, so the call is not retried.
	ErrInterrupted = errors.New("LLM response interrupted")
	// ErrStalled is the cause used when a stream sends nothing for too long.
	ErrStalled = errors.New("LLM stream stalled")
)

// ConfigError is a configuration problem found at start. Reason is one of
// ErrNotConfigured, ErrModelNotConfigured or ErrMissingSetting.
type ConfigError struct {
	Reason error
	Detail string
}

func (e *ConfigError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + " " + e.Detail
}

func (e *ConfigError) Unwrap() error { return e.Reason }

// APIError is a non-success answer of a provider's API. Message is the
// provider's own explanation, omitted for 401/403 (some providers echo part
// of the key there).
type APIError struct {
	Provider string
	Status   int
	Message  string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.Provider, e.Status, http.StatusText(e.Status))
	if e.Message != "" && e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden {
		s += ": " + truncate(e.Message, 300)
	}
	return s
}

func (e *APIError) Unwrap() error { return ErrProvider }

// Retryable reports whether a failed call may be tried again: rate limits
// and server errors are transient, everything else (bad request, auth) is not.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
