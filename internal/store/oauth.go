package store

import (
	"context"
	"time"
)

// OAuthStore keeps OAuth state as opaque, already-encrypted blobs: pending
// authorization flows (by state), users' tokens, and client registrations
// (one per authorization server, shared by all users). Package oauth seals
// the blobs; an engine never sees a token in clear.
type OAuthStore interface {
	PutPending(ctx context.Context, state string, blob []byte, expires time.Time) error
	// TakePending returns and deletes a pending flow: single use. A missing
	// or expired one is ErrNotFound.
	TakePending(ctx context.Context, state string) ([]byte, error)

	PutToken(ctx context.Context, key string, blob []byte, expires time.Time) error
	GetToken(ctx context.Context, key string) ([]byte, error)
	DeleteToken(ctx context.Context, key string) error

	PutClient(ctx context.Context, key string, blob []byte) error
	GetClient(ctx context.Context, key string) ([]byte, error)
	DeleteClient(ctx context.Context, key string) error
	// SweepClients deletes the client registrations whose key starts with
	// none of keep (registrations for redirect URIs no longer in use),
	// then, when more than max remain (max > 0), the least recently
	// written ones; it reports how many it deleted.
	SweepClients(ctx context.Context, keep []string, max int) (int, error)

	// Lock serialises work on key among all users of the store (for
	// single-flight refresh; with a shared database, across replicas). The
	// returned func releases it.
	Lock(ctx context.Context, key string) (unlock func(), err error)

	// Sweep deletes expired pending flows and tokens and reports how many.
	Sweep(ctx context.Context, now time.Time) (int, error)

	// TokenIndex finds tokens by user and agent (connections, revocation).
	TokenIndex
}
