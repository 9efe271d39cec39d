package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// recordVersion is the version of the stored message format written today.
// A body without "v" is version 1 (written before the field existed, in the
// same shape).
const recordVersion = 1

// record is a message as the SQL engines store it in the body column. It is
// the store's own type, so that a change to the model's types (llm.Message)
// cannot silently change the database: every field is listed here with its
// JSON name, and testdata/record_v1.json pins the encoding.
type record struct {
	V            int                        `json:"v,omitempty"`
	Role         string                     `json:"role"`
	Content      string                     `json:"content,omitempty"`
	ToolCalls    []recordCall               `json:"toolCalls,omitempty"`
	ToolCallID   string                     `json:"toolCallId,omitempty"`
	IsError      bool                       `json:"isError,omitempty"`
	Agent        string                     `json:"agent,omitempty"`
	UserInput    string                     `json:"userInput,omitempty"`
	Context      map[string]json.RawMessage `json:"context,omitempty"`
	Labels       map[string]string          `json:"labels,omitempty"`
	Tags         []string                   `json:"tags,omitempty"`
	RequestID    string                     `json:"requestId,omitempty"`
	MCPResponses []json.RawMessage          `json:"mcpResponses,omitempty"`
	Usage        *recordUsage               `json:"usage,omitempty"`
	Confirmation *recordConfirmation        `json:"confirmation,omitempty"`
	UITools      json.RawMessage            `json:"uiTools,omitempty"`
	Summarized   int                        `json:"summarized,omitempty"`
	CreatedAt    time.Time                  `json:"createdAt"`
}

type recordCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type recordUsage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
}

type recordConfirmation struct {
	Plan      json.RawMessage `json:"plan,omitempty"`
	Pending   []recordCall    `json:"pending,omitempty"`
	Answered  bool            `json:"answered,omitempty"`
	Confirmed bool            `json:"confirmed,omitempty"`
}

func toCalls(cs []llm.ToolCall) []recordCall {
	if cs == nil {
		return nil
	}
	out := make([]recordCall, len(cs))
	for i, c := range cs {
		out[i] = recordCall(c)
	}
	return out
}

func fromCalls(cs []recordCall) []llm.ToolCall {
	if cs == nil {
		return nil
	}
	out := make([]llm.ToolCall, len(cs))
	for i, c := range cs {
		out[i] = llm.ToolCall(c)
	}
	return out
}

// toRecord is the record of a message: what encodeMessage writes.
func toRecord(m Message) record {
	r := record{
		V: recordVersion, Role: m.Role, Content: m.Content, ToolCalls: toCalls(m.ToolCalls), ToolCallID: m.ToolCallID,
		IsError: m.IsError, Agent: m.Agent, UserInput: m.UserInput, Context: m.Context, Labels: m.Labels, Tags: m.Tags,
		RequestID: m.RequestID, MCPResponses: m.MCPResponses, UITools: m.UITools, Summarized: m.Summarized, CreatedAt: m.CreatedAt,
	}
	if m.Usage != nil {
		r.Usage = &recordUsage{InputTokens: m.Usage.InputTokens, OutputTokens: m.Usage.OutputTokens}
	}
	if c := m.Confirmation; c != nil {
		r.Confirmation = &recordConfirmation{Plan: c.Plan, Pending: toCalls(c.Pending), Answered: c.Answered, Confirmed: c.Confirmed}
	}
	return r
}

// encodeMessage renders a message for the body column: the bytes
// json.Marshal(toRecord(m)) gives (TestEncodeMatchesMarshal), written
// without reflection (see appendRecord).
func encodeMessage(m Message) ([]byte, error) {
	return appendRecord(make([]byte, 0, 512+len(m.Content)+len(m.UserInput)), toRecord(m))
}

// decodeMessage reads a body of any known version.
func decodeMessage(body []byte) (Message, error) {
	var r record
	if err := json.Unmarshal(body, &r); err != nil {
		return Message{}, err
	}
	if r.V > recordVersion {
		return Message{}, fmt.Errorf("stored message version %d is newer than this binary's %d", r.V, recordVersion)
	}
	m := Message{
		Message: llm.Message{Role: r.Role, Content: r.Content, ToolCalls: fromCalls(r.ToolCalls), ToolCallID: r.ToolCallID, IsError: r.IsError},
		Agent:   r.Agent, UserInput: r.UserInput, Context: r.Context, Labels: r.Labels, Tags: r.Tags, RequestID: r.RequestID,
		MCPResponses: r.MCPResponses, UITools: r.UITools, Summarized: r.Summarized, CreatedAt: r.CreatedAt,
	}
	if r.Usage != nil {
		m.Usage = &llm.Usage{InputTokens: r.Usage.InputTokens, OutputTokens: r.Usage.OutputTokens}
	}
	if c := r.Confirmation; c != nil {
		m.Confirmation = &Confirmation{Plan: c.Plan, Pending: fromCalls(c.Pending), Answered: c.Answered, Confirmed: c.Confirmed}
	}
	return m, nil
}
