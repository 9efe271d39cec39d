package oauth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/store"
)

// countingSource is a base source that hands out tok and counts its calls.
type countingSource struct {
	calls int
	tok   TokenSet
	err   error
}

func (c *countingSource) Token(context.Context) (TokenSet, error) {
	c.calls++
	return c.tok, c.err
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func reuseFixture(t *testing.T) (reuseSource, *countingSource, *Vault, *Vault, *fakeClock) {
	t.Helper()
	// The memory store expires records on the real clock: start there.
	clock := &fakeClock{t: time.Now()}
	sealer, err := NewSealer(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	here := NewVault(st, sealer, clock.now)
	other := NewVault(st, sealer, clock.now) // another replica on the same store
	base := &countingSource{}
	r := reuseSource{v: here, cache: newTokenCache(), key: NewTokenKey("u-a", "gh", "https://as"),
		now: clock.now, leeway: 30 * time.Second, base: base}
	return r, base, here, other, clock
}

func TestReuseSourceKeepsTheTokenUntilNearExpiry(t *testing.T) {
	ctx := context.Background()
	r, base, v, _, clock := reuseFixture(t)
	if err := v.Put(ctx, r.key, TokenSet{AccessToken: "at-1", Obtained: clock.now(), Expiry: clock.now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := r.Token(ctx); err != nil || got.AccessToken != "at-1" {
			t.Fatalf("token %q, %v", got.AccessToken, err)
		}
	}
	sealed, _ := v.st.GetToken(ctx, r.key.id())
	if e, ok := r.cache.get(r.key.id()); !ok || e.t.AccessToken != "at-1" || string(e.sealed) != string(sealed) {
		t.Fatalf("token not kept in memory with its record: %v", ok)
	}
	if base.calls != 0 {
		t.Fatalf("base asked %d times for a valid token", base.calls)
	}
	// 9m40s later the token expires within the leeway: base renews it.
	clock.advance(9*time.Minute + 40*time.Second)
	base.tok = TokenSet{AccessToken: "at-2", Obtained: clock.now(), Expiry: clock.now().Add(10 * time.Minute)}
	if got, err := r.Token(ctx); err != nil || got.AccessToken != "at-2" || base.calls != 1 {
		t.Fatalf("near expiry: token %q, %v, base calls %d", got.AccessToken, err, base.calls)
	}
}

func TestReuseSourceReloadsWhatAnotherReplicaWrote(t *testing.T) {
	ctx := context.Background()
	r, base, v, other, clock := reuseFixture(t)
	valid := func(at string) TokenSet {
		return TokenSet{AccessToken: at, Obtained: clock.now(), Expiry: clock.now().Add(time.Hour)}
	}
	if err := v.Put(ctx, r.key, valid("at-1")); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Token(ctx); got.AccessToken != "at-1" {
		t.Fatalf("token %q", got.AccessToken)
	}
	// The other replica refreshes (a new record, the old token still valid
	// by its expiry): the next use unseals the new one.
	if err := other.Put(ctx, r.key, valid("at-2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Token(ctx); got.AccessToken != "at-2" {
		t.Fatalf("after another replica's refresh: token %q", got.AccessToken)
	}
	// The same tokens written again are a new version too.
	if err := other.Put(ctx, r.key, valid("at-2")); err != nil {
		t.Fatal(err)
	}
	sealed, _ := v.st.GetToken(ctx, r.key.id())
	if got, _ := r.Token(ctx); got.AccessToken != "at-2" {
		t.Fatalf("token %q", got.AccessToken)
	}
	if e, _ := r.cache.get(r.key.id()); string(e.sealed) != string(sealed) {
		t.Fatal("the cached token is not the current record's")
	}
	// The other replica signs the user out: the next use sees no token.
	if err := other.Delete(ctx, r.key); err != nil {
		t.Fatal(err)
	}
	base.err = errSignInNeeded
	if got, err := r.Token(ctx); !errors.Is(err, errSignInNeeded) || got.AccessToken != "" {
		t.Fatalf("after sign-out elsewhere: token %q, %v", got.AccessToken, err)
	}
	if _, ok := r.cache.get(r.key.id()); ok {
		t.Fatal("a deleted token stays in memory")
	}
	if base.calls != 1 {
		t.Fatalf("base asked %d times, want once (after the sign-out)", base.calls)
	}
}

// A sign-out leaves a revocation marker in the token's place
// (Vault.PutRevoked): it is no token, in memory or not.
func TestReuseSourceTreatsARevocationMarkerAsSignedOut(t *testing.T) {
	ctx := context.Background()
	r, base, v, other, clock := reuseFixture(t)
	if err := v.Put(ctx, r.key, TokenSet{AccessToken: "at-1", Obtained: clock.now(), Expiry: clock.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.stored(ctx); !ok {
		t.Fatal("the stored token is not seen")
	}
	if err := other.PutRevoked(ctx, r.key); err != nil {
		t.Fatal(err)
	}
	base.err = errSignInNeeded
	for i := range 2 { // unsealed once, then from memory
		if _, ok := r.stored(ctx); ok {
			t.Fatalf("use %d: a revocation marker is taken for a token", i+1)
		}
		if got, err := r.Token(ctx); !errors.Is(err, errSignInNeeded) || got.AccessToken != "" {
			t.Fatalf("use %d after the sign-out: token %q, %v", i+1, got.AccessToken, err)
		}
	}
}

// TestCredentialHonoursRevocationOnAnotherReplica: two services (replicas)
// share a store; a token deleted through one is never sent by the other.
func TestCredentialHonoursRevocationOnAnotherReplica(t *testing.T) {
	ctx := context.Background()
	as, calls := fakeAS(t, 0, 0)
	sealer, _ := NewSealer(GenerateKey())
	st := store.NewMemory()
	a := agentconfig.Agent{Name: "gh", Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{
		MCPURL: "http://127.0.0.1:1/mcp", AuthenticationType: v1alpha1.AuthOAuth2,
	}, AuthSecret: map[string][]byte{"clientID": []byte("c"), "metadataEndpoint": []byte(as.URL + "/.well-known/oauth-authorization-server")}}
	replica := func() *Service {
		s, err := NewService(ServiceOptions{Vault: NewVault(st, sealer, nil), Sealer: sealer, Agents: agentconfig.StaticSource{a},
			Endpoint: func(a agentconfig.Agent) (string, error) { return a.Spec.MCPURL, nil }, RedirectURI: "http://127.0.0.1:9/v1/api/oauth2/callback"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := replica(), replica()
	key := NewTokenKey("u-a", "gh", as.URL)
	if err := one.o.Vault.Put(ctx, key, TokenSet{AccessToken: "at-1", Obtained: time.Now(), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cred, err := two.Credentials(ctx, a, Identity{UserID: "u-a"})
	if err != nil {
		t.Fatal(err)
	}
	header := func() string {
		req, _ := http.NewRequest(http.MethodPost, "http://mcp/", nil)
		if err := cred.Authorize(req); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	if got := header(); got != "Bearer at-1" {
		t.Fatalf("header %q", got)
	}
	if err := one.o.Vault.Put(ctx, key, TokenSet{AccessToken: "at-9", Obtained: time.Now(), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := header(); got != "Bearer at-9" {
		t.Fatalf("after a sign-in on the other replica: header %q", got)
	}
	if err := one.o.Vault.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got := header(); got != "" || calls.Load() != 0 {
		t.Fatalf("after sign-out on the other replica: header %q, %d token requests", got, calls.Load())
	}
}
