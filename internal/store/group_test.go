package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// The group commit's tests hold the writer's token themselves, as a batch
// being written would, so that the Appends they start queue behind it; the
// queued hook tells when each one is queued. Releasing the token lets the
// next Append write everything queued as one batch.

// openGroup opens a SQLite store at path (migrated, then setup run on the
// raw file, then reopened) whose group commit reports queued requests on
// the returned channel and the size of each batch it writes on batches.
func openGroup(t *testing.T, setup ...string) (s *SQL, queued <-chan struct{}, batches <-chan int) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ai.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(setup) > 0 {
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range setup {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		raw.Close()
	}
	if s, err = OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	q, b := make(chan struct{}, 1000), make(chan int, 1000)
	s.group.queued = func() { q <- struct{}{} }
	write := s.group.write
	s.group.write = func(batch []*groupReq) {
		b <- len(batch)
		write(batch)
	}
	return s, q, b
}

// hold takes the writer's token, as a batch being written does.
func hold(s *SQL) (release func()) {
	s.group.token <- struct{}{}
	return func() { <-s.group.token }
}

func wait(t *testing.T, ch <-chan struct{}, n int) {
	t.Helper()
	for range n {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatal("an Append was not queued")
		}
	}
}

func msg(role, content string) Message {
	return Message{Message: llm.Message{Role: role, Content: content}, CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

type result struct {
	thread string
	seq    int64
	err    error
}

// TestGroupCommitBatch: Appends queued behind a batch are written as one
// batch; each gets its own thread's number, and the one a trigger refuses
// fails alone, with nothing of it written.
func TestGroupCommitBatch(t *testing.T) {
	s, queued, batches := openGroup(t,
		`CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.role = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`)
	ctx := context.Background()
	const threads, each = 10, 2
	release := hold(s)
	results := make(chan result, threads*each+1)
	for i := range threads * each {
		th := fmt.Sprintf("c%d", i%threads)
		go func() {
			seq, err := s.Append(ctx, th, msg("user", "q "+th), msg("assistant", "a "+th))
			results <- result{th, seq, err}
		}()
	}
	go func() {
		seq, err := s.Append(ctx, "c3", msg("user", "poison"), msg("refused", "no"))
		results <- result{"poison", seq, err}
	}()
	wait(t, queued, threads*each+1)
	release()
	seqs := map[string][]int64{}
	for range threads*each + 1 {
		r := <-results
		if r.thread == "poison" {
			if r.err == nil || !strings.Contains(r.err.Error(), "refused by the test") {
				t.Fatalf("refused Append: %d, %v", r.seq, r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("Append to %s failed with the refused one in its batch: %v", r.thread, r.err)
		}
		seqs[r.thread] = append(seqs[r.thread], r.seq)
	}
	if n := <-batches; n != threads*each+1 {
		t.Fatalf("first batch of %d, want all %d queued", n, threads*each+1)
	}
	for i := range threads {
		th := fmt.Sprintf("c%d", i)
		if got := seqs[th]; len(got) != each || got[0]+got[1] != 6 || got[0]*got[1] != 8 {
			t.Fatalf("thread %s: seqs %v, want 2 and 4", th, got)
		}
		msgs, err := s.Messages(ctx, th)
		if err != nil || len(msgs) != 2*each {
			t.Fatalf("thread %s: %d messages, %v", th, len(msgs), err)
		}
		for j := 0; j < len(msgs); j += 2 {
			if msgs[j].Content != "q "+th || msgs[j+1].Content != "a "+th {
				t.Fatalf("thread %s: %q, %q at %d", th, msgs[j].Content, msgs[j+1].Content, j)
			}
		}
	}
}

// TestGroupCommitCommitFails: when the batch's COMMIT fails (here a
// deferred foreign key that one Append's row breaks), every Append of the
// batch fails with the cause, nothing is written, and the next Append
// works.
func TestGroupCommitCommitFails(t *testing.T) {
	s, queued, _ := openGroup(t,
		`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE TRIGGER dangle AFTER INSERT ON messages WHEN NEW.role = 'dangle' BEGIN INSERT INTO child VALUES (42); END`)
	ctx := context.Background()
	release := hold(s)
	results := make(chan result, 3)
	for i, role := range []string{"user", "dangle", "user"} {
		th := fmt.Sprintf("c%d", i)
		go func() {
			seq, err := s.Append(ctx, th, msg(role, "x"))
			results <- result{th, seq, err}
		}()
	}
	wait(t, queued, 3)
	release()
	for range 3 {
		r := <-results
		if r.err == nil || !strings.Contains(r.err.Error(), "in a batch of 3") || !strings.Contains(r.err.Error(), "FOREIGN KEY") {
			t.Fatalf("Append to %s in a batch whose commit failed: %d, %v", r.thread, r.seq, r.err)
		}
	}
	for i := range 3 {
		if seq, err := s.Seq(ctx, fmt.Sprintf("c%d", i)); err != nil || seq != 0 {
			t.Fatalf("thread c%d after a failed commit: %d, %v", i, seq, err)
		}
	}
	if seq, err := s.Append(ctx, "c0", msg("user", "again")); err != nil || seq != 1 {
		t.Fatalf("Append after a failed commit = %d, %v", seq, err)
	}
}

// TestGroupCommitCanceledWhileQueued: an Append whose ctx ends while it is
// queued returns ctx's error and is not written.
func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	s, queued, _ := openGroup(t)
	release := hold(s)
	cctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Append(cctx, "c1", msg("user", "never"))
		errc <- err
	}()
	wait(t, queued, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Append: %v, want context.Canceled", err)
	}
	release()
	ctx := context.Background()
	if seq, err := s.Append(ctx, "c1", msg("user", "kept")); err != nil || seq != 1 {
		t.Fatalf("next Append = %d, %v; want 1 (the canceled one not written)", seq, err)
	}
	if msgs, err := s.Messages(ctx, "c1"); err != nil || len(msgs) != 1 || msgs[0].Content != "kept" {
		t.Fatalf("thread = %v, %v", msgs, err)
	}
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := s.Append(done, "c1", msg("user", "late")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with an ended ctx: %v", err)
	}
}

// TestGroupCommitCloseWhileQueued: Close fails the queued Appends with
// ErrClosed at once, waits for the batch being written, and refuses
// Appends after it.
func TestGroupCommitCloseWhileQueued(t *testing.T) {
	s, queued, _ := openGroup(t)
	ctx := context.Background()
	release := hold(s)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Append(ctx, fmt.Sprintf("c%d", i), msg("user", "q"))
			errs <- err
		}()
	}
	wait(t, queued, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for range n {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("queued Append at Close: %v, want ErrClosed", err)
		}
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a batch was being written", err)
	default:
	}
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "c1", msg("user", "q")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
}
