package oauth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
	alice := TokenKey{User: "u-alice", Agent: "gh", Issuer: "https://as"}
	bob := TokenKey{User: "u-bob", Agent: "gh", Issuer: "https://as"}
	if err := v.Put(ctx, alice, TokenSet{AccessToken: "at-alice", RefreshToken: "rt-alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, bob); !errors.Is(err, ErrNoToken) {
		t.Fatalf("bob sees: %v", err)
	}
	if _, err := v.Get(ctx, TokenKey{User: "u-alice", Agent: "gh", Issuer: "https://other"}); !errors.Is(err, ErrNoToken) {
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
	p := PendingFlow{Pending: Pending{State: "s1", Verifier: "v"}, User: "u-a", Agent: "gh"}
	if err := v.PutPending(ctx, p, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := v.TakePending(ctx, "s1")
	if err != nil || got.Verifier != "v" || got.User != "u-a" {
		t.Fatalf("take: %+v %v", got, err)
	}
	if _, err := v.TakePending(ctx, "s1"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("replay: %v", err)
	}
	_ = v.PutPending(ctx, PendingFlow{Pending: Pending{State: "s2"}}, 10*time.Minute)
	now = now.Add(11 * time.Minute)
	if _, err := v.TakePending(ctx, "s2"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("expired flow used: %v", err)
	}
	_ = v.PutPending(ctx, PendingFlow{Pending: Pending{State: "s3"}}, time.Minute)
	_ = v.Put(ctx, TokenKey{User: "x"}, TokenSet{AccessToken: "a", Expiry: now.Add(time.Second)})
	now = now.Add(2 * time.Minute)
	if n, _ := v.Sweep(ctx); n != 2 {
		t.Fatalf("swept %d, want 2", n)
	}
}

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
