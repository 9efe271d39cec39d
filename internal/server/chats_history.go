package server

import (
	"encoding/json"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
)

// historyRows turns the main thread into the UI's history, oldest first:
// per request, the user's prompt and the final answer. Tool calls and
// their results are what the model saw, not what the user did, so they
// are left out, as the Python agent's messages_history does. Answers are
// model text: mt neutralizes them as they were when streamed.
func historyRows(chatID string, msgs []store.Message, mt modeltext.Policy) []map[string]any {
	rows := []map[string]any{}
	var final, asked *store.Message
	var tools json.RawMessage
	flush := func() {
		if final != nil {
			row := agentRow(chatID, *final, mt)
			if tools != nil {
				row["tools"] = tools
			}
			rows = append(rows, row)
			final, tools = nil, nil
		}
	}
	for i := range msgs {
		m := &msgs[i]
		switch {
		case m.Role == llm.RoleUser:
			flush()
			rows = append(rows, userRow(chatID, *m))
		case m.Role == llm.RoleAssistant && m.Content != "" && len(m.ToolCalls) == 0:
			final = m
		case m.Role == store.RoleUITools && final != nil:
			tools = m.UITools
		case m.Role == store.RoleConfirmation && m.Confirmation != nil && !m.Confirmation.Answered:
			flush()
			asked = m
			rows = append(rows, confirmationRow(chatID, *m))
		case m.Role == store.RoleConfirmation && m.Confirmation != nil && asked != nil:
			rows[len(rows)-1]["confirmation"] = m.Confirmation.Confirmed
			asked = nil
		}
	}
	flush()
	return rows
}

// confirmationRow is a human-validation request as the UI shows it in
// history: the message is exactly the <confirmation-response> tag, and
// "confirmation" (set once answered) tells confirmed from cancelled.
func confirmationRow(chatID string, m store.Message) map[string]any {
	return map[string]any{
		"chatId": chatID, "role": "agent", "agent": agentName(m),
		"message":   "<confirmation-response>" + string(modeltext.EscapeJSON(m.Confirmation.Plan)) + "</confirmation-response>",
		"createdAt": isoTime(m.CreatedAt),
	}
}

func agentName(m store.Message) any {
	if m.Agent == "" {
		return nil
	}
	return m.Agent
}

func userRow(chatID string, m store.Message) map[string]any {
	text := m.UserInput
	if text == "" {
		text = m.Content
	}
	ctx, labels, tags := m.Context, m.Labels, m.Tags
	if ctx == nil {
		ctx = map[string]json.RawMessage{}
	}
	if labels == nil {
		labels = map[string]string{}
	}
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"chatId": chatID, "role": "user", "agent": agentName(m), "message": text,
		"context": ctx, "labels": labels, "tags": tags, "createdAt": isoTime(m.CreatedAt),
	}
}

// agentRow puts the answer's MCP responses back in front of its text as
// one leading <mcp-response> tag, which the UI splits out (it takes only a
// leading one). Each response is an object or an array of them; the tag
// holds one flat array of all the objects.
func agentRow(chatID string, m store.Message, mt modeltext.Policy) map[string]any {
	text := mt.Text(m.Content)
	var objs []json.RawMessage
	for _, r := range m.MCPResponses {
		var arr []json.RawMessage
		if json.Unmarshal(r, &arr) == nil {
			objs = append(objs, arr...)
		} else {
			objs = append(objs, r)
		}
	}
	if len(objs) > 0 {
		if b, err := json.Marshal(objs); err == nil {
			text = "<mcp-response>" + string(b) + "</mcp-response>" + text
		}
	}
	return map[string]any{
		"chatId": chatID, "role": "agent", "agent": agentName(m), "message": text,
		"createdAt": isoTime(m.CreatedAt),
	}
}
