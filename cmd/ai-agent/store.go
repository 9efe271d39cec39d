package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/rancher/ai-agent/internal/store"
)

// appStore is what the server keeps its state in.
type appStore interface {
	store.Store
	store.OAuthStore
	Close() error
}

// openStore opens the store the environment selects:
//
//   - DB_ENABLED=true with DB_CONNECTION_STRING (the Python agent's
//     variables): PostgreSQL, shared by every replica;
//   - STORAGE=memory: nothing survives a restart (tests, demos);
//   - otherwise SQLite, the embedded default, at SQLITE_PATH. Its default
//     is $XDG_STATE_HOME/ai-agent/ai-agent.db, else
//     <temp dir>/ai-agent/ai-agent.db: the container's root file system
//     is read-only, and a temp dir is the one place usually writable, so
//     the default works without a volume (and, being per pod, is reported
//     to the UI as "in-memory"). Mount a volume and set SQLITE_PATH to
//     keep chats across pods.
func openStore(ctx context.Context, getenv func(string) string, log *slog.Logger) (appStore, error) {
	db, err := boolEnv(getenv, "DB_ENABLED")
	if err != nil {
		return nil, err
	}
	kind := strings.ToLower(strings.TrimSpace(getenv("STORAGE")))
	switch {
	case db:
		dsn := getenv("DB_CONNECTION_STRING")
		if dsn == "" {
			return nil, errors.New("DB_ENABLED=true needs DB_CONNECTION_STRING")
		}
		st, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		log.Info("storage: postgresql")
		return st, nil
	case kind == "memory":
		log.Info("storage: in memory (STORAGE=memory): chats are lost on restart")
		return memStore{store.NewMemory()}, nil
	case kind == "" || kind == "sqlite":
		path := sqlitePath(getenv)
		st, err := store.OpenSQLite(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("%w (set SQLITE_PATH to a writable file, or STORAGE=memory)", err)
		}
		log.Info("storage: sqlite", "path", path)
		return st, nil
	default:
		return nil, fmt.Errorf("STORAGE=%q: want sqlite or memory (PostgreSQL: DB_ENABLED=true)", kind)
	}
}

// sqlitePath is SQLITE_PATH or its default (see openStore).
func sqlitePath(getenv func(string) string) string {
	if p := getenv("SQLITE_PATH"); p != "" {
		return p
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ai-agent", "ai-agent.db")
	}
	return filepath.Join(os.TempDir(), "ai-agent", "ai-agent.db")
}

type memStore struct{ *store.Memory }

func (memStore) Close() error { return nil }
