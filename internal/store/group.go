package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrClosed is matched by the error of an Append that the store did not
// write because it was closed first.
var ErrClosed = errors.New("store closed")

// appendOp is the work of one Append, prepared by its caller: the rows are
// encoded before the writer sees them, so that encoding runs on the
// callers' goroutines, in parallel, and not inside the write transaction.
type appendOp struct {
	thread, chatID string
	// name is the chat's default name from this batch ("" for none).
	name string
	// rows are qInsertMessage's arguments; the writer sets rowSeq.
	rows [][]any
}

// rowSeq is the index of the seq column in an appendOp row.
const rowSeq = 1

// groupReq is an appendOp waiting for its batch.
type groupReq struct {
	ctx context.Context
	op  appendOp
	// taken is set (under groupCommit.mu) when a batch takes the request or
	// Close fails it: from then on it is answered through done.
	taken bool
	seq   int64
	err   error
	done  chan struct{}
}

// groupCommit is SQLite's group commit. The database has one writer (one
// connection), so concurrent Appends queue; whichever of them holds the
// token writes everything queued as one batch (write does it in one
// transaction, each Append in a savepoint of its own), and the others wait
// for their answer. One Append alone is a batch of one at once: there is no
// timer and no goroutine of its own, so an idle store adds no latency and
// Close has nothing to stop.
type groupCommit struct {
	// write writes a batch and answers each request in it (seq, err). It
	// must not close done.
	write func(batch []*groupReq)
	// token is held (a value in it) by the Append writing a batch, and by
	// Close from then on.
	token chan struct{}
	// queued, when set (tests), is called after a request is queued.
	queued func()

	mu     sync.Mutex
	queue  []*groupReq
	closed bool
}

func newGroupCommit(write func(batch []*groupReq)) *groupCommit {
	return &groupCommit{write: write, token: make(chan struct{}, 1)}
}

// append queues op and returns its thread's sequence number once a batch
// wrote it. A caller whose ctx ends before its batch started gets ctx's
// error and nothing of it is written; once its batch started it waits for
// the batch's answer (a batch does not wait on the network).
func (g *groupCommit) append(ctx context.Context, op appendOp) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("appending to %s: %w", op.thread, context.Cause(ctx))
	}
	r := &groupReq{ctx: ctx, op: op, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return 0, fmt.Errorf("appending to %s: %w", op.thread, ErrClosed)
	}
	g.queue = append(g.queue, r)
	g.mu.Unlock()
	if g.queued != nil {
		g.queued()
	}
	for {
		select {
		case <-r.done:
			return r.seq, r.err
		default:
		}
		select {
		case <-r.done:
			return r.seq, r.err
		case g.token <- struct{}{}:
			if batch := g.take(); len(batch) > 0 {
				g.write(batch)
				for _, b := range batch {
					close(b.done)
				}
			}
			<-g.token
		case <-ctx.Done():
			g.mu.Lock()
			if !r.taken {
				r.taken = true
				g.queue = slices.DeleteFunc(g.queue, func(q *groupReq) bool { return q == r })
				g.mu.Unlock()
				return 0, fmt.Errorf("appending to %s: %w", op.thread, context.Cause(ctx))
			}
			g.mu.Unlock()
			<-r.done
			return r.seq, r.err
		}
	}
}

// take empties the queue into a batch. A request whose ctx ended while it
// was queued is answered with ctx's error instead.
func (g *groupCommit) take() []*groupReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	batch := g.queue[:0:0]
	for _, r := range g.queue {
		r.taken = true
		if r.ctx.Err() != nil {
			r.err = fmt.Errorf("appending to %s: %w", r.op.thread, context.Cause(r.ctx))
			close(r.done)
			continue
		}
		batch = append(batch, r)
	}
	g.queue = nil
	return batch
}

// close fails every queued request with ErrClosed, refuses new ones, and
// waits for the batch being written, if any. It keeps the token: no batch
// is written after it returns.
func (g *groupCommit) close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	queued := g.queue
	g.queue = nil
	for _, r := range queued {
		r.taken = true
		r.err = fmt.Errorf("appending to %s: %w", r.op.thread, ErrClosed)
		close(r.done)
	}
	g.mu.Unlock()
	g.token <- struct{}{}
}
