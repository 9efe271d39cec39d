package store

import (
	"context"
	"time"
)

// TokenRef is the clear part of a stored token: the user it belongs to, the
// agent and the authorization server (issuer) it was obtained for. It names
// no secret; the token itself stays in the sealed blob. It lets a user's
// connections be listed, a user's or an agent's tokens be revoked, and the
// sweep find the tokens of users who no longer exist.
type TokenRef struct {
	User, Agent, Issuer string
}

// TokenRow is one stored token with its clear part.
type TokenRow struct {
	Key string
	TokenRef
	Blob    []byte
	Expires time.Time // zero: never
	// LastUsed is when a replica last recorded a use (TouchToken); zero
	// when none was recorded.
	LastUsed time.Time
}

// TokenFilter selects token rows by user and/or agent; an empty field
// matches every row.
type TokenFilter struct {
	User, Agent string
}

// TokenIndex finds stored tokens by their owner and agent. Rows written
// with PutToken (no TokenRef, e.g. before the index existed) are not found
// by ListTokens until they are written again.
type TokenIndex interface {
	// PutTokenRef stores a token like PutToken and records its owner; the
	// row's last use is kept.
	PutTokenRef(ctx context.Context, key string, ref TokenRef, blob []byte, expires time.Time) error
	// ListTokens returns the live rows matching f, ordered by key.
	ListTokens(ctx context.Context, f TokenFilter) ([]TokenRow, error)
	// TokenUsers returns the distinct users of the live rows, sorted.
	TokenUsers(ctx context.Context) ([]string, error)
	// TouchToken records a use of the row key at at (no-op when it is gone
	// or already has a later use).
	TouchToken(ctx context.Context, key string, at time.Time) error
}
