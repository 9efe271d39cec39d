package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// Engine is a store with its OAuth half.
type Engine interface {
	store.Store
	store.OAuthStore
}

// Factory returns a new, empty engine; it registers its own cleanup.
type Factory func(t testing.TB) Engine

// Run runs the suite against engines from open.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Engine)
	}{
		{"ChatOwnership", chatOwnership},
		{"AppendRoundTrip", appendRoundTrip},
		{"DefaultNameAndRename", defaultNameAndRename},
		{"ListChats", listChats},
		{"DeleteChat", deleteChat},
		{"DeleteChats", deleteChats},
		{"Usage", usage},
		{"ConcurrentAppend", concurrentAppend},
		{"ConcurrentThreads", concurrentThreads},
		{"PrefixChats", prefixChats},
		{"Sequence", sequence},
		{"SummaryUsage", summaryUsage},
		{"Pending", pending},
		{"TokensAndClients", tokensAndClients},
		{"Sweep", sweep},
		{"SweepClients", sweepClients},
		{"Lock", lock},
		{"TokenIndex", tokenIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// add appends msgs to thread, failing the test on an error.
func add(t testing.TB, s Engine, c context.Context, thread string, msgs ...store.Message) {
	t.Helper()
	if _, err := s.Append(c, thread, msgs...); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// at is a fixed, microsecond-aligned time (databases keep microseconds).
func at(sec int) time.Time { return time.Date(2025, 6, 1, 12, 0, sec, 0, time.UTC) }

func userMsg(text string, sec int) store.Message {
	return store.Message{
		Message: llm.Message{Role: llm.RoleUser, Content: text}, UserInput: text,
		RequestID: fmt.Sprintf("req-%d", sec), CreatedAt: at(sec),
	}
}

func answer(text string, sec, in, out int) store.Message {
	return store.Message{
		Message:   llm.Message{Role: llm.RoleAssistant, Content: text},
		RequestID: fmt.Sprintf("req-%d", sec), CreatedAt: at(sec), Usage: &llm.Usage{InputTokens: in, OutputTokens: out},
	}
}

func chatOwnership(t *testing.T, s Engine) {
	c := ctx(t)
	ch, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	if ch.ID != "c1" || ch.UserID != "alice" || ch.CreatedAt.IsZero() {
		t.Fatalf("OpenChat = %+v", ch)
	}
	again, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	if !again.CreatedAt.Equal(ch.CreatedAt) {
		t.Fatalf("reopen changed createdAt: %v != %v", again.CreatedAt, ch.CreatedAt)
	}
	if _, err := s.OpenChat(c, "c1", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenChat by another user: %v, want ErrNotFound", err)
	}
	if _, err := s.Chat(c, "c1", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Chat by another user: %v, want ErrNotFound", err)
	}
	if _, err := s.Chat(c, "nope", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Chat unknown: %v, want ErrNotFound", err)
	}
	if _, err := s.RenameChat(c, "c1", "bob", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RenameChat by another user: %v", err)
	}
	if err := s.DeleteChat(c, "c1", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteChat by another user: %v", err)
	}
	if _, err := s.Chat(c, "c1", "alice"); err != nil {
		t.Fatalf("chat gone after a refused delete: %v", err)
	}
}
