package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// Summarization keeps the model's conversation bounded, as the Python
// agent's SummarizationMiddleware does (upstream-agent.md §6.4): when a
// thread passes Messages messages or Tokens tokens (approximate count), the
// older messages are replaced by a summary that one model call without
// tools writes, and the last Keep messages stay as they are, every tool call
// with its result. The summary is stored on the thread as a RoleSummary
// record (never streamed, not part of the user's history); its usage counts
// under "summarization". A failed summary leaves the thread as it was.
type Summarization struct {
	// Messages triggers a summary above this many messages; default 30.
	Messages int
	// Tokens triggers a summary above this many tokens; default 30,000.
	Tokens int
	// Keep is how many recent messages stay; default 15.
	Keep int
}

func (o *Summarization) defaults() {
	if o.Messages <= 0 {
		o.Messages = 30
	}
	if o.Tokens <= 0 {
		o.Tokens = 30_000
	}
	if o.Keep <= 0 {
		o.Keep = 15
	}
}

// charsPerToken is the approximate counter's ratio (LangChain's default).
const charsPerToken = 4

// approxTokens counts a conversation's tokens from its length.
func approxTokens(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content)
		for _, c := range m.ToolCalls {
			n += len(c.Name) + len(c.Arguments)
		}
	}
	return n / charsPerToken
}

// summaryPrefix introduces a summary to the model (LangChain's wording).
const summaryPrefix = "Here is a summary of the conversation to date:\n\n"

// summaryMessage is how the model sees a stored summary.
func summaryMessage(summary string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: summaryPrefix + summary}
}

const summaryPrompt = "You condense a conversation between a user and an AI assistant that uses tools. " +
	"Write a summary that lets the assistant carry on without the original messages: the user's goals and " +
	"requests, what the tools returned (names, identifiers, numbers, errors), decisions made, and what is still " +
	"open. Be factual and concise; do not address the user."

// cutPoint is how many leading messages a summary replaces so that keep
// messages stay, moved earlier so that no kept tool result loses its call.
func cutPoint(msgs []llm.Message, keep int) int {
	c := len(msgs) - keep
	for c > 0 && msgs[c].Role == llm.RoleTool {
		c--
	}
	return max(c, 0)
}

// transcript renders messages as plain text, tool calls and results
// included, so that a model without tools (Bedrock refuses toolUse blocks
// without a toolConfig) can read them.
func transcript(msgs []llm.Message) string {
	var b strings.Builder
	names := map[string]string{}
	for _, m := range msgs {
		switch m.Role {
		case llm.RoleTool:
			state := "result"
			if m.IsError {
				state = "error"
			}
			fmt.Fprintf(&b, "Tool %s %s: %s\n", names[m.ToolCallID], state, m.Content)
		case llm.RoleAssistant:
			if m.Content != "" {
				fmt.Fprintf(&b, "Assistant: %s\n", m.Content)
			}
			for _, c := range m.ToolCalls {
				names[c.ID] = c.Name
				fmt.Fprintf(&b, "Assistant called tool %s with %s\n", c.Name, c.Arguments)
			}
		default:
			fmt.Fprintf(&b, "%s: %s\n", roleName(m.Role), m.Content)
		}
	}
	return b.String()
}

func roleName(role string) string {
	if role == llm.RoleUser {
		return "User"
	}
	return role
}

// summarize replaces the older part of a run's history by a summary when
// the history is over a threshold. It returns the history to use: the
// summarized one, or the same one when no summary was due or made.
func (s *Session) summarize(ctx context.Context, r run, history []llm.Message, requestID string) []llm.Message {
	o := s.r.o.Summarization
	if len(history) <= o.Messages && approxTokens(history) <= o.Tokens {
		return history
	}
	cut := cutPoint(history, o.Keep)
	if cut < 2 {
		return history
	}
	model := ""
	if r.st != nil {
		model = modelOf(r.st)
	}
	text, usage, err := s.r.complete(ctx, llm.Request{Purpose: "summarization", Model: model, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: summaryPrompt},
		{Role: llm.RoleUser, Content: "Summarize this conversation:\n\n" + transcript(history[:cut])},
	}})
	if err == nil && strings.TrimSpace(text) == "" {
		err = fmt.Errorf("empty summary")
	}
	if err != nil {
		s.r.o.Logger.Warn("summarization failed; the thread stays as it was", "thread", r.thread, "error", err)
		return history
	}
	rec := store.Message{
		Message: llm.Message{Role: store.RoleSummary, Content: text}, Agent: r.agent(), RequestID: requestID,
		Summarized: cut, Usage: &usage, CreatedAt: s.r.o.Now().UTC(),
	}
	if err := s.append(context.WithoutCancel(ctx), r.thread, rec); err != nil {
		s.r.o.Logger.Warn("storing a summary failed; the thread stays as it was", "thread", r.thread, "error", err)
		return history
	}
	out := make([]llm.Message, 0, 1+len(history)-cut)
	return append(append(out, summaryMessage(text)), history[cut:]...)
}

// complete makes one model call and collects its text and usage.
func (r *Runner) complete(ctx context.Context, req llm.Request) (string, llm.Usage, error) {
	var b strings.Builder
	var u llm.Usage
	for ev, err := range r.o.Model.Stream(ctx, req) {
		if err != nil {
			return "", u, err
		}
		b.WriteString(ev.Text)
		if ev.Usage != nil {
			u.InputTokens += ev.Usage.InputTokens
			u.OutputTokens += ev.Usage.OutputTokens
		}
	}
	return b.String(), u, nil
}
