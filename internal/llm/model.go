package llm

import (
	"context"
	"encoding/json"
	"iter"
)

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// ToolCall is one call the model asks for.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Message is one entry of a conversation as the model sees it.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"toolCalls,omitempty"`
	ToolCallID string     `json:"toolCallId,omitempty"`
	// IsError marks a tool result that reports a failure.
	IsError bool `json:"isError,omitempty"`
}

// Tool is a tool offered to the model.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

// Request is one model call.
type Request struct {
	// Model overrides the provider's default model when non-empty.
	Model    string
	Messages []Message
	Tools    []Tool
	// Purpose names the caller ("agent", "supervisor", "child", "ui-tools")
	// for token accounting and logs.
	Purpose string
}

// Usage counts tokens of one call.
type Usage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
}

// Event is one element of a streamed response: a text delta, a complete tool
// call, or the usage report. Exactly one field is set.
type Event struct {
	Text     string
	ToolCall *ToolCall
	Usage    *Usage
}

// Model streams a response to a request. The sequence ends after the last
// event; an error ends it early. Implementations honour ctx cancellation.
type Model interface {
	Stream(ctx context.Context, req Request) iter.Seq2[Event, error]
}
