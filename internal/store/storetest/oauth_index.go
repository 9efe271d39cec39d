package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/store"
)

// tokenIndex: tokens are found by user and by agent, their last use is
// kept across writes, and a deleted or expired token is found by nothing.
func tokenIndex(t *testing.T, s Engine) {
	c := ctx(t)
	later := time.Now().Add(time.Hour)
	put := func(key, user, agent string, exp time.Time) {
		t.Helper()
		must(t, s.PutTokenRef(c, key, store.TokenRef{User: user, Agent: agent, Issuer: "https://as.example/" + agent}, []byte("sealed-"+key), exp))
	}
	put("k1", "alice", "github", later)
	put("k2", "alice", "jira", later)
	put("k3", "bob", "github", later)
	put("k4", "carol", "github", time.Now().Add(-time.Second)) // expired
	must(t, s.PutToken(c, "k5", []byte("unindexed"), later))   // written without a TokenRef

	keys := func(f store.TokenFilter) []string {
		t.Helper()
		rows, err := s.ListTokens(c, f)
		must(t, err)
		var out []string
		for _, r := range rows {
			out = append(out, r.Key)
		}
		return out
	}
	if got := keys(store.TokenFilter{User: "alice"}); !slices.Equal(got, []string{"k1", "k2"}) {
		t.Fatalf("alice's tokens = %v, want [k1 k2]", got)
	}
	if got := keys(store.TokenFilter{Agent: "github"}); !slices.Equal(got, []string{"k1", "k3"}) {
		t.Fatalf("github's tokens = %v, want [k1 k3] (k4 expired)", got)
	}
	if got := keys(store.TokenFilter{User: "bob", Agent: "jira"}); len(got) != 0 {
		t.Fatalf("bob's jira tokens = %v, want none", got)
	}
	if got := keys(store.TokenFilter{}); !slices.Equal(got, []string{"k1", "k2", "k3"}) {
		t.Fatalf("all indexed tokens = %v, want [k1 k2 k3]", got)
	}
	rows, err := s.ListTokens(c, store.TokenFilter{User: "bob"})
	must(t, err)
	if len(rows) != 1 || rows[0].Issuer != "https://as.example/github" || string(rows[0].Blob) != "sealed-k3" ||
		rows[0].Expires.Sub(later).Abs() > time.Millisecond || !rows[0].LastUsed.IsZero() {
		t.Fatalf("bob's row = %+v", rows)
	}
	users, err := s.TokenUsers(c)
	must(t, err)
	if !slices.Equal(users, []string{"alice", "bob"}) {
		t.Fatalf("TokenUsers = %v, want [alice bob]", users)
	}

	// Last use: kept by a later write of the token, never moved back.
	must(t, s.TouchToken(c, "k3", at(10)))
	must(t, s.TouchToken(c, "k3", at(5)))
	put("k3", "bob", "github", later)
	rows, err = s.ListTokens(c, store.TokenFilter{User: "bob"})
	must(t, err)
	if len(rows) != 1 || !rows[0].LastUsed.Equal(at(10)) {
		t.Fatalf("bob's last use = %+v, want %v", rows, at(10))
	}
	must(t, s.TouchToken(c, "gone", at(1))) // no row: no error

	// Deleted: found by nothing, and the key reads as missing.
	must(t, s.DeleteToken(c, "k1"))
	if got := keys(store.TokenFilter{User: "alice"}); !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("alice's tokens after a delete = %v, want [k2]", got)
	}
	if _, err := s.GetToken(c, "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token: %v, want ErrNotFound", err)
	}
	// A user id with characters a LIKE or a quote would trip on.
	put("k6", `o'brien_%`, "github", later)
	if got := keys(store.TokenFilter{User: `o'brien_%`}); !slices.Equal(got, []string{"k6"}) {
		t.Fatalf("o'brien's tokens = %v", got)
	}
}
