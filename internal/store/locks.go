package store

import (
	"context"
	"sync"
)

// keyedMutex is a process-local lock per key that honours ctx while
// waiting. Memory and SQLite use it: both serve one process only.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Lock waits for key, then holds it until the returned func is called.
func (k *keyedMutex) Lock(ctx context.Context, key string) (func(), error) {
	for {
		k.mu.Lock()
		ch, held := k.locks[key]
		if !held {
			if k.locks == nil {
				k.locks = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			k.locks[key] = ch
			k.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					k.mu.Lock()
					delete(k.locks, key)
					k.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
