package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/rancher/ai-agent/internal/llm"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/auth/bearer"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
)

// bedrock talks to Bedrock's Converse API through aws-sdk-go-v2: with the
// Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) as bearer token when it is
// set, else signed with SigV4 by AWS credentials (Config.AWSKeys, or the
// SDK's default chain, as boto3 does for the Python agent). rancher-ai-llm-mock only serves the
// non-streaming /converse, so mock mode uses Converse and replays its
// content blocks as events; otherwise ConverseStream.
type bedrock struct {
	c      Config
	client *bedrockruntime.Client
	tools  toolsCache[*types.ToolConfiguration]
}

func newBedrock(c Config) (*bedrock, error) {
	token := c.APIKey
	if token == "" && c.Mock {
		token = "mock"
	}
	var creds aws.CredentialsProvider
	if token == "" {
		var err error
		if creds, err = awsCredentials(c); err != nil {
			return nil, err
		}
	}
	client := bedrockruntime.New(bedrockruntime.Options{Region: c.Region}, func(o *bedrockruntime.Options) {
		o.HTTPClient = c.HTTPClient
		o.Retryer = aws.NopRetryer{}
		if creds != nil { // SigV4 (the client's default scheme)
			o.Credentials = creds
			o.AuthSchemePreference = []string{"aws.auth#sigv4"}
		} else {
			o.BearerAuthTokenProvider = bearer.StaticTokenProvider{Token: bearer.Token{Value: token}}
			o.AuthSchemePreference = []string{"httpBearerAuth"}
			o.BearerAuthSigner = bearerSigner{allowHTTP: c.Mock}
		}
		if c.BaseURL != "" {
			o.BaseEndpoint = aws.String(c.BaseURL)
		}
	})
	return &bedrock{c: c, client: client}, nil
}

// input maps our messages. Bedrock wants strictly alternating
// user/assistant turns, so consecutive same-role messages (several tool
// results, or a user message after tool results) are merged into one turn.
// The tool configuration is kept from call to call (bedrockTools).
func (b *bedrock) input(req llm.Request) ([]types.Message, []types.SystemContentBlock, *types.ToolConfiguration) {
	var msgs []types.Message
	var system []types.SystemContentBlock
	add := func(role types.ConversationRole, blocks ...types.ContentBlock) {
		if len(blocks) == 0 {
			return
		}
		if n := len(msgs); n > 0 && msgs[n-1].Role == role {
			msgs[n-1].Content = append(msgs[n-1].Content, blocks...)
			return
		}
		msgs = append(msgs, types.Message{Role: role, Content: blocks})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleSystem:
			if m.Content != "" {
				system = append(system, &types.SystemContentBlockMemberText{Value: m.Content})
			}
		case llm.RoleUser:
			if m.Content != "" {
				add(types.ConversationRoleUser, &types.ContentBlockMemberText{Value: m.Content})
			}
		case llm.RoleAssistant:
			var blocks []types.ContentBlock
			if m.Content != "" {
				blocks = append(blocks, &types.ContentBlockMemberText{Value: m.Content})
			}
			for _, tc := range m.ToolCalls {
				blocks = append(blocks, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
					ToolUseId: aws.String(tc.ID), Name: aws.String(tc.Name), Input: document.NewLazyDocument(argsObject(tc.Arguments)),
				}})
			}
			add(types.ConversationRoleAssistant, blocks...)
		case llm.RoleTool:
			tr := types.ToolResultBlock{ToolUseId: aws.String(m.ToolCallID), Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: m.Content}}}
			if m.IsError {
				tr.Status = types.ToolResultStatusError
			}
			add(types.ConversationRoleUser, &types.ContentBlockMemberToolResult{Value: tr})
		}
	}
	tc, _ := b.tools.get(req.Tools, noErr(bedrockTools))
	return msgs, system, tc
}

