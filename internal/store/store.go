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

// Storage types reported to the UI. The UI knows only these two and reads
// them as "will chats survive a redeploy": on "in-memory" it warns that
// chats are lost and does not reconnect to the last chat id. SQLite reports
// TypeInMemory on purpose: its file lives in the pod (or a volume of one
// replica), and the Apply in Settings restarts the Deployment, so a new pod
// usually starts empty. An unknown value such as "sqlite" would hide the
// warning from a UI that tests storageType === 'in-memory'.
const (
	TypeInMemory = "in-memory"
	TypePostgres = "postgres"
)

// MaxNameLen is the longest chat name accepted (in characters).
const MaxNameLen = 500

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
	// Confirmation is set on RoleConfirmation records: a tool call waiting
	// for the user's decision (human validation), then the decision.
	Confirmation *Confirmation `json:"confirmation,omitempty"`
	// UITools are the UI tools picked after an answer ([{toolName, input}]),
	// on a RoleUITools record that follows the answer.
	UITools json.RawMessage `json:"uiTools,omitempty"`
	// Summarized is set on RoleSummary records: how many leading messages
	// of the model's conversation (as it stood before this record) the
	// summary in Content replaces.
	Summarized int       `json:"summarized,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// RoleConfirmation marks a record that is not part of the model's
// conversation: a human-validation request or its answer.
const RoleConfirmation = "confirmation"

// RoleUITools marks the record of the UI tools shown with an answer; like
// RoleConfirmation it is for history, not for the model.
const RoleUITools = "ui-tools"

// RoleSummary marks a summary of older messages (summarization): for the
// model's conversation, not for the user's history.
const RoleSummary = "summary"

// SourceSummarization is the usage source of summaries.
const SourceSummarization = "summarization"

// Confirmation is a human decision on a tool call.
type Confirmation struct {
	// Plan is what the user is asked to confirm (the <tool>Plan result).
	Plan json.RawMessage `json:"plan,omitempty"`
	// Pending are the tool calls not run yet, the first one awaiting the
	// decision. Set on the request record.
	Pending []llm.ToolCall `json:"pending,omitempty"`
	// Answered and Confirmed are set on the answer record.
	Answered  bool `json:"answered,omitempty"`
	Confirmed bool `json:"confirmed,omitempty"`
}

// ChildThread is the thread id of a child agent's conversation in a chat.
func ChildThread(chatID, agent string) string { return chatID + "::child::" + agent }

// chatOf returns the chat id of a thread id.
func chatOf(thread string) string {
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
	// MessagesAfter returns the messages of a thread numbered above after,
	// oldest first, and the thread's sequence number as of that read.
	MessagesAfter(ctx context.Context, thread string, after int64) ([]Message, int64, error)
	// Seq returns a thread's sequence number: the number of its newest
	// message (messages are numbered 1, 2, ... in order), 0 when empty. It
	// is the cheap check that a copy of the thread is current: another
	// replica's append moves it.
	Seq(ctx context.Context, thread string) (int64, error)
	// LastMessage returns a thread's newest message; ok is false for an
	// empty or unknown thread. A turn checks it for a pause without loading
	// the whole thread.
	LastMessage(ctx context.Context, thread string) (m Message, ok bool, err error)
	// Append adds messages to a thread and returns the thread's sequence
	// number after them (a batch is numbered contiguously). The chat takes
	// the first user input as its name when it has none.
	Append(ctx context.Context, thread string, msgs ...Message) (int64, error)

	// ListChats returns the user's chats that have messages, newest first
	// (oldest first when asc).
	ListChats(ctx context.Context, userID string, asc bool) ([]Chat, error)
	// RenameChat names the user's chat, or returns ErrNotFound.
	RenameChat(ctx context.Context, id, userID, name string) (Chat, error)
	// DeleteChat deletes the user's chat with its threads (main and
	// children), or returns ErrNotFound.
	DeleteChat(ctx context.Context, id, userID string) error
	// DeleteChats deletes all of the user's chats and reports how many.
	DeleteChats(ctx context.Context, userID string) (int, error)
	// ChatUsage sums the token usage of a chat's threads by source (see
	// usageSource). The caller checks ownership first.
	ChatUsage(ctx context.Context, chatID string) (map[string]TokenUsage, error)
}

// TokenUsage is a sum of tokens. The cache fields stay zero until a model
// reports them; they exist because the UI's usage shape has them.
type TokenUsage struct {
	InputTokens         int `json:"inputTokens"`
	OutputTokens        int `json:"outputTokens"`
	CacheReadTokens     int `json:"cacheReadTokens"`
	CacheCreationTokens int `json:"cacheCreationTokens"`
}

// Add returns the sum of u and v.
func (u TokenUsage) Add(v TokenUsage) TokenUsage {
	return TokenUsage{
		u.InputTokens + v.InputTokens, u.OutputTokens + v.OutputTokens,
		u.CacheReadTokens + v.CacheReadTokens, u.CacheCreationTokens + v.CacheCreationTokens,
	}
}

// usageSource names who spent a message's tokens, as the Python agent's
// usage.byAgent does: a child thread's agent; on the main thread the agent
// that answered, or "supervisor" when none did (upstream's source "agent"
// on the main thread); "summarization" for a summary. "" when the message
// carries no usage.
func usageSource(thread string, m Message) string {
	switch {
	case m.Usage == nil:
		return ""
	case m.Role == RoleSummary:
		return SourceSummarization
	case thread != chatOf(thread):
		return thread[len(chatOf(thread))+len("::child::"):]
	case m.Agent != "":
		return m.Agent
	default:
		return "supervisor"
	}
}

// nameFrom returns the default name a batch appended to thread gives its
// chat: the first user input on the main thread, else "".
func nameFrom(thread string, msgs []Message) string {
	if thread != chatOf(thread) {
		return ""
	}
	for _, m := range msgs {
		if m.Role == "user" && m.UserInput != "" {
			return defaultName(m.UserInput)
		}
	}
	return ""
}

// defaultName shortens a first prompt into a chat name, as the Python agent
// does (50 characters).
func defaultName(input string) string {
	r := []rune(strings.TrimSpace(input))
	if len(r) > 50 {
		r = r[:50]
	}
	return string(r)
}
