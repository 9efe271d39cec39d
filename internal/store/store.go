package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// ErrNotFound is returned for a chat that does not exist or belongs to
// another user (the two are never told apart, so an id cannot be probed).
var ErrNotFound = errors.New("not found")

// Storage types reported to the UI.
const (
	TypeInMemory = "in-memory"
	TypePostgres = "postgres"
)

// Chat is one conversation of one user.
type Chat struct {
	ID        string
	UserID    string
	Name      string
	CreatedAt time.Time
}

// Message is one stored entry of a thread: what the model saw, plus what the
// UI shows in history.
type Message struct {
	llm.Message
	// Agent that produced (or was asked) this message; empty for the supervisor.
	Agent     string                     `json:"agent,omitempty"`
	UserInput string                     `json:"userInput,omitempty"`
	Context   map[string]json.RawMessage `json:"context,omitempty"`
	Labels    map[string]string          `json:"labels,omitempty"`
	Tags      []string                   `json:"tags,omitempty"`
	RequestID string                     `json:"requestId,omitempty"`
	// MCPResponses are the uiContext payloads shown with this answer.
	MCPResponses []json.RawMessage `json:"mcpResponses,omitempty"`
	Usage        *llm.Usage        `json:"usage,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
}

// ChildThread is the thread id of a child agent's conversation in a chat.
func ChildThread(chatID, agent string) string { return chatID + "::child::" + agent }

// ChatOf returns the chat id of a thread id.
func ChatOf(thread string) string {
	if i := strings.Index(thread, "::child::"); i >= 0 {
		return thread[:i]
	}
	return thread
}

// Store is implemented by every engine.
type Store interface {
	// StorageType is reported in <chat-metadata> and GET /settings.
	StorageType() string
	// OpenChat returns the user's chat with this id, creating it when no
	// chat has the id. A chat of another user is ErrNotFound.
	OpenChat(ctx context.Context, id, userID string) (Chat, error)
	// Chat returns the user's chat, or ErrNotFound.
	Chat(ctx context.Context, id, userID string) (Chat, error)
	// Messages returns a thread's messages, oldest first.
	Messages(ctx context.Context, thread string) ([]Message, error)
	// Append adds messages to a thread. The chat takes the first user input
	// as its name when it has none.
	Append(ctx context.Context, thread string, msgs ...Message) error
}

// DefaultName shortens a first prompt into a chat name, as the Python agent
// does (50 characters).
func DefaultName(input string) string {
	r := []rune(strings.TrimSpace(input))
	if len(r) > 50 {
		r = r[:50]
	}
	return string(r)
}
