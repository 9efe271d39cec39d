package store

import (
	"context"
	"maps"
	"slices"
	"time"
)

// PutTokenRef implements TokenIndex.
func (m *Memory) PutTokenRef(_ context.Context, key string, ref TokenRef, b []byte, expires time.Time) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	o.tokens[key] = blob{data: slices.Clone(b), expires: expires, ref: ref, used: o.tokens[key].used}
	return nil
}

// ListTokens implements TokenIndex.
func (m *Memory) ListTokens(_ context.Context, f TokenFilter) ([]TokenRow, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	now := m.now()
	var out []TokenRow
	for _, k := range slices.Sorted(maps.Keys(o.tokens)) {
		b := o.tokens[k]
		if !b.live(now) || b.ref == (TokenRef{}) || (f.User != "" && b.ref.User != f.User) || (f.Agent != "" && b.ref.Agent != f.Agent) {
			continue
		}
		out = append(out, TokenRow{Key: k, TokenRef: b.ref, Blob: slices.Clone(b.data), Expires: b.expires, LastUsed: b.used})
	}
	return out, nil
}

// TokenUsers implements TokenIndex.
func (m *Memory) TokenUsers(_ context.Context) ([]string, error) {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	now := m.now()
	set := map[string]bool{}
	for _, b := range o.tokens {
		if b.live(now) && b.ref.User != "" {
			set[b.ref.User] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// TouchToken implements TokenIndex.
func (m *Memory) TouchToken(_ context.Context, key string, at time.Time) error {
	o := m.oauth()
	o.omu.Lock()
	defer o.omu.Unlock()
	if b, ok := o.tokens[key]; ok && at.After(b.used) {
		b.used = at.UTC().Truncate(time.Microsecond)
		o.tokens[key] = b
	}
	return nil
}
