package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Emitter is what a turn uses to talk to the browser.
type Emitter interface {
	// Send writes one text frame. It still delivers after the turn's context
	// was cancelled (a stopped turn must close its message); it fails once
	// the connection is gone.
	Send(ctx context.Context, frame string) error
	// Ask sends frame and waits for one of the given raw replies (for
	// example authentication_confirmed or authentication_canceled) without
	// blocking the reader. The wait starts before the frame is sent, so a
	// quick answer is never lost; other replies are dropped. It returns
	// ctx's cause when ctx ends first.
	Ask(ctx context.Context, frame string, replies ...string) (string, error)
}

// Handler runs the turns of one connection.
type Handler interface {
	// Open runs once, after the reader has started and before any prompt
	// (the eager OAuth sign-in of a single agent happens here).
	Open(ctx context.Context, em Emitter)
	// Turn runs one prompt. It must send MessageOpen first and MessageClose
	// last, whatever happens.
	Turn(ctx context.Context, em Emitter, p Prompt)
}

// Options tune a Conn.
type Options struct {
	Logger *slog.Logger
	// QueueSize bounds the prompts waiting behind the running turn.
	QueueSize int
	// ReadLimit bounds one client frame in bytes.
	ReadLimit int64
	// WriteTimeout bounds one frame write.
	WriteTimeout time.Duration
	// ShutdownGrace is how long a running turn may go on after the server
	// starts shutting down before it is cancelled.
	ShutdownGrace time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 32
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
}

// Conn is one browser connection. An idle connection costs one goroutine
// (the reader, which is the caller of Serve) and no queue: a worker
// goroutine runs the turns while there are prompts and ends when the queue
// is empty.
type Conn struct {
	ws   *websocket.Conn
	opts Options
	log  *slog.Logger
	h    Handler

	life   context.Context // ends when the client goes away
	cancel context.CancelFunc

	// writeMu serializes frame writes. A write is bounded without a context
	// of its own (coder/websocket arms a context.AfterFunc per write for a
	// context that can end): writeTimer, armed for the length of one write,
	// closes the socket when the write outlasts WriteTimeout, and the end
	// of life closes it when a write is under way (writing), as a write
	// context derived from life did.
	writeMu    sync.Mutex
	writing    atomic.Bool
	writeTimer *time.Timer

	mu         sync.Mutex
	wait       *waiter
	turnCancel context.CancelCauseFunc
	turnDone   chan struct{} // closed when the running turn returns
	queue      []clientFrame // prompts waiting behind the running turn; nil when none
	working    bool          // a worker goroutine is running turns
	closing    bool          // shutting down: no new turn starts
	workers    sync.WaitGroup
	// dropped counts the prompts refused because the queue was full; each
	// is answered once the running turn has closed its message.
	dropped int
}

type waiter struct {
	replies []string
	ch      chan string
}

// ErrStopped is the cause of a turn's context when the user sent <stop>.
var ErrStopped = errors.New("execution stopped by the user")

// ErrClientGone is the cause when the browser closed the connection.
var ErrClientGone = errors.New("client disconnected")

// ErrShutdown is the cause when the server is shutting down.
var ErrShutdown = errors.New("server shutting down")

// NewConn wraps an accepted WebSocket.
func NewConn(ws *websocket.Conn, opts Options) *Conn {
	opts.defaults()
	ws.SetReadLimit(opts.ReadLimit)
	life, cancel := context.WithCancel(context.Background())
	c := &Conn{ws: ws, opts: opts, log: opts.Logger, life: life, cancel: cancel}
	c.writeTimer = time.AfterFunc(time.Hour, func() { _ = ws.CloseNow() })
	c.writeTimer.Stop()
	context.AfterFunc(life, func() {
		if c.writing.Load() {
			_ = ws.CloseNow()
		}
	})
	return c
}

// errWriteTimeout marks a frame write that took longer than WriteTimeout.
var errWriteTimeout = fmt.Errorf("frame write took too long: %w", context.DeadlineExceeded)

