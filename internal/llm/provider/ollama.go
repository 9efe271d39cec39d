package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/rancher/ai-agent/internal/jsonbytes"
	"github.com/rancher/ai-agent/internal/llm"
)

// ollama talks to Ollama's native /api/chat by hand: Ollama ships no Go
// client outside its server module, and the API is one NDJSON stream.
// Being by hand, it reuses what it can from one call to the next (wire.go):
// the encoded tools array, line buffers, the size of the last body.
type ollama struct {
	c        Config
	lines    linePool
	decoders decoderPool
	tools    toolsCache[[]byte]
	lastBody atomic.Int64
	// contentType and accept are the request header values, shared by
	// every request (read-only: Header.Set replaces a value, Add copies).
	contentType, accept []string
}

func newOllama(c Config) (*ollama, error) {
	return &ollama{c: c, contentType: []string{"application/json"}, accept: []string{"application/x-ndjson"}}, nil
}

type ollamaMessage struct {
	Role      string           `json:"role"`
	Content   string           `json:"content"`
	Thinking  string           `json:"thinking,omitempty"`
	ToolCalls []ollamaToolCall `json:"tool_calls,omitempty"`
	ToolName  string           `json:"tool_name,omitempty"`
}

type ollamaToolCall struct {
	ID       string `json:"id,omitempty"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type ollamaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type ollamaChunk struct {
	Message         ollamaMessage `json:"message"`
	Done            bool          `json:"done"`
	PromptEvalCount int           `json:"prompt_eval_count"`
	EvalCount       int           `json:"eval_count"`
	Error           string        `json:"error"`
}

// appendOllamaBody appends req's /api/chat body, encoded by hand (the
// encoding/json output for ollamaMessage values, tool call arguments passed
// through once argsJSON checked them) with the tools array from the cache.
func (o *ollama) appendOllamaBody(dst []byte, req llm.Request) ([]byte, error) {
	names := toolNames(req.Messages)
	dst = append(dst, `{"model":`...)
	dst = jsonbytes.AppendString(dst, modelOf(req, o.c.Model))
	dst = append(dst, `,"messages":[`...)
	for i, m := range req.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"role":`...)
		dst = jsonbytes.AppendString(dst, m.Role)
		dst = append(dst, `,"content":`...)
		dst = jsonbytes.AppendString(dst, m.Content)
		if len(m.ToolCalls) > 0 {
			dst = append(dst, `,"tool_calls":[`...)
			for j, c := range m.ToolCalls {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '{')
				if c.ID != "" {
					dst = append(dst, `"id":`...)
					dst = jsonbytes.AppendString(dst, c.ID)
					dst = append(dst, ',')
				}
				dst = append(dst, `"function":{"name":`...)
				dst = jsonbytes.AppendString(dst, c.Name)
				dst = append(dst, `,"arguments":`...)
				dst = append(dst, argsJSON(c.Arguments)...)
				dst = append(dst, "}}"...)
			}
			dst = append(dst, ']')
		}
		if m.Role == llm.RoleTool {
			if name := names[m.ToolCallID]; name != "" {
				dst = append(dst, `,"tool_name":`...)
				dst = jsonbytes.AppendString(dst, name)
			}
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"stream":true`...)
	if len(req.Tools) > 0 {
		tools, err := o.tools.get(req.Tools, ollamaTools)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `,"tools":`...)
		dst = append(dst, tools...)
	}
	return append(dst, '}'), nil
}

// ollamaTools encodes the "tools" array of a request.
func ollamaTools(tools []llm.Tool) ([]byte, error) {
	out := make([]ollamaTool, 0, len(tools))
	for _, t := range tools {
		var ot ollamaTool
		ot.Type = "function"
		ot.Function.Name, ot.Function.Description, ot.Function.Parameters = t.Name, t.Description, schemaJSON(t.InputSchema)
		out = append(out, ot)
	}
	return json.Marshal(out)
}

// Stream implements Model.
func (o *ollama) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return withRetry(ctx, o.c.Retry, "ollama", func(ctx context.Context) iter.Seq2[llm.Event, error] {
		return o.once(ctx, req)
	})
}

func (o *ollama) once(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		// One allocation when the thread is about as long as the last
		// one encoded (threads only grow, by a message or two per call).
		body, err := o.appendOllamaBody(make([]byte, 0, o.lastBody.Load()*5/4+1024), req)
		if err != nil {
			yield(llm.Event{}, fmt.Errorf("ollama: encode request: %w", err))
			return
		}
		o.lastBody.Store(int64(len(body)))
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, o.c.BaseURL+"/api/chat", bytes.NewReader(body))
		if err != nil {
			yield(llm.Event{}, fmt.Errorf("ollama: %w", err))
			return
		}
		hr.Header["Content-Type"] = o.contentType[:1:1]
		hr.Header["Accept"] = o.accept[:1:1]
		resp, err := o.c.HTTPClient.Do(hr)
		if err != nil {
			yield(llm.Event{}, fmt.Errorf("ollama: %w: %w", ErrProvider, err))
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			yield(llm.Event{}, readAPIError("ollama", resp))
			return
		}
		var th thinker
		n := 0
		sc := bufio.NewScanner(resp.Body)
		// Lines are small; the buffer grows for a long one (up to 8 MiB).
		// Decoded values copy what they keep, so the buffer is reused.
		lineBuf := o.lines.get()
		sc.Buffer(lineBuf, 8<<20)
		defer func() { o.lines.put(lineBuf) }()
		dec, decoded := o.decoders.get(), true
		defer func() { o.decoders.put(dec, decoded) }()
		var ch ollamaChunk
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			ch = ollamaChunk{}
			if err := dec.decode(line, &ch); err != nil {
				decoded = false
				yield(llm.Event{}, fmt.Errorf("ollama: %w: bad stream line: %w", ErrProvider, err))
				return
			}
			if ch.Error != "" {
				yield(llm.Event{}, fmt.Errorf("ollama: %w: %s", ErrProvider, truncate(ch.Error, 300)))
				return
			}
			for _, p := range th.pieces(ch.Message.Thinking, ch.Message.Content) {
				if !yield(llm.Event{Text: p}, nil) {
					return
				}
			}
			for _, tc := range ch.Message.ToolCalls {
				n++
				id := tc.ID
				if id == "" {
					id = "call_" + strconv.Itoa(n)
				}
				args := tc.Function.Arguments
				if len(args) == 0 || string(args) == "null" {
					args = json.RawMessage(`{}`)
				}
				if !yield(llm.Event{ToolCall: &llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: args}}, nil) {
					return
				}
			}
			if ch.Done {
				for _, p := range th.close() {
					if !yield(llm.Event{Text: p}, nil) {
						return
					}
				}
				yield(llm.Event{Usage: &llm.Usage{InputTokens: ch.PromptEvalCount, OutputTokens: ch.EvalCount}}, nil)
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(llm.Event{}, fmt.Errorf("ollama: %w: %w", ErrProvider, err))
			return
		}
		yield(llm.Event{}, fmt.Errorf("ollama: %w: stream ended before done", ErrProvider))
	}
}

// readAPIError turns a non-2xx response into an *APIError, reading the
// provider's message from the usual JSON shapes ({"error": "…"},
// {"error": {"message": "…"}}, {"message": "…"}).
func readAPIError(provider string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var shapes struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	msg := ""
	if json.Unmarshal(raw, &shapes) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(shapes.Error, &s) == nil && s != "":
			msg = s
		case json.Unmarshal(shapes.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		default:
			msg = shapes.Message
		}
	}
	return &APIError{Provider: provider, Status: resp.StatusCode, Message: msg}
}
