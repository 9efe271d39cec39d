package llmmock

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// ollama streams NDJSON chunks of /api/chat: one per text chunk, one per
// tool call (arguments as an object), then the done chunk.
func (m *Mock) ollama(w http.ResponseWriter, r *http.Request) {
	rep, err := m.pop(r.Context(), "ollama", r)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	s := &streamer{w: w}
	line := func(msg map[string]any, done bool) bool {
		v := map[string]any{"model": "mock", "created_at": time.Now().UTC().Format(time.RFC3339Nano), "message": msg, "done": done}
		if done {
			v["done_reason"], v["prompt_eval_count"], v["eval_count"] = "stop", 1, len(rep.text)+len(rep.calls)
		}
		return s.write(append(mustJSON(v), '\n'))
	}
	for _, t := range rep.text {
		if !line(map[string]any{"role": "assistant", "content": t}, false) {
			return
		}
	}
	for _, c := range rep.calls {
		tc := map[string]any{"function": map[string]any{"name": c.Name, "arguments": json.RawMessage(c.Arguments)}}
		if !line(map[string]any{"role": "assistant", "content": "", "tool_calls": []any{tc}}, false) {
			return
		}
	}
	line(map[string]any{"role": "assistant", "content": ""}, true)
}

// openAI streams Chat Completions SSE: a delta per text chunk, a delta per
// tool call (arguments as a JSON string), a final chunk, then [DONE].
func (m *Mock) openAI(w http.ResponseWriter, r *http.Request) {
	rep, err := m.pop(r.Context(), "openai", r)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	s := &streamer{w: w}
	chunk := func(delta map[string]any, finish any, usage any) bool {
		v := map[string]any{
			"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": "mock",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		if usage != nil {
			v["usage"] = usage
		}
		return s.write([]byte("data: " + string(mustJSON(v)) + "\n\n"))
	}
	for _, t := range rep.text {
		if !chunk(map[string]any{"role": "assistant", "content": t}, nil, nil) {
			return
		}
	}
	for i, c := range rep.calls {
		tc := map[string]any{"index": i, "id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": string(c.Arguments)}}
		if !chunk(map[string]any{"role": "assistant", "tool_calls": []any{tc}}, nil, nil) {
			return
		}
	}
	finish := "stop"
	if len(rep.calls) > 0 {
		finish = "tool_calls"
	}
	if !chunk(map[string]any{}, finish, map[string]any{"prompt_tokens": 1, "completion_tokens": len(rep.text) + len(rep.calls), "total_tokens": 1 + len(rep.text) + len(rep.calls)}) {
		return
	}
	s.write([]byte("data: [DONE]\n\n"))
}

// gemini streams streamGenerateContent?alt=sse: a candidate per text chunk,
// one per functionCall, then a STOP chunk with usage.
func (m *Mock) gemini(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.PathValue("model"), ":streamGenerateContent") {
		http.NotFound(w, r)
		return
	}
	rep, err := m.pop(r.Context(), "gemini", r)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	s := &streamer{w: w}
	send := func(parts []any, finish string) bool {
		cand := map[string]any{"index": 0, "content": map[string]any{"role": "model", "parts": parts}}
		v := map[string]any{"candidates": []any{cand}, "modelVersion": "mock"}
		if finish != "" {
			cand["finishReason"] = finish
			v["usageMetadata"] = map[string]any{"promptTokenCount": 1, "candidatesTokenCount": len(rep.text) + len(rep.calls), "totalTokenCount": 1 + len(rep.text) + len(rep.calls)}
		}
		return s.write([]byte("data: " + string(mustJSON(v)) + "\r\n\r\n"))
	}
	for _, t := range rep.text {
		if !send([]any{map[string]any{"text": t}}, "") {
			return
		}
	}
	for _, c := range rep.calls {
		if !send([]any{map[string]any{"functionCall": map[string]any{"name": c.Name, "args": json.RawMessage(c.Arguments)}}}, "") {
			return
		}
	}
	send([]any{map[string]any{"text": ""}}, "STOP")
}

// bedrock answers the non-streaming Converse API, one content block per
// text chunk so that the agent can still forward each chunk as a frame.
func (m *Mock) bedrock(w http.ResponseWriter, r *http.Request) {
	rep, err := m.pop(r.Context(), "bedrock", r)
	if err != nil {
		fail(w, err)
		return
	}
	content := []any{}
	for _, t := range rep.text {
		content = append(content, map[string]any{"text": t})
	}
	for _, c := range rep.calls {
		content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": c.ID, "name": c.Name, "input": json.RawMessage(c.Arguments)}})
	}
	stop := "end_turn"
	if len(rep.calls) > 0 {
		stop = "tool_use"
	}
	n := len(rep.text) + len(rep.calls)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stop,
		"usage":      map[string]any{"inputTokens": 1, "outputTokens": n, "totalTokens": 1 + n},
		"metrics":    map[string]any{"latencyMs": 1},
	}))
}
