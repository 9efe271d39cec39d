package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"

	"github.com/rancher/ai-agent/internal/llm"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openAI serves ACTIVE_LLM=openai and generic-openai through the official
// SDK's streaming Chat Completions. The SDK's own retries are off: withRetry
// owns retrying so that every provider follows one policy.
type openAI struct {
	c      Config
	client openai.Client
	tools  toolsCache[[]openai.ChatCompletionToolUnionParam]
}

func newOpenAI(c Config) (*openAI, error) {
	key := c.APIKey
	if key == "" && c.Mock {
		key = "mock" // the mock ignores it; the SDK refuses to send none
	}
	opts := []option.RequestOption{
		option.WithAPIKey(key),
		option.WithHTTPClient(c.HTTPClient),
		option.WithMaxRetries(0),
	}
	if c.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(c.BaseURL+"/"))
	}
	return &openAI{c: c, client: openai.NewClient(opts...)}, nil
}

// openAIParams maps a request; tools is its tools' form (openAITools),
// kept from call to call.
func openAIParams(req llm.Request, model string, tools []openai.ChatCompletionToolUnionParam) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:         shared.ChatModel(model),
		Tools:         tools,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleSystem:
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case llm.RoleUser:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		case llm.RoleTool:
			p.Messages = append(p.Messages, openai.ToolMessage(m.Content, m.ToolCallID))
		case llm.RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" || len(m.ToolCalls) == 0 {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, c := range m.ToolCalls {
				args := argsJSON(c.Arguments)
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       c.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: string(args)},
					},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	return p
}

// openAITools maps the tools, decoding each schema.
func openAITools(tools []llm.Tool) []openai.ChatCompletionToolUnionParam {
	var out []openai.ChatCompletionToolUnionParam
	for _, t := range tools {
		fd := shared.FunctionDefinitionParam{Name: t.Name, Parameters: shared.FunctionParameters(schemaObject(t.InputSchema))}
		if t.Description != "" {
			fd.Description = openai.String(t.Description)
		}
		out = append(out, openai.ChatCompletionFunctionTool(fd))
	}
	return slices.Clip(out)
}

// Stream implements Model.
func (o *openAI) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return withRetry(ctx, o.c.Retry, o.c.Provider, func(ctx context.Context) iter.Seq2[llm.Event, error] {
		return o.once(ctx, req)
	})
}

// pendingCall accumulates one streamed tool call: the id and name come in
// its first fragment, the arguments as string pieces.
type pendingCall struct {
	id, name string
	args     []byte
}

func (o *openAI) once(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		tools, _ := o.tools.get(req.Tools, noErr(openAITools))
		stream := o.client.Chat.Completions.NewStreaming(ctx, openAIParams(req, modelOf(req, o.c.Model), tools))
		defer stream.Close()
		calls := map[int64]*pendingCall{}
		var usage *llm.Usage
		for stream.Next() {
			ch := stream.Current()
			if ch.JSON.Usage.Valid() && (ch.Usage.PromptTokens > 0 || ch.Usage.CompletionTokens > 0) {
				usage = &llm.Usage{InputTokens: int(ch.Usage.PromptTokens), OutputTokens: int(ch.Usage.CompletionTokens)}
			}
			for _, choice := range ch.Choices {
				if d := choice.Delta.Content; d != "" {
					if !yield(llm.Event{Text: d}, nil) {
						return
					}
				}
				for _, tc := range choice.Delta.ToolCalls {
					pc := calls[tc.Index]
					if pc == nil {
						pc = &pendingCall{}
						calls[tc.Index] = pc
					}
					if tc.ID != "" {
						pc.id = tc.ID
					}
					if tc.Function.Name != "" {
						pc.name = tc.Function.Name
					}
					pc.args = append(pc.args, tc.Function.Arguments...)
				}
			}
		}
		if err := stream.Err(); err != nil {
			yield(llm.Event{}, o.wrap(err))
			return
		}
		idx := make([]int64, 0, len(calls))
		for i := range calls {
			idx = append(idx, i)
		}
		sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
		for _, i := range idx {
			pc := calls[i]
			args := json.RawMessage(pc.args)
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			} else if !json.Valid(args) {
				yield(llm.Event{}, fmt.Errorf("%s: %w: tool call %q has invalid JSON arguments", o.c.Provider, ErrProvider, pc.name))
				return
			}
			if !yield(llm.Event{ToolCall: &llm.ToolCall{ID: pc.id, Name: pc.name, Arguments: args}}, nil) {
				return
			}
		}
		if usage != nil {
			yield(llm.Event{Usage: usage}, nil)
		}
	}
}

// wrap maps SDK errors onto ours. The SDK's *Error formats only the status
// (its URL and body may carry secrets); we keep the provider's message.
func (o *openAI) wrap(err error) error {
	var ae *openai.Error
	if errors.As(err, &ae) {
		return &APIError{Provider: o.c.Provider, Status: ae.StatusCode, Message: ae.Message}
	}
	return fmt.Errorf("%s: %w: %w", o.c.Provider, ErrProvider, err)
}
