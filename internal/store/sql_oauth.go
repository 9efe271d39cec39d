package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// expiresCol stores an expiry; 0 means never, as a zero time does.
func expiresCol(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// live reports whether a row with this expiry is still valid at now.
func live(expires int64, now time.Time) bool { return expires == 0 || now.UnixMicro() < expires }

// PutPending implements OAuthStore.
func (s *SQL) PutPending(ctx context.Context, state string, b []byte, expires time.Time) error {
	return s.upsert(ctx, "oauth_pending", state, b, expiresCol(expires))
}

// TakePending implements OAuthStore. DELETE ... RETURNING makes it single
// use even when two replicas receive the same callback at once.
func (s *SQL) TakePending(ctx context.Context, state string) ([]byte, error) {
	var b []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM oauth_pending WHERE key = ? RETURNING blob, expires`), state).Scan(&b, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !live(exp, s.now())) {
		return nil, fmt.Errorf("pending flow: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("taking pending flow: %w", err)
	}
	return b, nil
}

// PutToken implements OAuthStore.
func (s *SQL) PutToken(ctx context.Context, key string, b []byte, expires time.Time) error {
	return s.upsert(ctx, "oauth_tokens", key, b, expiresCol(expires))
}

// GetToken implements OAuthStore.
func (s *SQL) GetToken(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT blob, expires FROM oauth_tokens WHERE key = ?`), key).Scan(&b, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !live(exp, s.now())) {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading token: %w", err)
	}
	return b, nil
}

// DeleteToken implements OAuthStore.
func (s *SQL) DeleteToken(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM oauth_tokens WHERE key = ?`), key); err != nil {
		return fmt.Errorf("deleting token: %w", err)
	}
	return nil
}

// PutClient implements OAuthStore.
func (s *SQL) PutClient(ctx context.Context, key string, b []byte) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO oauth_clients (key, blob, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, updated = excluded.updated`), key, b, micros(s.now()))
	if err != nil {
		return fmt.Errorf("saving client: %w", err)
	}
	return nil
}

// GetClient implements OAuthStore.
func (s *SQL) GetClient(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT blob FROM oauth_clients WHERE key = ?`), key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("client: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading client: %w", err)
	}
	return b, nil
}

// DeleteClient implements OAuthStore.
func (s *SQL) DeleteClient(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM oauth_clients WHERE key = ?`), key); err != nil {
		return fmt.Errorf("deleting client: %w", err)
	}
	return nil
}

// SweepClients implements OAuthStore. The prefixes are the vault's hex
// tags, so LIKE sees no wildcard in them.
func (s *SQL) SweepClients(ctx context.Context, keep []string, max int) (int, error) {
	cond, args := "1 = 1", []any{}
	for _, p := range keep {
		if strings.ContainsAny(p, `%_\`) {
			return 0, fmt.Errorf("sweeping clients: prefix %q has a LIKE wildcard", p)
		}
		cond += " AND key NOT LIKE ?"
		args = append(args, p+"%")
	}
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM oauth_clients WHERE `+cond), args...)
	if err != nil {
		return 0, fmt.Errorf("sweeping clients: %w", err)
	}
	n, _ := res.RowsAffected()
	if max > 0 {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM oauth_clients WHERE key NOT IN
			(SELECT key FROM oauth_clients ORDER BY updated DESC, key DESC LIMIT ?)`), max)
		if err != nil {
			return int(n), fmt.Errorf("capping clients: %w", err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return int(n), nil
}

// Lock implements OAuthStore: a PostgreSQL advisory lock (across
// replicas) or a process-local one (SQLite).
func (s *SQL) Lock(ctx context.Context, key string) (func(), error) { return s.lock(ctx, key) }

// Sweep implements OAuthStore.
func (s *SQL) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for _, table := range []string{"oauth_pending", "oauth_tokens"} {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE expires <> 0 AND expires <= ?`), now.UnixMicro())
		if err != nil {
			return n, fmt.Errorf("sweeping %s: %w", table, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

func (s *SQL) upsert(ctx context.Context, table, key string, b []byte, expires int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO `+table+` (key, blob, expires) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, expires = excluded.expires`), key, b, expires)
	if err != nil {
		return fmt.Errorf("saving to %s: %w", table, err)
	}
	return nil
}
