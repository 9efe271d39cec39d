package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/store"
)

func testVault(t *testing.T, now func() time.Time) (*Vault, *store.Memory) {
	t.Helper()
	s, err := NewSealer(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	return NewVault(st, s, now), st
}

func TestSealBindsAssociatedData(t *testing.T) {
	s, _ := NewSealer(GenerateKey())
	sealed := s.Seal([]byte("secret-token"), []byte("alice"))
	if strings.Contains(string(sealed), "secret-token") {
		t.Fatal("plaintext visible")
	}
	if p, err := s.Open(sealed, []byte("alice")); err != nil || string(p) != "secret-token" {
		t.Fatalf("open: %q %v", p, err)
	}
	if _, err := s.Open(sealed, []byte("bob")); !errors.Is(err, ErrSealBroken) {
		t.Fatalf("open with other aad: %v", err)
	}
	other, _ := NewSealer(GenerateKey())
	if _, err := other.Open(sealed, []byte("alice")); !errors.Is(err, ErrSealBroken) {
		t.Fatalf("open with other key: %v", err)
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey("bm90LTMyLWJ5dGVz"); err == nil {
		t.Fatal("wrong-size key accepted")
	}
}

func TestVaultTokensAreIsolatedAndSealed(t *testing.T) {
	ctx := context.Background()
	v, st := testVault(t, nil)
	alice := NewTokenKey("u-alice", "gh", "https://as")
	bob := NewTokenKey("u-bob", "gh", "https://as")
	if err := v.Put(ctx, alice, TokenSet{AccessToken: "at-alice", RefreshToken: "rt-alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, bob); !errors.Is(err, ErrNoToken) {
		t.Fatalf("bob sees: %v", err)
	}
	if _, err := v.Get(ctx, NewTokenKey("u-alice", "gh", "https://other")); !errors.Is(err, ErrNoToken) {
		t.Fatalf("token leaked to another issuer: %v", err)
	}
	// A record copied to bob's key does not open.
	raw, _ := st.GetToken(ctx, alice.id())
	_ = st.PutToken(ctx, bob.id(), raw, time.Time{})
	if _, err := v.Get(ctx, bob); !errors.Is(err, ErrSealBroken) {
		t.Fatalf("swapped record opened: %v", err)
	}
	if strings.Contains(string(raw), "at-alice") {
		t.Fatal("token stored in clear")
	}
	got, err := v.Get(ctx, alice)
	if err != nil || got.AccessToken != "at-alice" {
		t.Fatalf("get: %+v %v", got, err)
	}
	_ = v.Delete(ctx, alice)
	if _, err := v.Get(ctx, alice); !errors.Is(err, ErrNoToken) {
		t.Fatal("delete did not delete")
	}
}

func TestPendingIsSingleUseAndExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	v, st := testVault(t, clock)
	st.SetClock(clock)
	p := PendingFlow{Pending: oauthproto.Pending{State: "s1", Verifier: "v"}, User: "u-a", Agent: "gh"}
	if err := v.PutPending(ctx, p, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Another user, or none, finds nothing and burns nothing.
	for _, other := range []string{"u-b", ""} {
		if _, err := v.TakePending(ctx, other, "s1"); !errors.Is(err, ErrNoPending) {
			t.Fatalf("take as %q: %v", other, err)
		}
	}
	got, err := v.TakePending(ctx, "u-a", "s1")
	if err != nil || got.Verifier != "v" || got.User != "u-a" {
		t.Fatalf("take: %+v %v", got, err)
	}
	if _, err := v.TakePending(ctx, "u-a", "s1"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("replay: %v", err)
	}
	_ = v.PutPending(ctx, PendingFlow{Pending: oauthproto.Pending{State: "s2"}, User: "u-a", Agent: "gh"}, 10*time.Minute)
	now = now.Add(11 * time.Minute)
	if _, err := v.TakePending(ctx, "u-a", "s2"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("expired flow used: %v", err)
	}
	_ = v.PutPending(ctx, PendingFlow{Pending: oauthproto.Pending{State: "s3"}, User: "u-a", Agent: "gh"}, time.Minute)
	_ = v.Put(ctx, NewTokenKey("x", "", ""), TokenSet{AccessToken: "a", Expiry: now.Add(time.Second)})
	now = now.Add(2 * time.Minute)
	// The flow, its (user, agent) slot and the token.
	if n, _ := v.Sweep(ctx); n != 3 {
		t.Fatalf("swept %d, want 3", n)
	}
}

func TestPendingOnePerUserAndAgent(t *testing.T) {
	ctx := context.Background()
	v, _ := testVault(t, nil)
	put := func(user, agent, state string) {
		t.Helper()
		if err := v.PutPending(ctx, PendingFlow{Pending: oauthproto.Pending{State: state}, User: user, Agent: agent}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	put("u-a", "gh", "old")
	put("u-a", "notes", "other-agent")
	put("u-b", "gh", "other-user")
	put("u-a", "gh", "new")
	if _, err := v.TakePending(ctx, "u-a", "old"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("replaced sign-in still redeemable: %v", err)
	}
	for _, c := range [][2]string{{"u-a", "new"}, {"u-a", "other-agent"}, {"u-b", "other-user"}} {
		if _, err := v.TakePending(ctx, c[0], c[1]); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := GenerateKey(), GenerateKey()
	st := store.NewMemory()
	oldS, _ := NewSealer(oldKey)
	k := NewTokenKey("u-a", "gh", "https://as")
	if err := NewVault(st, oldS, nil).Put(ctx, k, TokenSet{AccessToken: "at"}); err != nil {
		t.Fatal(err)
	}
	_ = NewVault(st, oldS, nil).PutClient(ctx, "https://cb", oauthproto.ClientInfo{ClientID: "c1", Issuer: "https://as"})
	sealedOld, _ := st.GetToken(ctx, k.id())

	// The new key alone opens nothing the old one sealed.
	newOnly, _ := NewSealer(newKey)
	if _, err := NewVault(st, newOnly, nil).Get(ctx, k); !errors.Is(err, ErrSealBroken) {
		t.Fatalf("opened without the old key: %v", err)
	}
	// New first, old after: opens, and re-seals with the new key.
	both, _ := NewSealer(newKey, oldKey)
	if both.KeyID() != newOnly.KeyID() || both.KeyID() == oldS.KeyID() {
		t.Fatal("key ids")
	}
	vb := NewVault(st, both, nil)
	if got, err := vb.Get(ctx, k); err != nil || got.AccessToken != "at" {
		t.Fatalf("get with both keys: %+v %v", got, err)
	}
	if raw, _ := st.GetToken(ctx, k.id()); string(raw) != string(sealedOld) {
		t.Fatal("a read rewrote the record")
	}
	if err := vb.Reseal(ctx, k); err != nil {
		t.Fatal(err)
	}
	if ci, err := vb.GetClient(ctx, "https://as", "https://cb"); err != nil || ci.ClientID != "c1" {
		t.Fatalf("client with both keys: %+v %v", ci, err)
	}
	resealed, _ := st.GetToken(ctx, k.id())
	if string(resealed) == string(sealedOld) || resealed[0] != sealVersion || [keyIDSize]byte(resealed[1:5]) != keyID(newKey) {
		t.Fatal("not re-sealed with the new key")
	}
	// Now the old key can go.
	vn := NewVault(st, newOnly, nil)
	if got, err := vn.Get(ctx, k); err != nil || got.AccessToken != "at" {
		t.Fatalf("get after rotation: %+v %v", got, err)
	}
	if ci, err := vn.GetClient(ctx, "https://as", "https://cb"); err != nil || ci.ClientID != "c1" {
		t.Fatalf("client after rotation: %+v %v", ci, err)
	}
	// A value sealed before values named their key still opens (and is stale).
	legacy := append([]byte{}, sealedOld[1+keyIDSize:]...)
	if p, stale, err := both.open(legacy, k.aad()); err != nil || !stale || len(p) == 0 {
		t.Fatalf("legacy value: %v %v", stale, err)
	}
	keys, err := ParseKeys(" " + encodeKey(newKey) + " , " + encodeKey(oldKey) + ",")
	if err != nil || len(keys) != 2 || string(keys[0]) != string(newKey) {
		t.Fatalf("ParseKeys: %d %v", len(keys), err)
	}
	if _, err := ParseKeys(encodeKey(newKey) + ",bm90LTMyLWJ5dGVz"); err == nil || !strings.Contains(err.Error(), "key 2") {
		t.Fatalf("bad second key: %v", err)
	}
	if _, err := ParseKeys(" , "); err == nil {
		t.Fatal("empty key list accepted")
	}
}

func encodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func TestConfigFromSecret(t *testing.T) {
	c, err := ConfigFromSecret(map[string][]byte{
		"clientID": []byte("id"), "clientSecret": []byte("sec\n"), "scope": []byte("read  write"),
		"metadataEndpoint": []byte("https://as/.well-known/oauth-authorization-server"),
	})
	if err != nil || c.ClientID != "id" || c.ClientSecret != "sec" || strings.Join(c.Scopes, ",") != "read,write" {
		t.Fatalf("%+v %v", c, err)
	}
	c, err = ConfigFromSecret(map[string][]byte{"metadata_endpoint": []byte("https://as/x"), "scopes": []byte("a,b")})
	if err != nil || c.MetadataEndpoint != "https://as/x" || len(c.Scopes) != 2 {
		t.Fatalf("older key names: %+v %v", c, err)
	}
	for _, bad := range []map[string][]byte{
		{"clientSecret": []byte("s")},
		{"metadataEndpoint": []byte("not a url")},
		{"metadataEndpoint": []byte("ftp://as/x")},
	} {
		if _, err := ConfigFromSecret(bad); !errors.Is(err, ErrBadSecret) {
			t.Errorf("ConfigFromSecret(%v) = %v", bad, err)
		}
	}
}

func TestCookiePath(t *testing.T) {
	for in, want := range map[string]string{
		"https://rancher.example.com/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy/v1/api/oauth2/callback": "/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy",
		"http://127.0.0.1:8000/v1/api/oauth2/callback": "/",
		"https://x.example/custom/cb":                  "/custom/cb",
	} {
		if got := cookiePath(in); got != want {
			t.Errorf("cookiePath(%q) = %q, want %q", in, got, want)
		}
	}
}
