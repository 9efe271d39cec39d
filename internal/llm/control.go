package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"sigs.k8s.io/yaml"
)

// maxPushBody bounds the size of a control push body.
const maxPushBody = 1 << 20

// pushBody is a rancher-ai-llm-mock push body. It covers both shapes: the
// old one (top-level agent and mcpTool) and the new one (agentResponses).
type pushBody struct {
	Agent          *string         `json:"agent,omitempty"`
	Text           *pushText       `json:"text,omitempty"`
	MCPTool        *ScriptedCall   `json:"mcpTool,omitempty"`
	UITools        []ScriptedCall  `json:"uiTools,omitempty"`
	AgentResponses []agentResponse `json:"agentResponses,omitempty"`
}

type pushText struct {
	Chunks []string `json:"chunks"`
}

type agentResponse struct {
	Agent   *string       `json:"agent,omitempty"`
	MCPTool *ScriptedCall `json:"mcpTool,omitempty"`
}

// entries splits a push body into queue entries: for each routing step the
// agent name text and then the MCP tool call, then the text chunks, then one
// entry with all UI tool calls.
func (b pushBody) entries() ([]Entry, error) {
	var steps []agentResponse
	var labels []string
	if b.Agent != nil || b.MCPTool != nil {
		steps = append(steps, agentResponse{Agent: b.Agent, MCPTool: b.MCPTool})
		labels = append(labels, "mcpTool")
	}
	for i, st := range b.AgentResponses {
		steps = append(steps, st)
		labels = append(labels, fmt.Sprintf("agentResponses[%d].mcpTool", i))
	}
	var out []Entry
	hasTool := false
	for i, st := range steps {
		if st.Agent != nil && *st.Agent != "" {
			out = append(out, TextEntry(*st.Agent))
		}
		if st.MCPTool == nil {
			continue
		}
		calls, err := mcpCalls(*st.MCPTool)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", labels[i], err)
		}
		out = append(out, Entry{ToolCalls: calls})
		hasTool = true
	}
	hasText := b.Text != nil && len(b.Text.Chunks) > 0
	if !hasText && !hasTool {
		return nil, errors.New("either text.chunks or a complete mcpTool is required")
	}
	if hasText {
		out = append(out, TextEntry(b.Text.Chunks...))
	}
	if len(b.UITools) > 0 {
		for i, t := range b.UITools {
			if t.Name == "" {
				return nil, fmt.Errorf("uiTools[%d]: name is required", i)
			}
		}
		out = append(out, Entry{ToolCalls: append([]ScriptedCall(nil), b.UITools...)})
	}
	return out, nil
}

// mcpCalls expands an mcpTool whose args is an object or an array of objects
// (several calls of the same tool in one response).
func mcpCalls(t ScriptedCall) ([]ScriptedCall, error) {
	if t.Name == "" {
		return nil, errors.New("name is required")
	}
	args := bytes.TrimSpace(t.Args)
	if len(args) == 0 || args[0] != '[' {
		return []ScriptedCall{t}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(args, &list); err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	calls := make([]ScriptedCall, len(list))
	for i, a := range list {
		calls[i] = ScriptedCall{Name: t.Name, Args: a}
	}
	return calls, nil
}

// PushEntries parses one push body (JSON) into queue entries.
func PushEntries(body []byte) ([]Entry, error) {
	var b pushBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("push body: %w", err)
	}
	return b.entries()
}

// ParseScript reads a YAML or JSON list of push bodies (either shape) and
// returns their queue entries in order.
func ParseScript(r io.Reader) ([]Entry, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parse script: %w", err)
	}
	var bodies []json.RawMessage
	if err := json.Unmarshal(js, &bodies); err != nil {
		return nil, fmt.Errorf("parse script: want a list of push bodies: %w", err)
	}
	var out []Entry
	for i, b := range bodies {
		e, err := PushEntries(b)
		if err != nil {
			return nil, fmt.Errorf("script item %d: %w", i+1, err)
		}
		out = append(out, e...)
	}
	return out, nil
}

// ControlHandler serves the rancher-ai-llm-mock control API on s:
// POST /v1/control/push and POST /v1/control/clear, both 204 on success.
func (s *Scripted) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/control/push", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBody))
		if err != nil {
			writeDetail(w, http.StatusBadRequest, "cannot read body: "+err.Error())
			return
		}
		entries, err := PushEntries(body)
		if err != nil {
			writeDetail(w, http.StatusBadRequest, err.Error())
			return
		}
		s.Push(entries...)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/control/clear", func(w http.ResponseWriter, _ *http.Request) {
		s.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeDetail(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}
