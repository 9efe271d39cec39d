package agent

import (
	"context"
	"encoding/json"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/uitools"
)

// UITools offers the UI tools a prompt allows; *uitools.Registry is one.
type UITools interface {
	Select(allowed []string) (uitools.Selection, bool)
}

// UIToolPick is one entry of a <ui-tools> frame.
type UIToolPick struct {
	ToolName string          `json:"toolName"`
	Input    json.RawMessage `json:"input"`
}

// selectUITools runs after an answer when the prompt carried `tools`: one
// model call (not streamed) whose tools are the UI tools; the calls it
// makes become <ui-tools>. This is the fourth model call of the Python
// agent's order (routing, agent, after the tool result, UI tools).
func (s *Session) selectUITools(ctx context.Context, ts *turnState, p chat.Prompt) {
	if p.Tools == nil || ts.final == "" || s.r.o.UITools == nil || ctx.Err() != nil {
		return
	}
	sel, ok := s.r.o.UITools.Select(p.Tools.Tools)
	if !ok {
		return
	}
	_ = ts.em.Send(ctx, "<processing-ui-tools/>")
	input := p.UserInput
	if input == "" {
		input = p.Text
	}
	req := llm.Request{Purpose: "ui-tools", Tools: sel.Tools, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: sel.System},
		{Role: llm.RoleUser, Content: "User request:\n" + input + "\n\nAssistant answer:\n" + ts.final},
	}}
	picks, err := s.r.pickUITools(ctx, req, sel.MaxTools)
	if err != nil {
		s.r.o.Logger.Warn("UI tools selection failed", "error", err)
		return
	}
	if len(picks) > 0 {
		_ = ts.em.Send(ctx, chat.Tag("ui-tools", picks))
		// Kept on the main thread after the answer, for the chat history.
		if b, err := json.Marshal(picks); err == nil {
			s.store(s.chatID, []store.Message{{Message: llm.Message{Role: store.RoleUITools}, UITools: b, CreatedAt: s.r.o.Now().UTC()}})
		}
	}
}

// pickUITools makes the selection call and collects its tool calls.
func (r *Runner) pickUITools(ctx context.Context, req llm.Request, max int) ([]UIToolPick, error) {
	picks := []UIToolPick{}
	for ev, err := range r.o.Model.Stream(ctx, req) {
		if err != nil {
			return nil, err
		}
		if ev.ToolCall != nil && len(picks) < max {
			picks = append(picks, UIToolPick{ToolName: ev.ToolCall.Name, Input: ev.ToolCall.Arguments})
		}
	}
	return picks, nil
}

// CompleteUITools serves POST /v1/api/complete/ui-tools: the UI's welcome
// suggestions, chosen by one model call with the allowed UI tools and the
// prompt as the system prompt. No UI tools configured: an empty list.
func (r *Runner) CompleteUITools(ctx context.Context, prompt, context string, allowed []string) ([]UIToolPick, error) {
	if r.o.UITools == nil {
		return []UIToolPick{}, nil
	}
	sel, ok := r.o.UITools.Select(allowed)
	if !ok {
		return []UIToolPick{}, nil
	}
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: prompt}}
	if context != "" {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: "Context:\n" + context})
	} else {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: "Suggest what the user could ask."})
	}
	return r.pickUITools(ctx, llm.Request{Purpose: "ui-tools", Tools: sel.Tools, Messages: msgs}, sel.MaxTools)
}
