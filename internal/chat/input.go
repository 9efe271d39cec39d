package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// frameKind tells what a client frame is.
type frameKind int

// Kinds of client frame.
const (
	kindPrompt  frameKind = iota
	kindReply             // authentication_confirmed, authentication_canceled, token_refresh_confirmed
	kindStop              // <stop>
	kindInvalid           // could not be understood; Err says why
)

// UITools names the UI-tools config and the tools the UI offers.
type UITools struct {
	Name  string   `json:"name"`
	Tools []string `json:"tools,omitempty"`
}

// ContextEntry is one key of the prompt's context, in the order sent.
type ContextEntry struct {
	Key   string
	Value json.RawMessage
}

// Prompt is a parsed user prompt.
type Prompt struct {
	// Text is the prompt as the model sees it: the user input plus the
	// context suffix.
	Text string
	// UserInput is what the user typed (empty for plain-text frames, as in
	// the Python agent).
	UserInput string
	Context   []ContextEntry
	Agent     string
	Tools     *UITools
	Labels    map[string]string
	Tags      []string
}

// HasTag reports whether the prompt carries the tag.
func (p Prompt) HasTag(t string) bool {
	for _, x := range p.Tags {
		if x == t {
			return true
		}
	}
	return false
}

// ContextMap returns the context as a map (for storage).
func (p Prompt) ContextMap() map[string]json.RawMessage {
	if len(p.Context) == 0 {
		return nil
	}
	m := make(map[string]json.RawMessage, len(p.Context))
	for _, e := range p.Context {
		m[e.Key] = e.Value
	}
	return m
}

// clientFrame is one parsed client frame.
type clientFrame struct {
	Kind   frameKind
	Reply  string // for kindReply
	Prompt Prompt // for kindPrompt
	Err    error  // for kindInvalid
}

// errInvalidFrame is matched by the Err of a kindInvalid frame.
var errInvalidFrame = errors.New("invalid frame")

// contextSuffix is the Python agent's CONTEXT_PARAMETERS_SUFFIX and the text
// that follows it, byte for byte, so the model sees the same prompt.
const contextSuffix = "\n\n  Use the following parameters to populate tool calls when appropriate. \n" +
	"Only include parameters relevant to the user's request " +
	"(e.g., omit namespace for cluster-wide operations). \n" +
	"Parameters (separated by ;): \n "

type wirePrompt struct {
	Prompt  *string           `json:"prompt"`
	Context json.RawMessage   `json:"context"`
	Agent   string            `json:"agent"`
	Tools   *UITools          `json:"tools"`
	Labels  map[string]string `json:"labels"`
	Tags    []string          `json:"tags"`
}

// parseFrame classifies and parses one text frame from the browser.
func parseFrame(text string) clientFrame {
	switch text {
	case ReplyAuthConfirmed, ReplyAuthCanceled, ReplyRefreshConfirmed:
		return clientFrame{Kind: kindReply, Reply: text}
	case ReplyStop:
		return clientFrame{Kind: kindStop}
	}
	trimmed := strings.TrimSpace(text)
	if !strings.HasPrefix(trimmed, "{") {
		if trimmed == "" {
			return invalid("empty prompt")
		}
		// Plain text prompt, as the Python agent takes it.
		return clientFrame{Kind: kindPrompt, Prompt: Prompt{Text: text}}
	}
	if !json.Valid([]byte(trimmed)) {
		// Not JSON after all: the whole text is the prompt.
		return clientFrame{Kind: kindPrompt, Prompt: Prompt{Text: text}}
	}
	var w wirePrompt
	if err := json.Unmarshal([]byte(trimmed), &w); err != nil {
		return invalid(fmt.Sprintf("malformed prompt: %v", err))
	}
	if w.Prompt == nil {
		return invalid(`malformed prompt: missing "prompt"`)
	}
	ctx, err := parseContext(w.Context)
	if err != nil {
		return invalid(fmt.Sprintf("malformed prompt: context: %v", err))
	}
	p := Prompt{
		UserInput: *w.Prompt, Context: ctx, Agent: w.Agent,
		Tools: w.Tools, Labels: w.Labels, Tags: w.Tags,
	}
	p.Text = p.UserInput + renderContext(ctx)
	if strings.TrimSpace(p.UserInput) == "" {
		return invalid("empty prompt")
	}
	return clientFrame{Kind: kindPrompt, Prompt: p}
}

func invalid(msg string) clientFrame {
	return clientFrame{Kind: kindInvalid, Err: fmt.Errorf("%w: %s", errInvalidFrame, msg)}
}

// parseContext reads a JSON object keeping its key order (the model prompt
// lists the keys in the order the UI sent them).
func parseContext(raw json.RawMessage) ([]ContextEntry, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []ContextEntry
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		// The UI builds the object from [{tag, value}]; the last entry wins.
		replaced := false
		for i := range out {
			if out[i].Key == key {
				out[i].Value, replaced = v, true
			}
		}
		if !replaced {
			out = append(out, ContextEntry{Key: key, Value: v})
		}
	}
	return out, nil
}

func renderContext(ctx []ContextEntry) string {
	if len(ctx) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ctx))
	for _, e := range ctx {
		var s string
		if err := json.Unmarshal(e.Value, &s); err != nil {
			s = string(e.Value)
		}
		parts = append(parts, e.Key+":"+s)
	}
	return contextSuffix + strings.Join(parts, ";") + ";"
}