// bedrockTools maps the tools, decoding each schema; nil when there are
// none.
func bedrockTools(tools []llm.Tool) *types.ToolConfiguration {
	if len(tools) == 0 {
		return nil
	}
	tc := &types.ToolConfiguration{}
	for _, t := range tools {
		spec := types.ToolSpecification{Name: aws.String(t.Name), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(schemaObject(t.InputSchema))}}
		if t.Description != "" {
			spec.Description = aws.String(t.Description)
		}
		tc.Tools = append(tc.Tools, &types.ToolMemberToolSpec{Value: spec})
	}
	return tc
}

// Stream implements Model.
func (b *bedrock) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return withRetry(ctx, b.c.Retry, "bedrock", func(ctx context.Context) iter.Seq2[llm.Event, error] {
		if b.c.Mock {
			return b.converse(ctx, req)
		}
		return b.stream(ctx, req)
	})
}

// ownCodec gives one ConverseStream call a protocol of its own. The client's
// protocol holds one event-stream codec (smithy-go internal/eventstream.Codec:
// a decoder and a payload buffer) that every stream of the client decodes
// with, so two chats streaming at once would decode their events into the
// same buffer: one user's answer could be read as another's. A protocol per
// call keeps each stream's buffer its own (restjson1.New ignores the schema
// and allocates only the codec).
func ownCodec(o *bedrockruntime.Options) {
	o.Protocol = restjson1.New(schemas.AmazonBedrockFrontendService)
}

func (b *bedrock) stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		msgs, system, tools := b.input(req)
		out, err := b.client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
			ModelId: aws.String(modelOf(req, b.c.Model)), Messages: msgs, System: system, ToolConfig: tools,
		}, ownCodec)
		if err != nil {
			yield(llm.Event{}, b.wrap(err))
			return
		}
		es := out.GetStream()
		defer es.Close()
		var th thinker
		var pending *pendingCall
		for ev := range es.Events() {
			var pieces []string
			switch v := ev.(type) {
			case *types.ConverseStreamOutputMemberContentBlockStart:
				if s, ok := v.Value.Start.(*types.ContentBlockStartMemberToolUse); ok {
					pending = &pendingCall{id: aws.ToString(s.Value.ToolUseId), name: aws.ToString(s.Value.Name)}
				}
			case *types.ConverseStreamOutputMemberContentBlockDelta:
				switch d := v.Value.Delta.(type) {
				case *types.ContentBlockDeltaMemberText:
					pieces = th.pieces("", d.Value)
				case *types.ContentBlockDeltaMemberReasoningContent:
					if t, ok := d.Value.(*types.ReasoningContentBlockDeltaMemberText); ok {
						pieces = th.pieces(t.Value, "")
					}
				case *types.ContentBlockDeltaMemberToolUse:
					if pending != nil {
						pending.args = append(pending.args, aws.ToString(d.Value.Input)...)
					}
				}
			case *types.ConverseStreamOutputMemberContentBlockStop:
				if pending != nil {
					tc, err := pending.toolCall()
					pending = nil
					if err != nil {
						yield(llm.Event{}, fmt.Errorf("bedrock: %w: %w", ErrProvider, err))
						return
					}
					if !yield(llm.Event{ToolCall: tc}, nil) {
						return
					}
				}
			case *types.ConverseStreamOutputMemberMetadata:
				if u := v.Value.Usage; u != nil {
					pieces = append(pieces, th.close()...)
					for _, p := range pieces {
						if !yield(llm.Event{Text: p}, nil) {
							return
						}
					}
					pieces = nil
					if !yield(llm.Event{Usage: &llm.Usage{InputTokens: int(aws.ToInt32(u.InputTokens)), OutputTokens: int(aws.ToInt32(u.OutputTokens))}}, nil) {
						return
					}
				}
			}
			for _, p := range pieces {
				if !yield(llm.Event{Text: p}, nil) {
					return
				}
			}
		}
		if err := es.Err(); err != nil {
			yield(llm.Event{}, b.wrap(err))
			return
		}
		for _, p := range th.close() {
			if !yield(llm.Event{Text: p}, nil) {
				return
			}
		}
	}
}

