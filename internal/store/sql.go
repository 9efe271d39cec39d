package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SQL is the engine over database/sql, shared by SQLite and PostgreSQL:
// the schema and queries are the same, and the two differ only in
// placeholders, column types (see migrations/) and how they serialise
// writers and OAuth locks across processes.
type SQL struct {
	db      *sql.DB
	postgre bool
	now     func() time.Time
	// lockThread serialises appends to a thread within tx, so sequence
	// numbers cannot collide between replicas. Nil on SQLite, where each
	// write transaction is already exclusive (BEGIN IMMEDIATE).
	lockThread func(ctx context.Context, tx *sql.Tx, thread string) error
	lock       func(ctx context.Context, key string) (func(), error)
	closeFn    func() error
	// stmts holds prepared statements by query text (SQLite only; see
	// prepare); a query without one runs as text.
	stmts map[string]*sql.Stmt
	// group serialises SQLite's appends into batches (nil on PostgreSQL).
	group *groupCommit
}

// StorageType implements Store (see TypeInMemory for why SQLite says so).
func (s *SQL) StorageType() string {
	if s.postgre {
		return TypePostgres
	}
	return TypeInMemory
}

// Close releases the database. On SQLite, an Append still queued fails
// with ErrClosed, and Close waits for the batch being written.
func (s *SQL) Close() error {
	if s.group != nil {
		s.group.close()
	}
	return s.closeFn()
}

// SetClock replaces the clock (tests).
func (s *SQL) SetClock(now func() time.Time) { s.now = now }

// q rewrites ? placeholders to $n for PostgreSQL. No query here has a ?
// inside a literal.
func (s *SQL) q(query string) string {
	if !s.postgre {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// OpenChat implements Store. INSERT ... ON CONFLICT makes two replicas
// opening the same new id agree on one owner.
func (s *SQL) OpenChat(ctx context.Context, id, userID string) (Chat, error) {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO chats (id, user_id, name, created_at) VALUES (?, ?, '', ?)
		ON CONFLICT (id) DO NOTHING`), id, userID, micros(s.now()))
	if err != nil {
		return Chat{}, fmt.Errorf("opening chat %s: %w", id, err)
	}
	return s.Chat(ctx, id, userID)
}

// Chat implements Store.
func (s *SQL) Chat(ctx context.Context, id, userID string) (Chat, error) {
	var c Chat
	var at int64
	err := s.queryRow(ctx, nil, qChat, id, userID).
		Scan(&c.ID, &c.UserID, &c.Name, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Chat{}, fmt.Errorf("chat %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Chat{}, fmt.Errorf("reading chat %s: %w", id, err)
	}
	c.CreatedAt = fromMicros(at)
	return c, nil
}

// ListChats implements Store.
func (s *SQL) ListChats(ctx context.Context, userID string, asc bool) ([]Chat, error) {
	order := "DESC"
	if asc {
		order = "ASC"
	}
	hasMessages := `EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = c.id)`
	if !s.postgre { // see byChat
		hasMessages = `(EXISTS (SELECT 1 FROM messages m WHERE m.thread = c.id)
			OR EXISTS (SELECT 1 FROM messages m WHERE m.thread >= c.id || '::child::' AND m.thread < c.id || '::child:;'))`
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.id, c.user_id, c.name, c.created_at FROM chats c
		WHERE c.user_id = ? AND `+hasMessages+`
		ORDER BY c.created_at `+order+`, c.id `+order), userID)
	if err != nil {
		return nil, fmt.Errorf("listing chats: %w", err)
	}
	defer rows.Close()
	out := []Chat{}
	for rows.Next() {
		var c Chat
		var at int64
		if err := rows.Scan(&c.ID, &c.UserID, &c.Name, &at); err != nil {
			return nil, fmt.Errorf("listing chats: %w", err)
		}
		c.CreatedAt = fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing chats: %w", err)
	}
	return out, nil
}

// RenameChat implements Store.
func (s *SQL) RenameChat(ctx context.Context, id, userID, name string) (Chat, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE chats SET name = ? WHERE id = ? AND user_id = ?`), name, id, userID)
	if err != nil {
		return Chat{}, fmt.Errorf("renaming chat %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return Chat{}, fmt.Errorf("chat %s: %w", id, ErrNotFound)
	}
	return s.Chat(ctx, id, userID)
}

// DeleteChat implements Store. The chat and every thread of it go in one
// transaction.
func (s *SQL) DeleteChat(ctx context.Context, id, userID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM chats WHERE id = ? AND user_id = ?`), id, userID)
		if err != nil {
			return fmt.Errorf("deleting chat %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("chat %s: %w", id, ErrNotFound)
		}
		return s.deleteMessages(ctx, tx, id)
	})
}

