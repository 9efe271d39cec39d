package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/rancher/ai-agent/internal/llm"

	"google.golang.org/genai"
)

// gemini talks to the Gemini API (not Vertex) through the official genai
// SDK. Tests and mock mode point HTTPOptions.BaseURL at a local server; the
// SDK then calls {base}/v1beta/models/{model}:streamGenerateContent?alt=sse.
type gemini struct {
	c      Config
	client *genai.Client
	tools  toolsCache[[]*genai.Tool]
}

func newGemini(c Config) (*gemini, error) {
	key := c.APIKey
	if key == "" && c.Mock {
		key = "mock"
	}
	one := int32(1) // no SDK retries: withRetry owns the policy
	cc := &genai.ClientConfig{
		APIKey: key, Backend: genai.BackendGeminiAPI, HTTPClient: c.HTTPClient,
		HTTPOptions: genai.HTTPOptions{BaseURL: c.BaseURL, RetryOptions: &genai.HTTPRetryOptions{Attempts: &one}},
	}
	if cc.HTTPOptions.BaseURL != "" {
		cc.HTTPOptions.BaseURL += "/"
	}
	// NewClient does no I/O for the Gemini API backend; the context only
	// matters for Vertex credentials discovery.
	client, err := genai.NewClient(context.Background(), cc)
	if err != nil {
		return nil, &ConfigError{Reason: ErrMissingSetting, Detail: "gemini: " + err.Error()}
	}
	return &gemini{c: c, client: client}, nil
}

// geminiContents maps our messages: system → SystemInstruction, assistant →
// role "model" with functionCall parts, tool results → functionResponse parts
// (consecutive ones in one user turn, as the API expects).
// tools is the request's tools' form (geminiTools), kept from call to call.
func geminiContents(req llm.Request, model string, tools []*genai.Tool) ([]*genai.Content, *genai.GenerateContentConfig) {
	names := toolNames(req.Messages)
	cfg := &genai.GenerateContentConfig{}
	var system []string
	var out []*genai.Content
	add := func(role string, p *genai.Part) {
		if n := len(out); n > 0 && out[n-1].Role == role && role == genai.RoleUser && p.FunctionResponse != nil && out[n-1].Parts[0].FunctionResponse != nil {
			out[n-1].Parts = append(out[n-1].Parts, p)
			return
		}
		out = append(out, &genai.Content{Role: role, Parts: []*genai.Part{p}})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleSystem:
			system = append(system, m.Content)
		case llm.RoleUser:
			add(genai.RoleUser, &genai.Part{Text: m.Content})
		case llm.RoleAssistant:
			c := &genai.Content{Role: genai.RoleModel}
			if m.Content != "" {
				c.Parts = append(c.Parts, &genai.Part{Text: m.Content})
			}
			for _, tc := range m.ToolCalls {
				c.Parts = append(c.Parts, &genai.Part{FunctionCall: &genai.FunctionCall{ID: tc.ID, Name: tc.Name, Args: argsObject(tc.Arguments)}})
			}
			if len(c.Parts) == 0 {
				c.Parts = []*genai.Part{{Text: ""}}
			}
			out = append(out, c)
		case llm.RoleTool:
			key := "output"
			if m.IsError {
				key = "error"
			}
			add(genai.RoleUser, &genai.Part{FunctionResponse: &genai.FunctionResponse{
				ID: m.ToolCallID, Name: names[m.ToolCallID], Response: map[string]any{key: m.Content},
			}})
		}
	}
	if len(system) > 0 {
		cfg.SystemInstruction = &genai.Content{Parts: []*genai.Part{{Text: strings.Join(system, "\n\n")}}}
	}
	if len(req.Tools) > 0 {
		cfg.Tools = tools
	}
	// upstream §6.1: without this gemini-2.5-flash may spend the whole budget
	// thinking and answer with nothing.
	if strings.TrimPrefix(model, "models/") == "gemini-2.5-flash" {
		zero := int32(0)
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: &zero}
	}
	return out, cfg
}

// geminiTools maps the tools into one genai.Tool, decoding each schema.
func geminiTools(tools []llm.Tool) []*genai.Tool {
	if len(tools) == 0 {
		return nil
	}
	decls := make([]*genai.FunctionDeclaration, 0, len(tools))
	for _, t := range tools {
		decls = append(decls, &genai.FunctionDeclaration{Name: t.Name, Description: t.Description, ParametersJsonSchema: schemaObject(t.InputSchema)})
	}
	return []*genai.Tool{{FunctionDeclarations: decls}}
}

// Stream implements Model.
func (g *gemini) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return withRetry(ctx, g.c.Retry, "gemini", func(ctx context.Context) iter.Seq2[llm.Event, error] {
		return g.once(ctx, req)
	})
}

func (g *gemini) once(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		model := modelOf(req, g.c.Model)
		tools, _ := g.tools.get(req.Tools, noErr(geminiTools))
		contents, cfg := geminiContents(req, model, tools)
		var th thinker
		var usage *llm.Usage
		n := 0
		for resp, err := range g.client.Models.GenerateContentStream(ctx, model, contents, cfg) {
			if err != nil {
				yield(llm.Event{}, g.wrap(err))
				return
			}
			if u := resp.UsageMetadata; u != nil {
				usage = &llm.Usage{InputTokens: int(u.PromptTokenCount), OutputTokens: int(u.CandidatesTokenCount + u.ThoughtsTokenCount)}
			}
			if len(resp.Candidates) == 0 || resp.Candidates[0].Content == nil {
				continue
			}
			for _, p := range resp.Candidates[0].Content.Parts {
				var pieces []string
				if p.Thought {
					pieces = th.pieces(p.Text, "")
				} else {
					pieces = th.pieces("", p.Text)
				}
				for _, s := range pieces {
					if !yield(llm.Event{Text: s}, nil) {
						return
					}
				}
				if fc := p.FunctionCall; fc != nil {
					n++
					id := fc.ID
					if id == "" {
						id = "call_" + strconv.Itoa(n)
					}
					args, err := json.Marshal(fc.Args)
					if err != nil || fc.Args == nil {
						args = []byte(`{}`)
					}
					if !yield(llm.Event{ToolCall: &llm.ToolCall{ID: id, Name: fc.Name, Arguments: args}}, nil) {
						return
					}
				}
			}
		}
		for _, s := range th.close() {
			if !yield(llm.Event{Text: s}, nil) {
				return
			}
		}
		if usage != nil {
			yield(llm.Event{Usage: usage}, nil)
		}
	}
}

func (g *gemini) wrap(err error) error {
	var ae genai.APIError
	if errors.As(err, &ae) {
		return &APIError{Provider: "gemini", Status: ae.Code, Message: ae.Message}
	}
	var pae *genai.APIError
	if errors.As(err, &pae) {
		return &APIError{Provider: "gemini", Status: pae.Code, Message: pae.Message}
	}
	return fmt.Errorf("gemini: %w: %w", ErrProvider, err)
}
