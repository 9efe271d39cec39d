package store

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is the in-process engine. Everything is lost on restart.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	chats   map[string]*Chat
	threads map[string][]Message

	oinit sync.Once
	o     *memOAuth
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{now: time.Now, chats: map[string]*Chat{}, threads: map[string][]Message{}}
}

// StorageType implements Store.
func (m *Memory) StorageType() string { return TypeInMemory }

// OpenChat implements Store.
func (m *Memory) OpenChat(_ context.Context, id, userID string) (Chat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.chats[id]; ok {
		if c.UserID != userID {
			return Chat{}, ErrNotFound
		}
		return *c, nil
	}
	c := &Chat{ID: id, UserID: userID, CreatedAt: m.now().UTC()}
	m.chats[id] = c
	return *c, nil
}

// Chat implements Store.
func (m *Memory) Chat(_ context.Context, id, userID string) (Chat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.chats[id]
	if !ok || c.UserID != userID {
		return Chat{}, ErrNotFound
	}
	return *c, nil
}

// Messages implements Store.
func (m *Memory) Messages(_ context.Context, thread string) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.threads[thread]), nil
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, thread string, msgs ...Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.chats[ChatOf(thread)]; ok && c.Name == "" && thread == c.ID {
		for _, msg := range msgs {
			if msg.Role == "user" && msg.UserInput != "" {
				c.Name = DefaultName(msg.UserInput)
				break
			}
		}
	}
	m.threads[thread] = append(m.threads[thread], msgs...)
	return nil
}

// SetClock replaces the clock (tests).
func (m *Memory) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}
