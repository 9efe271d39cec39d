package provider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// RetryPolicy bounds retries of a call that failed before its first event.
// Once an event was streamed the answer is visible to the user, so a later
// failure is reported (ErrInterrupted) and never retried.
type RetryPolicy struct {
	// Attempts is the total number of tries (1: no retry).
	Attempts int
	// Base is the first backoff; each retry doubles it up to Max, with jitter.
	Base, Max time.Duration
}

// DefaultRetry is the policy used when Config.Retry is zero: three tries,
// 0.5 s then 1 s apart (±25 %).
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Attempts: 3, Base: 500 * time.Millisecond, Max: 8 * time.Second}
}

func (p RetryPolicy) orDefault() RetryPolicy {
	if p.Attempts <= 0 {
		return DefaultRetry()
	}
	return p
}

// backoff returns the wait before retry n (1-based): Base·2^(n-1), capped,
// with ±25 % jitter so clients that failed together do not retry together.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Base << (n - 1)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	j := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + j
}

// retryable reports whether err (before any event) may be retried.
func retryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable()
}

// withRetry runs attempt, retrying transient failures that happen before the
// first event, and marks failures after it with ErrInterrupted. A cancelled
// ctx ends the sequence with an error wrapping ctx's cause.
func withRetry(ctx context.Context, p RetryPolicy, provider string, attempt func(context.Context) iter.Seq2[llm.Event, error]) iter.Seq2[llm.Event, error] {
	p = p.orDefault()
	return func(yield func(llm.Event, error) bool) {
		for try := 1; ; try++ {
			started := false
			var failed error
			for ev, err := range attempt(ctx) {
				if err != nil {
					failed = err
					break
				}
				started = true
				if !yield(ev, nil) {
					return
				}
			}
			if failed == nil {
				return
			}
			if ctx.Err() != nil {
				yield(llm.Event{}, fmt.Errorf("%s: %w", provider, context.Cause(ctx)))
				return
			}
			if started {
				yield(llm.Event{}, fmt.Errorf("%w: %w", ErrInterrupted, failed))
				return
			}
			if !retryable(failed) || try >= p.Attempts {
				yield(llm.Event{}, failed)
				return
			}
			t := time.NewTimer(p.backoff(try))
			select {
			case <-ctx.Done():
				t.Stop()
				yield(llm.Event{}, fmt.Errorf("%s: %w", provider, context.Cause(ctx)))
				return
			case <-t.C:
			}
		}
	}
}
