package store_test

import (
	"context"
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
