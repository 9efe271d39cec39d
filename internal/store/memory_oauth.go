package store

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

type blob struct {
	data    []byte
	expires time.Time // zero: never
	// written orders client registrations for SweepClients.
	written uint64
	// ref and used are a token's TokenRef and last recorded use.
	ref  TokenRef
	used time.Time
}

func (b blob) live(now time.Time) bool { return b.expires.IsZero() || now.Before(b.expires) }

// memOAuth is the in-memory OAuthStore, embedded in Memory.
type memOAuth struct {
	omu     sync.Mutex
	pending map[string]blob
	tokens  map[string]blob
	clients map[string]blob
	writes  uint64
	locks   keyedMutex
}

func (m *Memory) oauth() *memOAuth {
	m.oinit.Do(func() {
		m.o = &memOAuth{
			pending: map[string]blob{}, tokens: map[string]blob{},
			clients: map[string]blob{},
		}
	})
	return m.o
}

// PutPending implements OAuthStore.
func (m *Memory) PutPending(_ context.Context, state string, b []byte, expires time.Time) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	o.pending[state] = blob{data: slices.Clone(b), expires: expires}
	return nil
}

// TakePending implements OAuthStore.
func (m *Memory) TakePending(_ context.Context, state string) ([]byte, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	b, ok := o.pending[state]
	delete(o.pending, state)
	if !ok || !b.live(m.now()) {
		return nil, ErrNotFound
	}
	return b.data, nil
}

// PutToken implements OAuthStore.
func (m *Memory) PutToken(_ context.Context, key string, b []byte, expires time.Time) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	old := o.tokens[key]
	o.tokens[key] = blob{data: slices.Clone(b), expires: expires, ref: old.ref, used: old.used}
	return nil
}

// GetToken implements OAuthStore.
func (m *Memory) GetToken(_ context.Context, key string) ([]byte, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	b, ok := o.tokens[key]
	if !ok || !b.live(m.now()) {
		return nil, ErrNotFound
	}
	return slices.Clone(b.data), nil
}

// DeleteToken implements OAuthStore.
func (m *Memory) DeleteToken(_ context.Context, key string) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	delete(o.tokens, key)
	return nil
}

// PutClient implements OAuthStore.
func (m *Memory) PutClient(_ context.Context, key string, b []byte) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	o.writes++
	o.clients[key] = blob{data: slices.Clone(b), written: o.writes}
	return nil
}

// SweepClients implements OAuthStore.
func (m *Memory) SweepClients(_ context.Context, keep []string, max int) (int, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	n := 0
	for k := range o.clients {
		if !slices.ContainsFunc(keep, func(p string) bool { return strings.HasPrefix(k, p) }) {
			delete(o.clients, k)
			n++
		}
	}
	if max > 0 && len(o.clients) > max {
		keys := slices.Collect(maps.Keys(o.clients))
		slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(o.clients[a].written, o.clients[b].written) })
		for _, k := range keys[:len(keys)-max] {
			delete(o.clients, k)
			n++
		}
	}
	return n, nil
}

// GetClient implements OAuthStore.
func (m *Memory) GetClient(_ context.Context, key string) ([]byte, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	b, ok := o.clients[key]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(b.data), nil
}

// DeleteClient implements OAuthStore.
func (m *Memory) DeleteClient(_ context.Context, key string) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	delete(o.clients, key)
	return nil
}

// Lock implements OAuthStore with a process-local lock per key.
func (m *Memory) Lock(ctx context.Context, key string) (func(), error) {
	return m.oauth().locks.Lock(ctx, key)
}

// Sweep implements OAuthStore.
func (m *Memory) Sweep(_ context.Context, now time.Time) (int, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	n := 0
	for _, mp := range []map[string]blob{o.pending, o.tokens} {
		for k, b := range mp {
			if !b.live(now) {
				delete(mp, k)
				n++
			}
		}
	}
	return n, nil
}
