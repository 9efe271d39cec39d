package main

import (
	"context"
	"log/slog"

	"github.com/rancher/ai-agent/internal/store"
)

// appStore is what the server keeps its state in.
type appStore interface {
	store.Store
	store.OAuthStore
	Close() error
}

// openStore opens the store the environment selects.
func openStore(_ context.Context, _ func(string) string, _ *slog.Logger) (appStore, error) {
	return memStore{store.NewMemory()}, nil
}

type memStore struct{ *store.Memory }

func (memStore) Close() error { return nil }
