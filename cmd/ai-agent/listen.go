package main

import (
	"errors"
	"fmt"
	"syscall"
)

// defaultMetricsListen is serve's --metrics-listen default: 9464, the port
// OpenTelemetry gives Prometheus exporters, and not 9090, which is
// Prometheus' own (and was this flag's default until a Prometheus on the
// same host stopped the agent from starting).
const defaultMetricsListen = ":9464"

// listenError is the error of a listener serve could not open, as a
// sentence naming the flag to change (there is no environment variable for
// either address); the cause stays wrapped for errors.Is.
func listenError(flagName, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		hint := ""
		if flagName == "--metrics-listen" {
			hint = `, or --metrics-listen "" to serve no metrics`
		}
		return &sentenceError{msg: fmt.Sprintf("cannot listen on %s: the port is already in use by another program (a Prometheus or a second agent?); give a free address with %s ADDR%s", addr, flagName, hint), err: err}
	}
	return &sentenceError{msg: fmt.Sprintf("cannot listen on %s (%v); give another address with %s ADDR", addr, err, flagName), err: err}
}

// sentenceError is an error whose text is one sentence for the person at
// the command line, with the underlying cause kept for errors.Is/As.
type sentenceError struct {
	msg string
	err error
}

func (e *sentenceError) Error() string { return e.msg }
func (e *sentenceError) Unwrap() error { return e.err }

// listenersDoc is the listeners section of docs/configuration.md: the two
// addresses are flags only (no environment variable sets them).
const listenersDoc = "\n## Listeners\n\n| flag | default | meaning |\n|---|---|---|\n" +
	"| `--listen` | `:8000` | The chat WebSocket and `/v1/api/*` (what Rancher's service proxy reaches). |\n" +
	"| `--metrics-listen` | `" + defaultMetricsListen + "` | Prometheus `/metrics`, on a listener of its own; `\"\"` serves none. " +
	"Not 9090, Prometheus' own port. A port already in use stops `serve` with a sentence naming this flag. |\n"
