package oauth

import (
	"context"
	"errors"

	"github.com/rancher/ai-agent/internal/oauthproto"
)

// Operations and outcomes an Observer sees.
const (
	OpSignIn  = "signin"
	OpRefresh = "refresh"

	OutcomeOK           = "ok"
	OutcomeCanceled     = "canceled"
	OutcomeIncomplete   = "incomplete"
	OutcomeInvalidGrant = "invalid_grant"
	OutcomeNoToken      = "no_token"
	OutcomeAbandoned    = "abandoned"
	OutcomeError        = "error"
)

// Observer is told when a sign-in or a refresh starts and how it ended
// (traces, metrics). It never sees a token.
type Observer interface {
	// Begin starts op (OpSignIn, OpRefresh) for an agent; the returned
	// context is used for the operation and end receives its outcome.
	Begin(ctx context.Context, op, agent string) (context.Context, func(outcome string))
}

// observe starts op with the configured Observer, if any.
func (s *Service) observe(ctx context.Context, op, agent string) (context.Context, func(error)) {
	if s.o.Observer == nil {
		return ctx, func(error) {}
	}
	ctx, end := s.o.Observer.Begin(ctx, op, agent)
	return ctx, func(err error) { end(outcomeOf(ctx, err)) }
}

// outcomeOf classifies the error a sign-in or refresh ended with.
func outcomeOf(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrCanceled):
		return OutcomeCanceled
	case errors.Is(err, ErrSignInIncomplete):
		return OutcomeIncomplete
	case errors.Is(err, oauthproto.ErrInvalidGrant), errors.Is(err, oauthproto.ErrInvalidClient):
		return OutcomeInvalidGrant
	case errors.Is(err, ErrNoToken):
		return OutcomeNoToken
	case ctx.Err() != nil:
		return OutcomeAbandoned
	}
	return OutcomeError
}
