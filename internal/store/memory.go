package store

import (
	"cmp"
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

// MessagesAfter implements Store.
func (m *Memory) MessagesAfter(_ context.Context, thread string, after int64) ([]Message, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msgs := m.threads[thread]
	if after < 0 || after >= int64(len(msgs)) {
		return nil, int64(len(msgs)), nil
	}
	return slices.Clone(msgs[after:]), int64(len(msgs)), nil
}

// Seq implements Store.
func (m *Memory) Seq(_ context.Context, thread string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.threads[thread])), nil
}

// LastMessage implements Store.
func (m *Memory) LastMessage(_ context.Context, thread string) (Message, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msgs := m.threads[thread]
	if len(msgs) == 0 {
		return Message{}, false, nil
	}
	return msgs[len(msgs)-1], true, nil
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, thread string, msgs ...Message) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.chats[chatOf(thread)]; ok && c.Name == "" {
		c.Name = nameFrom(thread, msgs)
	}
	m.threads[thread] = append(m.threads[thread], msgs...)
	return int64(len(m.threads[thread])), nil
}

// SetClock replaces the clock (tests).
func (m *Memory) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// ListChats implements Store.
func (m *Memory) ListChats(_ context.Context, userID string, asc bool) ([]Chat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	used := map[string]bool{}
	for th, msgs := range m.threads {
		if len(msgs) > 0 {
			used[chatOf(th)] = true
		}
	}
	out := []Chat{}
	for _, c := range m.chats {
		if c.UserID == userID && used[c.ID] {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Chat) int {
		if n := a.CreatedAt.Compare(b.CreatedAt); n != 0 {
			return n
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if !asc {
		slices.Reverse(out)
	}
	return out, nil
}

// RenameChat implements Store.
func (m *Memory) RenameChat(_ context.Context, id, userID, name string) (Chat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.chats[id]
	if !ok || c.UserID != userID {
		return Chat{}, ErrNotFound
	}
	c.Name = name
	return *c, nil
}

// DeleteChat implements Store.
func (m *Memory) DeleteChat(_ context.Context, id, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.chats[id]
	if !ok || c.UserID != userID {
		return ErrNotFound
	}
	m.deleteLocked(id)
	return nil
}

// DeleteChats implements Store.
func (m *Memory) DeleteChats(_ context.Context, userID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, c := range m.chats {
		if c.UserID == userID {
			m.deleteLocked(id)
			n++
		}
	}
	return n, nil
}

func (m *Memory) deleteLocked(id string) {
	delete(m.chats, id)
	for th := range m.threads {
		if chatOf(th) == id {
			delete(m.threads, th)
		}
	}
}

// ChatUsage implements Store.
func (m *Memory) ChatUsage(_ context.Context, chatID string) (map[string]TokenUsage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]TokenUsage{}
	for th, msgs := range m.threads {
		if chatOf(th) != chatID {
			continue
		}
		for _, msg := range msgs {
			if src := usageSource(th, msg); src != "" {
				out[src] = out[src].Add(TokenUsage{InputTokens: msg.Usage.InputTokens, OutputTokens: msg.Usage.OutputTokens})
			}
		}
	}
	return out, nil
}
