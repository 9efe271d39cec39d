package store

import (
	"context"
	"fmt"
	"time"
)

// PutTokenRef implements TokenIndex.
func (s *SQL) PutTokenRef(ctx context.Context, key string, ref TokenRef, b []byte, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO oauth_tokens (key, blob, expires, user_id, agent, issuer) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, expires = excluded.expires,
		user_id = excluded.user_id, agent = excluded.agent, issuer = excluded.issuer`),
		key, b, expiresCol(expires), ref.User, ref.Agent, ref.Issuer)
	if err != nil {
		return fmt.Errorf("saving token: %w", err)
	}
	return nil
}

// ListTokens implements TokenIndex (index oauth_tokens_user or
// oauth_tokens_agent).
func (s *SQL) ListTokens(ctx context.Context, f TokenFilter) ([]TokenRow, error) {
	q, args := `SELECT key, user_id, agent, issuer, blob, expires, last_used FROM oauth_tokens WHERE user_id <> '' AND (expires = 0 OR expires > ?)`,
		[]any{s.now().UnixMicro()}
	if f.User != "" {
		q += ` AND user_id = ?`
		args = append(args, f.User)
	}
	if f.Agent != "" {
		q += ` AND agent = ?`
		args = append(args, f.Agent)
	}
	rows, err := s.db.QueryContext(ctx, s.q(q+` ORDER BY key`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenRow
	for rows.Next() {
		var r TokenRow
		var exp, used int64
		if err := rows.Scan(&r.Key, &r.User, &r.Agent, &r.Issuer, &r.Blob, &exp, &used); err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		if exp != 0 {
			r.Expires = fromMicros(exp)
		}
		if used != 0 {
			r.LastUsed = fromMicros(used)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// TokenUsers implements TokenIndex.
func (s *SQL) TokenUsers(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT user_id FROM oauth_tokens WHERE user_id <> '' AND (expires = 0 OR expires > ?) ORDER BY user_id`), s.now().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("listing token users: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("listing token users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing token users: %w", err)
	}
	return out, nil
}

// TouchToken implements TokenIndex.
func (s *SQL) TouchToken(ctx context.Context, key string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE oauth_tokens SET last_used = ? WHERE key = ? AND last_used < ?`),
		at.UnixMicro(), key, at.UnixMicro()); err != nil {
		return fmt.Errorf("recording token use: %w", err)
	}
	return nil
}
