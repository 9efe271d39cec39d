package storetest

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/store"
)

func pending(t *testing.T, s Engine) {
	c := ctx(t)
	must(t, s.PutPending(c, "st1", []byte("flow"), time.Now().Add(time.Hour)))
	must(t, s.PutPending(c, "old", []byte("flow"), time.Now().Add(-time.Second)))
	// Ten takers race for one flow: exactly one gets it.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			b, err := s.TakePending(c, "st1")
			switch {
			case err == nil && bytes.Equal(b, []byte("flow")):
				wins.Add(1)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				t.Errorf("TakePending: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d takers got the flow, want exactly 1", wins.Load())
	}
	if _, err := s.TakePending(c, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired flow: %v, want ErrNotFound", err)
	}
}

func tokensAndClients(t *testing.T, s Engine) {
	c := ctx(t)
	must(t, s.PutToken(c, "k", []byte("v1"), time.Time{}))
	must(t, s.PutToken(c, "k", []byte("v2"), time.Now().Add(time.Hour)))
	if b, err := s.GetToken(c, "k"); err != nil || string(b) != "v2" {
		t.Fatalf("GetToken = %q, %v; want the overwrite", b, err)
	}
	must(t, s.PutToken(c, "gone", []byte("v"), time.Now().Add(-time.Second)))
	if _, err := s.GetToken(c, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	must(t, s.DeleteToken(c, "k"))
	if _, err := s.GetToken(c, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token: %v", err)
	}
	must(t, s.PutClient(c, "as", []byte("c1")))
	must(t, s.PutClient(c, "as", []byte("c2")))
	if b, err := s.GetClient(c, "as"); err != nil || string(b) != "c2" {
		t.Fatalf("GetClient = %q, %v", b, err)
	}
	must(t, s.DeleteClient(c, "as"))
	if _, err := s.GetClient(c, "as"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
}

func sweep(t *testing.T, s Engine) {
	c := ctx(t)
	now := time.Now()
	must(t, s.PutPending(c, "p-old", []byte("x"), now.Add(-time.Minute)))
	must(t, s.PutPending(c, "p-new", []byte("x"), now.Add(time.Hour)))
	must(t, s.PutToken(c, "t-old", []byte("x"), now.Add(-time.Minute)))
	must(t, s.PutToken(c, "t-forever", []byte("x"), time.Time{}))
	must(t, s.PutClient(c, "client", []byte("x")))
	n, err := s.Sweep(c, now)
	must(t, err)
	if n != 2 {
		t.Fatalf("Sweep = %d, want 2", n)
	}
	if _, err := s.GetToken(c, "t-forever"); err != nil {
		t.Fatalf("token without expiry swept: %v", err)
	}
	if _, err := s.TakePending(c, "p-new"); err != nil {
		t.Fatalf("live flow swept: %v", err)
	}
	if _, err := s.GetClient(c, "client"); err != nil {
		t.Fatalf("client swept: %v", err)
	}
}

func lock(t *testing.T, s Engine) {
	c := ctx(t)
	// The lock is held while five others queue for it; then each gets it
	// alone. Holders are counted atomically: a second one inside is seen.
	first, err := s.Lock(c, "refresh:k")
	must(t, err)
	const n = 5
	var inside, overlaps, entered atomic.Int32
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	for range n {
		wg.Go(func() {
			started <- struct{}{}
			unlock, err := s.Lock(c, "refresh:k")
			if err != nil {
				t.Errorf("Lock: %v", err)
				return
			}
			entered.Add(1)
			if inside.Add(1) != 1 {
				overlaps.Add(1)
			}
			runtime.Gosched() // let a wrongly admitted holder in
			inside.Add(-1)
			unlock()
		})
	}
	for range n {
		<-started
	}
	runtime.Gosched()
	if e := entered.Load(); e != 0 {
		t.Fatalf("%d holders got a held lock", e)
	}
	first()
	wg.Wait()
	if overlaps.Load() != 0 || entered.Load() != n {
		t.Fatalf("%d overlapping holders, %d of %d entered; want 0 and all", overlaps.Load(), entered.Load(), n)
	}
	unlock, err := s.Lock(c, "held")
	must(t, err)
	other, err := s.Lock(c, "other key")
	must(t, err)
	other()
	wctx, cancel := context.WithTimeout(c, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(wctx, "held"); err == nil {
		t.Fatal("Lock of a held key succeeded")
	}
	unlock()
	unlock() // idempotent
	again, err := s.Lock(c, "held")
	must(t, err)
	again()
}
