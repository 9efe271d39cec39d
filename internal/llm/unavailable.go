package llm

import (
	"context"
	"iter"
)

// Unavailable is the model of a server whose LLM settings are wrong: every
// call fails with Err. The agent reports Err when a chat opens, so the user
// sees what to fix in Settings instead of a failure at the first prompt.
type Unavailable struct{ Err error }

// Stream implements Model.
func (u Unavailable) Stream(context.Context, Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) { yield(Event{}, u.Err) }
}

// ConfigError is the reason the model is unavailable.
func (u Unavailable) ConfigError() error { return u.Err }