// byChat is the condition on messages that selects a chat's threads (its
// main thread and its children's), with its arguments. PostgreSQL reads
// the chat_id index. SQLite has no index on chat_id (migration 0003: one
// index fewer to update per stored message) and reads the main thread and
// the range of "<id>::child::…" threads on the primary key; the range is
// exact under SQLite's byte-wise text comparison, as ';' follows ':'.
func (s *SQL) byChat(id string) (string, []any) {
	if s.postgre {
		return `chat_id = ?`, []any{id}
	}
	return `(thread = ? OR (thread >= ? AND thread < ?))`, []any{id, id + "::child::", id + "::child:;"}
}

// deleteMessages deletes the messages of a chat's threads within tx.
func (s *SQL) deleteMessages(ctx context.Context, tx *sql.Tx, id string) error {
	cond, args := s.byChat(id)
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM messages WHERE `+cond), args...); err != nil {
		return fmt.Errorf("deleting messages of chat %s: %w", id, err)
	}
	return nil
}

// DeleteChats implements Store.
func (s *SQL) DeleteChats(ctx context.Context, userID string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.deleteUserMessages(ctx, tx, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM chats WHERE user_id = ?`), userID)
		if err != nil {
			return fmt.Errorf("deleting chats: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// deleteUserMessages deletes the messages of all of a user's chats within
// tx: one statement on PostgreSQL, chat by chat on SQLite (see byChat).
func (s *SQL) deleteUserMessages(ctx context.Context, tx *sql.Tx, userID string) error {
	if s.postgre {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM messages WHERE chat_id IN (SELECT id FROM chats WHERE user_id = ?)`), userID); err != nil {
			return fmt.Errorf("deleting messages: %w", err)
		}
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM chats WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("deleting messages: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("deleting messages: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("deleting messages: %w", err)
	}
	for _, id := range ids {
		if err := s.deleteMessages(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// ChatUsage implements Store from the indexed usage columns, without
// decoding messages.
func (s *SQL) ChatUsage(ctx context.Context, chatID string) (map[string]TokenUsage, error) {
	cond, args := s.byChat(chatID)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT usage_source, SUM(input_tokens), SUM(output_tokens) FROM messages
		WHERE `+cond+` AND usage_source <> '' GROUP BY usage_source`), args...)
	if err != nil {
		return nil, fmt.Errorf("summing usage of chat %s: %w", chatID, err)
	}
	defer rows.Close()
	out := map[string]TokenUsage{}
	for rows.Next() {
		var src string
		var u TokenUsage
		if err := rows.Scan(&src, &u.InputTokens, &u.OutputTokens); err != nil {
			return nil, fmt.Errorf("summing usage of chat %s: %w", chatID, err)
		}
		out[src] = u
	}
	return out, rows.Err()
}

// Messages implements Store.
func (s *SQL) Messages(ctx context.Context, thread string) ([]Message, error) {
	out, _, err := s.MessagesAfter(ctx, thread, 0)
	return out, err
}

// MessagesAfter implements Store.
func (s *SQL) MessagesAfter(ctx context.Context, thread string, after int64) ([]Message, int64, error) {
	rows, err := s.query(ctx, nil, qMessagesAfter, thread, after)
	if err != nil {
		return nil, 0, fmt.Errorf("reading thread %s: %w", thread, err)
	}
	defer rows.Close()
	var out []Message
	last := int64(-1)
	for rows.Next() {
		var body string
		if err := rows.Scan(&last, &body); err != nil {
			return nil, 0, fmt.Errorf("reading thread %s: %w", thread, err)
		}
		m, err := decodeMessage([]byte(body))
		if err != nil {
			return nil, 0, fmt.Errorf("decoding a message of thread %s: %w", thread, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading thread %s: %w", thread, err)
	}
	if last >= 0 {
		return out, last, nil
	}
	// Nothing above after: the thread is at after, or shorter (deleted).
	// Rows appended since the read above are not claimed as read.
	seq, err := s.Seq(ctx, thread)
	return nil, min(seq, after), err
}

// Seq implements Store: one lookup of the primary key's last entry.
func (s *SQL) Seq(ctx context.Context, thread string) (int64, error) {
	var seq int64
	if err := s.queryRow(ctx, nil, qSeq, thread).Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading thread %s: %w", thread, err)
	}
	return seq, nil
}

// LastMessage implements Store.
func (s *SQL) LastMessage(ctx context.Context, thread string) (Message, bool, error) {
	var body string
	err := s.queryRow(ctx, nil, qLastMessage, thread).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("reading thread %s: %w", thread, err)
	}
	m, err := decodeMessage([]byte(body))
	if err != nil {
		return Message{}, false, fmt.Errorf("decoding a message of thread %s: %w", thread, err)
	}
	return m, true, nil
}

// Append implements Store: one transaction on PostgreSQL; on SQLite, the
// group commit's batch that takes it (see groupCommit).
func (s *SQL) Append(ctx context.Context, thread string, msgs ...Message) (int64, error) {
	if len(msgs) == 0 {
		return s.Seq(ctx, thread)
	}
	op, err := newAppendOp(thread, msgs)
	if err != nil {
		return 0, err
	}
	if s.group != nil {
		return s.group.append(ctx, op)
	}
	var last int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.lockThread != nil {
			if err := s.lockThread(ctx, tx, thread); err != nil {
				return err
			}
		}
		last, err = s.appendTx(ctx, tx, op)
		return err
	})
	if err != nil {
		return 0, err
	}
	return last, nil
}

