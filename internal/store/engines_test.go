package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/store/pgtest"
	"github.com/rancher/ai-agent/internal/store/storetest"

	"github.com/rancher/ai-agent/internal/leakcheck"
)

// pgServer is this test binary's PostgreSQL (nil with pgErr when it could
// not start). One server serves every test; each gets its own database.
var (
	pgServer *pgtest.Server
	pgErr    error
	dbSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	pgServer, pgErr = pgtest.Start(ctx)
	cancel()
	code := m.Run()
	if pgServer != nil {
		if err := pgServer.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping postgres:", err)
		}
	}
	leakcheck.Exit(code)
}

func openMemory(testing.TB) storetest.Engine { return store.NewMemory() }

func openSQLite(t testing.TB) storetest.Engine {
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sub", "ai.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB) storetest.Engine {
	if pgServer == nil {
		pgtest.Unavailable(t, pgErr)
	}
	ctx := context.Background()
	dsn, err := pgServer.CreateDB(ctx, fmt.Sprintf("t%d", dbSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemory(t *testing.T)   { storetest.Run(t, openMemory) }
func TestSQLite(t *testing.T)   { storetest.Run(t, openSQLite) }
func TestPostgres(t *testing.T) { storetest.Run(t, openPostgres) }

// TestReopenSQLite: the file survives a restart, and migrating again is a
// no-op.
func TestReopenSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ai.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenChat(ctx, "c1", "alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Chat(ctx, "c1", "alice"); err != nil {
		t.Fatalf("chat lost across reopen: %v", err)
	}
	if s.StorageType() != store.TypeInMemory {
		t.Fatalf("SQLite StorageType = %q, want %q (see TypeInMemory)", s.StorageType(), store.TypeInMemory)
	}
}

func TestOpenSQLiteBadPath(t *testing.T) {
	if _, err := store.OpenSQLite(context.Background(), "x.db?mode=ro"); err == nil {
		t.Fatal("a path with a query was accepted")
	}
}

// TestPostgresConcurrentStart: replicas starting at once on an empty
// database all migrate without error, and share one schema.
func TestPostgresConcurrentStart(t *testing.T) {
	if pgServer == nil {
		pgtest.Unavailable(t, pgErr)
	}
	ctx := context.Background()
	dsn, err := pgServer.CreateDB(ctx, "concurrent")
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	stores := make([]*store.SQL, n)
	errs := make([]error, n)
	start := make(chan struct{})
	done := make(chan int)
	for i := range n {
		go func() {
			<-start
			stores[i], errs[i] = store.OpenPostgres(ctx, dsn)
			done <- i
		}()
	}
	close(start)
	for range n {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent start: %v", err)
	}
	if _, err := stores[0].OpenChat(ctx, "c1", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[n-1].Chat(ctx, "c1", "alice"); err != nil {
		t.Fatalf("replica does not see the chat: %v", err)
	}
	if stores[0].StorageType() != store.TypePostgres {
		t.Fatalf("StorageType = %q", stores[0].StorageType())
	}
	for _, s := range stores {
		s.Close()
	}
}

// TestPostgresLockAcrossReplicas: the OAuth lock of one store blocks
// another store on the same database (another replica).
func TestPostgresLockAcrossReplicas(t *testing.T) {
	a := openPostgres(t).(*store.SQL)
	ctx := context.Background()
	dsn := pgServer.DSN(fmt.Sprintf("t%d", dbSeq.Load()))
	b, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	unlock, err := a.Lock(ctx, "refresh:alice")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(wctx, "refresh:alice"); err == nil {
		t.Fatal("second replica took a held lock")
	}
	unlock()
	u2, err := b.Lock(ctx, "refresh:alice")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	u2()
}

// TestSQLiteMigratesChatIndex: a database written before migration 0003
// (with the messages_chat index) opens, loses the index and keeps its
// chats, threads and usage.
func TestSQLiteMigratesChatIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ai.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenChat(ctx, "c1", "alice"); err != nil {
		t.Fatal(err)
	}
	msgs := turn(1)
	if _, err := s.Append(ctx, "c1", msgs...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, store.ChildThread("c1", "math"), msgs[3]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to the schema of version 2.
	index := func() int {
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_chat'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			for _, q := range []string{`CREATE INDEX messages_chat ON messages (chat_id)`, `DELETE FROM schema_migrations WHERE version = 3`} {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		return n
	}
	if index() != 0 {
		t.Fatal("a new database has the messages_chat index")
	}
	if s, err = store.OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	cs, err := s.ListChats(ctx, "alice", false)
	if err != nil || len(cs) != 1 || cs[0].Name != msgs[0].UserInput {
		t.Fatalf("ListChats after the migration = %+v, %v", cs, err)
	}
	if got, err := s.Messages(ctx, "c1"); err != nil || len(got) != len(msgs) {
		t.Fatalf("thread after the migration: %d messages, %v", len(got), err)
	}
	u, err := s.ChatUsage(ctx, "c1")
	if err != nil || u["rancher"].InputTokens != 900 || u["math"].InputTokens != 900 {
		t.Fatalf("ChatUsage after the migration = %+v, %v", u, err)
	}
	s.Close()
	if index() != 0 {
		t.Fatal("migration 0003 left the messages_chat index")
	}
}