// toolCall checks and returns the accumulated call.
func (p *pendingCall) toolCall() (*llm.ToolCall, error) {
	args := json.RawMessage(strings.TrimSpace(string(p.args)))
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	if !json.Valid(args) {
		return nil, fmt.Errorf("tool call %q has invalid JSON arguments", p.name)
	}
	return &llm.ToolCall{ID: p.id, Name: p.name, Arguments: args}, nil
}

// converse is the non-streaming call used against rancher-ai-llm-mock.
func (b *bedrock) converse(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		msgs, system, tools := b.input(req)
		out, err := b.client.Converse(ctx, &bedrockruntime.ConverseInput{
			ModelId: aws.String(modelOf(req, b.c.Model)), Messages: msgs, System: system, ToolConfig: tools,
		})
		if err != nil {
			yield(llm.Event{}, b.wrap(err))
			return
		}
		if m, ok := out.Output.(*types.ConverseOutputMemberMessage); ok {
			for _, blk := range m.Value.Content {
				var ev llm.Event
				switch v := blk.(type) {
				case *types.ContentBlockMemberText:
					ev.Text = v.Value
				case *types.ContentBlockMemberToolUse:
					args := []byte(`{}`)
					if v.Value.Input != nil {
						// MarshalSmithyDocument keeps numbers as numbers;
						// decoding into any would turn them into strings.
						if raw, err := v.Value.Input.MarshalSmithyDocument(); err == nil && json.Valid(raw) && string(raw) != "null" {
							args = raw
						}
					}
					ev.ToolCall = &llm.ToolCall{ID: aws.ToString(v.Value.ToolUseId), Name: aws.ToString(v.Value.Name), Arguments: args}
				}
				if (ev.Text != "" || ev.ToolCall != nil) && !yield(ev, nil) {
					return
				}
			}
		}
		if u := out.Usage; u != nil {
			yield(llm.Event{Usage: &llm.Usage{InputTokens: int(aws.ToInt32(u.InputTokens)), OutputTokens: int(aws.ToInt32(u.OutputTokens))}}, nil)
		}
	}
}

// wrap maps SDK errors: an HTTP status becomes *APIError (with the service's
// message), anything else ErrProvider. The SDK's errors carry no token.
func (b *bedrock) wrap(err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		msg := ""
		var ae smithy.APIError
		if errors.As(err, &ae) {
			msg = ae.ErrorMessage()
		}
		return &APIError{Provider: "bedrock", Status: re.HTTPStatusCode(), Message: msg}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) { // an exception event inside the stream
		return fmt.Errorf("bedrock: %w: %s: %s", ErrProvider, ae.ErrorCode(), truncate(ae.ErrorMessage(), 300))
	}
	return fmt.Errorf("bedrock: %w: %w", ErrProvider, err)
}

// bearerSigner is the SDK's bearer signer, which refuses plain HTTP, relaxed
// for the two cases where plain HTTP is expected: rancher-ai-llm-mock (an
// in-cluster Service) and loopback test servers. The token still never goes
// to a non-loopback host in clear unless mock mode says so.
type bearerSigner struct{ allowHTTP bool }

func (s bearerSigner) SignWithBearerToken(ctx context.Context, token bearer.Token, msg bearer.Message) (bearer.Message, error) {
	req, ok := msg.(*smithyhttp.Request)
	if !ok || req.IsHTTPS() || !(s.allowHTTP || isLoopback(req.URL.Hostname())) {
		return bearer.NewSignHTTPSMessage().SignWithBearerToken(ctx, token, msg)
	}
	clone := req.Clone()
	clone.Header.Set("Authorization", "Bearer "+token.Value)
	return clone, nil
}
