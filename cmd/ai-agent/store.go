package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/rancher/ai-agent/internal/store"
)

// appStore is what the server keeps its state in.
type appStore interface {
	store.Store
	store.OAuthStore
	Close() error
}

// openStore opens the store the environment selects and names its engine
// (sqlite, postgres, memory) for the log:
//
//   - DB_ENABLED=true with DB_CONNECTION_STRING (the Python agent's
//     variables): PostgreSQL, shared by every replica;
//   - STORAGE=memory: nothing survives a restart (tests, demos);
//   - otherwise SQLite, the embedded default, at SQLITE_PATH (see
//     sqlitePath). The UI is told "in-memory" for it (store.TypeInMemory):
//     the chart's default file is per pod.
func openStore(ctx context.Context, se serveEnv, log *slog.Logger) (appStore, string, error) {
	switch kind := se.Storage; {
	case se.DBEnabled:
		dsn := se.DBConnectionString
		if dsn == "" {
			return nil, "", errors.New("DB_ENABLED=true needs DB_CONNECTION_STRING")
		}
		st, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, "", err
		}
		log.Info("storage: postgres")
		return st, "postgres", nil
	case kind == "memory":
		log.Info("storage: memory (STORAGE=memory): chats are lost on restart")
		return memStore{store.NewMemory()}, "memory", nil
	case kind == "" || kind == "sqlite":
		path, err := sqlitePath(se)
		if err != nil {
			return nil, "", err
		}
		st, err := store.OpenSQLite(ctx, path)
		if err != nil {
			return nil, "", fmt.Errorf("%w (set SQLITE_PATH to a writable file, or STORAGE=memory)", err)
		}
		log.Info("storage: sqlite", "path", path)
		return st, "sqlite", nil
	default:
		return nil, "", fmt.Errorf("STORAGE=%q: want sqlite or memory (PostgreSQL: DB_ENABLED=true)", kind)
	}
}

// sqlitePath is SQLITE_PATH, else ai-agent.db in the state directory
// (stateDir). The chart sets SQLITE_PATH to its volume.
func sqlitePath(se serveEnv) (string, error) {
	if se.SQLitePath != "" {
		return se.SQLitePath, nil
	}
	if se.StateDirErr != nil {
		return "", fmt.Errorf("no place for the SQLite file: set SQLITE_PATH, or STORAGE=memory: %w", se.StateDirErr)
	}
	return filepath.Join(se.StateDir, "ai-agent.db"), nil
}

type memStore struct{ *store.Memory }

func (memStore) Close() error { return nil }