// newAppendOp encodes msgs for thread.
func newAppendOp(thread string, msgs []Message) (appendOp, error) {
	op := appendOp{thread: thread, chatID: chatOf(thread), name: nameFrom(thread, msgs), rows: make([][]any, len(msgs))}
	for i, m := range msgs {
		body, err := encodeMessage(m)
		if err != nil {
			return appendOp{}, fmt.Errorf("encoding a message of %s: %w", thread, err)
		}
		var in, out int
		if m.Usage != nil {
			in, out = m.Usage.InputTokens, m.Usage.OutputTokens
		}
		op.rows[i] = []any{thread, int64(0), op.chatID, m.Role, m.RequestID,
			usageSource(thread, m), in, out, string(body), micros(m.CreatedAt)}
	}
	return op, nil
}

// appendTx writes op within tx (which the caller made exclusive for the
// thread) and returns the thread's sequence number after it.
func (s *SQL) appendTx(ctx context.Context, tx *sql.Tx, op appendOp) (int64, error) {
	var last int64
	if err := s.queryRow(ctx, tx, qSeq, op.thread).Scan(&last); err != nil {
		return 0, fmt.Errorf("appending to %s: %w", op.thread, err)
	}
	for i, r := range op.rows {
		r[rowSeq] = last + int64(i) + 1
	}
	if err := s.insertMessages(ctx, tx, op.rows); err != nil {
		return 0, fmt.Errorf("appending to %s: %w", op.thread, err)
	}
	if op.name != "" {
		if _, err := s.exec(ctx, tx, qNameChat, op.name, op.chatID); err != nil {
			return 0, fmt.Errorf("naming chat %s: %w", op.chatID, err)
		}
	}
	return last + int64(len(op.rows)), nil
}

// writeBatch is SQLite's groupCommit.write: the batch in one transaction,
// each Append in a savepoint of its own, so that a failing one is rolled
// back alone and gets its own error; a failure of the transaction itself
// (BEGIN, a savepoint, COMMIT) fails every Append of the batch. A batch of
// one needs no savepoint: its failure is the transaction's. The batch
// belongs to no caller: it runs without their contexts (see
// groupCommit.append).
func (s *SQL) writeBatch(batch []*groupReq) {
	ctx := context.Background()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if len(batch) == 1 {
			r := batch[0]
			r.seq, r.err = s.appendTx(ctx, tx, r.op)
			return r.err
		}
		for _, r := range batch {
			if _, err := s.exec(ctx, tx, qSavepoint); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			r.seq, r.err = s.appendTx(ctx, tx, r.op)
			if r.err != nil {
				if _, err := s.exec(ctx, tx, qRollbackTo); err != nil {
					return fmt.Errorf("rolling back to savepoint: %w", err)
				}
			}
			if _, err := s.exec(ctx, tx, qRelease); err != nil {
				return fmt.Errorf("releasing savepoint: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	for _, r := range batch {
		if len(batch) == 1 && r.err != nil {
			return // its own error, which ended the transaction
		}
		r.seq, r.err = 0, fmt.Errorf("appending to %s in a batch of %d: %w", r.op.thread, len(batch), err)
	}
}

// insertMessages inserts rows (the columns of qInsertMessage) within tx:
// row by row with the prepared statement where there is one (SQLite, in
// process), else in one multi-row INSERT (one round trip to PostgreSQL).
func (s *SQL) insertMessages(ctx context.Context, tx *sql.Tx, rows [][]any) error {
	if st := s.stmt(ctx, tx, qInsertMessage); st != nil {
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		return nil
	}
	values := strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(rows))[2:]
	query := qInsertMessage[:strings.Index(qInsertMessage, "VALUES ")+len("VALUES ")] + values
	args := make([]any, 0, 10*len(rows))
	for _, r := range rows {
		args = append(args, r...)
	}
	_, err := tx.ExecContext(ctx, s.q(query), args...)
	return err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *SQL) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
