package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres connects to PostgreSQL (a libpq URL or key=value string)
// and migrates the schema. Queries go through database/sql (shared with
// SQLite); OAuth locks use a separate pgx pool, so that replicas waiting
// for a lock can never take every connection the lock holders need.
func OpenPostgres(ctx context.Context, dsn string) (*SQL, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: do not wrap it.
		return nil, fmt.Errorf("postgres: invalid connection string")
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	locks, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres lock pool: %w", err)
	}
	s := &SQL{db: db, postgre: true, now: time.Now,
		lockThread: func(ctx context.Context, tx *sql.Tx, thread string) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("thread:"+thread)); err != nil {
				return fmt.Errorf("locking thread %s: %w", thread, err)
			}
			return nil
		},
		lock: func(ctx context.Context, key string) (func(), error) { return advisoryLock(ctx, locks, key) },
		closeFn: func() error {
			locks.Close()
			return db.Close()
		},
	}
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: %w", explainPGConnect(err))
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey)); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		_, err := migrate(ctx, tx, "postgres", s.q)
		return err
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// lockKey maps a lock name to an advisory lock id.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// advisoryLock takes a session advisory lock on a connection of its own,
// held until unlock. A connection whose lock state is unknown (an error,
// a canceled wait) is closed, which releases any lock it held.
func advisoryLock(ctx context.Context, pool *pgxpool.Pool, key string) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	id := lockKey("oauth:" + key)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		_ = conn.Hijack().Close(context.Background())
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
			_ = conn.Hijack().Close(uctx)
			return
		}
		conn.Release()
	}, nil
}
