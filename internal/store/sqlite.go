package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite", pure Go (no cgo)
)

// OpenSQLite opens (creating it and its directory) the SQLite database at
// path and migrates it. SQLite serves one process: there is one
// connection, so writes are serialised without SQLITE_BUSY, and OAuth
// locks are process-local. WAL keeps a crash from corrupting the file.
// Appends that arrive while one is being written are written together,
// in one transaction (group commit, see groupCommit); Close fails those
// still queued with ErrClosed.
func OpenSQLite(ctx context.Context, path string) (*SQL, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite path %q: must be a file name without ? or #", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	var locks keyedMutex
	s := &SQL{db: db, now: time.Now, lock: locks.Lock, closeFn: db.Close}
	// _txlock=immediate makes this BEGIN IMMEDIATE: a second process
	// migrating the same file waits (busy_timeout) instead of racing.
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := migrate(ctx, tx, "sqlite", s.q)
		return err
	})
	if err == nil {
		s.stmts, err = prepare(ctx, db)
		s.group = newGroupCommit(s.writeBatch)
		s.closeFn = func() error {
			for _, st := range s.stmts {
				st.Close()
			}
			return db.Close()
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}
