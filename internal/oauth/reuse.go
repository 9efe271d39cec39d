package oauth

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rancher/ai-agent/internal/store"
)

// maxCachedTokens bounds the tokens a replica keeps unsealed in memory.
const maxCachedTokens = 4096

// tokenCache holds unsealed tokens by TokenKey.id(), each with the sealed
// record it was read from; one per Service, shared by every credential.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	sealed []byte
	t      TokenSet
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]cachedToken{}} }

func (c *tokenCache) get(id string) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e, ok
}

func (c *tokenCache) put(id string, e cachedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= maxCachedTokens {
		for k, old := range c.m { // expired first, else any one
			if old.t.Expired(now, 0) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < maxCachedTokens {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[id] = e
}

func (c *tokenCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// reuseSource keeps the token of key in memory until it is about to expire
// (golang.org/x/oauth2's ReuseTokenSource), and asks base for a new one
// then. The store stays the truth: every use reads the stored record and
// compares it with the one the cached token was unsealed from. A record is
// its own version (each write seals with a fresh nonce), so a token
// replaced on any replica (refresh, sign-in) is unsealed again, and one
// deleted (sign-out, revocation, a refused refresh token) is dropped, at
// the next use; an unchanged one costs a read and a comparison, no
// decryption.
type reuseSource struct {
	v      *Vault
	cache  *tokenCache
	key    TokenKey
	now    func() time.Time
	leeway time.Duration
	base   tokenSource
}

// Token returns the stored token while it is valid beyond the leeway, else
// base's.
func (r reuseSource) Token(ctx context.Context) (TokenSet, error) {
	if t, ok := r.stored(ctx); ok && !t.Expired(r.now(), r.leeway) {
		return t, nil
	}
	return r.base.Token(ctx)
}

// stored returns the stored token of key, unsealing it only when its
// record changed; false when there is none or it cannot be read (base then
// reads it again and says why).
func (r reuseSource) stored(ctx context.Context) (TokenSet, bool) {
	id := r.key.id()
	b, err := r.v.st.GetToken(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			r.cache.drop(id)
		}
		return TokenSet{}, false
	}
	if e, ok := r.cache.get(id); ok && bytes.Equal(e.sealed, b) {
		return e.t, e.t.Revoked.IsZero()
	}
	t, _, err := r.v.open(r.key, b)
	if err != nil {
		r.cache.drop(id)
		return TokenSet{}, false
	}
	r.cache.put(id, cachedToken{sealed: b, t: t}, r.now())
	// A revocation marker (Vault.PutRevoked) holds no token: signed out.
	return t, t.Revoked.IsZero()
}
