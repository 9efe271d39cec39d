package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The queries of a turn, prepared once on SQLite (see prepare).
const (
	qSeq           = `SELECT COALESCE(MAX(seq), 0) FROM messages WHERE thread = ?`
	qMessagesAfter = `SELECT seq, body FROM messages WHERE thread = ? AND seq > ? ORDER BY seq`
	qLastMessage   = `SELECT body FROM messages WHERE thread = ? ORDER BY seq DESC LIMIT 1`
	qInsertMessage = `INSERT INTO messages (thread, seq, chat_id, role, request_id, usage_source, input_tokens, output_tokens, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qNameChat      = `UPDATE chats SET name = ? WHERE id = ? AND name = ''`
	qChat          = `SELECT id, user_id, name, created_at FROM chats WHERE id = ? AND user_id = ?`
	// The savepoint of each Append in a batch (see writeBatch).
	qSavepoint  = `SAVEPOINT append`
	qRollbackTo = `ROLLBACK TO append`
	qRelease    = `RELEASE append`
)

// prepare prepares the turn's queries on db. The SQLite driver parses a
// query's text on every call unless it runs a prepared statement, and
// parsing was a third of a turn's writes; PostgreSQL's driver (pgx) keeps
// its own statement cache per connection, so OpenPostgres does not call
// this. database/sql re-prepares a statement on a new connection by itself.
func prepare(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	out := map[string]*sql.Stmt{}
	for _, q := range []string{qSeq, qMessagesAfter, qLastMessage, qInsertMessage, qNameChat, qChat,
		qSavepoint, qRollbackTo, qRelease} {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range out {
				st.Close()
			}
			return nil, fmt.Errorf("preparing %.40q: %w", q, err)
		}
		out[q] = st
	}
	return out, nil
}

// runner is what a query runs on: the database or a transaction.
type runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmt is query's prepared statement within tx (nil: outside a
// transaction), or nil when query has none.
func (s *SQL) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	st := s.stmts[query]
	if st != nil && tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	return st
}

// on is what runs a query text within tx, or outside one when tx is nil.
func (s *SQL) on(tx *sql.Tx) runner {
	if tx != nil {
		return tx
	}
	return s.db
}

// exec runs query within tx (nil: outside a transaction), prepared when it
// can.
func (s *SQL) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.on(tx).ExecContext(ctx, s.q(query), args...)
}

// query is exec for a query that returns rows.
func (s *SQL) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.on(tx).QueryContext(ctx, s.q(query), args...)
}

// queryRow is exec for a query that returns one row.
func (s *SQL) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.on(tx).QueryRowContext(ctx, s.q(query), args...)
}