// Send implements Emitter.
func (c *Conn) Send(_ context.Context, frame string) error {
	if c.life.Err() != nil {
		return fmt.Errorf("send: %w", ErrClientGone)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// writing is set before life is checked again, and life's AfterFunc
	// reads it after life ended: a write never starts unwatched.
	c.writing.Store(true)
	defer c.writing.Store(false)
	if c.life.Err() != nil {
		return fmt.Errorf("send: %w", ErrClientGone)
	}
	c.writeTimer.Reset(c.opts.WriteTimeout)
	err := c.ws.Write(context.Background(), websocket.MessageText, []byte(frame))
	if !c.writeTimer.Stop() && err != nil {
		err = fmt.Errorf("%w: %w", errWriteTimeout, err)
	}
	if err != nil {
		c.cancel()
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// Ask implements Emitter.
func (c *Conn) Ask(ctx context.Context, frame string, replies ...string) (string, error) {
	w := &waiter{replies: replies, ch: make(chan string, 1)}
	c.mu.Lock()
	c.wait = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.wait == w {
			c.wait = nil
		}
		c.mu.Unlock()
	}()
	if err := c.Send(ctx, frame); err != nil {
		return "", err
	}
	select {
	case r := <-w.ch:
		return r, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	case <-c.life.Done():
		return "", ErrClientGone
	}
}

// Close closes the connection with a status and reason.
func (c *Conn) Close(code websocket.StatusCode, reason string) {
	_ = c.ws.Close(code, reason)
	c.cancel()
}

// Serve reads frames until the client leaves or shutdown ends, running
// h.Open once and then each prompt in order. It returns when the connection
// is done. Cancelling shutdown lets the running turn finish (up to
// ShutdownGrace), then closes the connection with 1001.
func (c *Conn) Serve(shutdown context.Context, h Handler) {
	c.h = h
	drained := make(chan struct{})
	stop := context.AfterFunc(shutdown, func() {
		defer close(drained)
		c.drain()
	})
	c.mu.Lock()
	c.startWorkerLocked(func(ctx context.Context) { h.Open(ctx, c) })
	c.mu.Unlock()
	c.read()
	if !stop() {
		<-drained
	}
	c.workers.Wait()
	c.cancel()
}

// drain stops taking new prompts, lets the running turn finish (or cancels
// it after ShutdownGrace), then closes the connection with 1001.
func (c *Conn) drain() {
	c.mu.Lock()
	c.closing = true
	running, done := c.turnCancel, c.turnDone
	c.mu.Unlock()
	if running != nil {
		timer := time.NewTimer(c.opts.ShutdownGrace)
		select {
		case <-timer.C:
			running(ErrShutdown)
			<-done
		case <-done:
		}
		timer.Stop()
	}
	c.Close(websocket.StatusGoingAway, "server shutting down")
}

// startWorkerLocked starts the goroutine that runs first (when not nil),
// then the queued prompts until none is left. c.mu must be held.
func (c *Conn) startWorkerLocked(first func(ctx context.Context)) {
	c.working = true
	c.workers.Add(1)
	go c.work(first)
}

func (c *Conn) work(first func(ctx context.Context)) {
	defer c.workers.Done()
	if first != nil {
		c.mu.Lock()
		ctx, end := c.beginLocked()
		c.mu.Unlock()
		c.contained("open", end, func() { first(ctx) })
	}
	for {
		c.answerDropped()
		c.mu.Lock()
		if len(c.queue) == 0 || c.closing || c.life.Err() != nil {
			c.working = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		f := c.queue[0]
		c.queue[0] = clientFrame{}
		c.queue = c.queue[1:]
		ctx, end := c.beginLocked()
		c.mu.Unlock()
		c.contained("turn", end, func() { c.dispatch(ctx, f) })
	}
}

// contained runs f, then end. A panic in f ends this connection only: it
// is logged with its stack, the browser gets an <error> and the socket is
// closed with 1011, and the process goes on serving every other chat.
func (c *Conn) contained(what string, end, f func()) {
	defer end()
	defer c.recoverPanic(what)
	f()
}

// recoverPanic is contained's deferred half, also deferred by the reader.
func (c *Conn) recoverPanic(what string) {
	v := recover()
	if v == nil {
		return
	}
	c.opts.Logger.Error("chat connection panic: closing it", "in", what, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if c.life.Err() == nil {
		_ = c.Send(context.Background(), ErrorFrame("Internal error: this chat was closed. Reopen it to go on."))
	}
	c.Close(websocket.StatusInternalError, "internal error")
}

// beginLocked makes the context of a turn and records it as running; end
// clears it. c.mu must be held.
func (c *Conn) beginLocked() (ctx context.Context, end func()) {
	ctx, cancel := context.WithCancelCause(c.life)
	done := make(chan struct{})
	c.turnCancel, c.turnDone = cancel, done
	return ctx, func() {
		c.mu.Lock()
		c.turnCancel, c.turnDone = nil, nil
		c.mu.Unlock()
		cancel(nil)
		close(done)
	}
}

// invalidFrameSentence is the <error> of a frame that is not a prompt.
const invalidFrameSentence = "This message could not be read (it is not a prompt the agent understands); reload the page and send it again."

func (c *Conn) dispatch(ctx context.Context, f clientFrame) {
	if f.Kind == kindInvalid {
		_ = c.Send(ctx, MessageOpen)
		// The parse error goes to the log; the user reads one sentence.
		c.log.Info("invalid frame", "error", f.Err)
		_ = c.Send(ctx, ErrorFrame(invalidFrameSentence))
		_ = c.Send(ctx, MessageClose)
		return
	}
	c.h.Turn(ctx, c, f.Prompt)
}

// read is the only reader of the socket. It never blocks on a turn.
func (c *Conn) read() {
	defer c.cancel()
	defer c.recoverPanic("reader")
	for {
		typ, data, err := c.ws.Read(c.life)
		if err != nil {
			c.stopTurn(ErrClientGone)
			return
		}
		if typ != websocket.MessageText {
			c.enqueue(invalid("binary frames are not supported"))
			continue
		}
		f := parseFrame(string(data))
		switch f.Kind {
		case kindStop:
			c.stopTurn(ErrStopped)
		case kindReply:
			c.deliver(f.Reply)
		default:
			c.enqueue(f)
		}
	}
}

// enqueue queues a prompt and starts a worker when none is running.
func (c *Conn) enqueue(f clientFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) >= c.opts.QueueSize {
		c.log.Warn("prompt refused: too many prompts queued", "queued", len(c.queue))
		c.dropped++
		return
	}
	c.queue = append(c.queue, f)
	if !c.working {
		c.startWorkerLocked(nil)
	}
}

// answerDropped tells the browser about each prompt refused while the
// queue was full: a message of its own, between turns, never inside one.
func (c *Conn) answerDropped() {
	c.mu.Lock()
	n := c.dropped
	c.dropped = 0
	c.mu.Unlock()
	msg := fmt.Sprintf("Too many messages are waiting (at most %d): this one was not processed. Send it again when the answers have arrived.", c.opts.QueueSize)
	for range n {
		_ = c.Send(c.life, MessageOpen)
		_ = c.Send(c.life, ErrorFrame(msg))
		_ = c.Send(c.life, MessageClose)
	}
}

func (c *Conn) stopTurn(cause error) {
	c.mu.Lock()
	cancel := c.turnCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

func (c *Conn) deliver(reply string) {
	c.mu.Lock()
	w := c.wait
	if w != nil && slices.Contains(w.replies, reply) {
		c.wait = nil
	} else {
		w = nil
	}
	c.mu.Unlock()
	if w == nil {
		c.log.Debug("stray reply dropped", "reply", reply)
		return
	}
	w.ch <- reply
}
