package uitools

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/rancher/ai-agent/internal/llm"
)

// Document is the JSON of the ConfigMap's data.config.
type Document struct {
	Config struct {
		SystemPrompt string `json:"systemPrompt"`
		Enabled      *bool  `json:"enabled"`
		MaxTools     int    `json:"maxTools"`
	} `json:"config"`
	Tools []Tool `json:"tools"`
}

// Tool is one UI tool definition.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Prompt      string          `json:"prompt"`
	Category    string          `json:"category"`
	Enabled     *bool           `json:"enabled"`
	Schema      json.RawMessage `json:"schema"`
}

// Selection is what the selector model call needs.
type Selection struct {
	System   string
	Tools    []llm.Tool
	MaxTools int
}

// Registry holds the current document, replaced as a whole on reload.
// The zero value has no tools.
type Registry struct {
	mu  sync.RWMutex
	doc *Document
}

// Parse reads a document.
func Parse(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("ui tools: %w", err)
	}
	for i, t := range d.Tools {
		if t.Name == "" {
			return nil, fmt.Errorf("ui tools: tool %d has no name", i)
		}
	}
	return &d, nil
}

// LoadFile reads a document from a file into a new registry.
func LoadFile(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ui tools: %w", err)
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &Registry{}
	r.Set(d)
	return r, nil
}

// Set replaces the document (nil clears it).
func (r *Registry) Set(d *Document) {
	r.mu.Lock()
	r.doc = d
	r.mu.Unlock()
}

// Select returns the enabled tools among allowed (all when allowed is
// empty), or ok=false when there is nothing to select from.
func (r *Registry) Select(allowed []string) (Selection, bool) {
	if r == nil {
		return Selection{}, false
	}
	r.mu.RLock()
	d := r.doc
	r.mu.RUnlock()
	if d == nil || (d.Config.Enabled != nil && !*d.Config.Enabled) {
		return Selection{}, false
	}
	sel := Selection{System: d.Config.SystemPrompt, MaxTools: d.Config.MaxTools}
	if sel.MaxTools <= 0 {
		sel.MaxTools = 10
	}
	if sel.System == "" {
		sel.System = "After the assistant's answer, pick the UI tools that help the user act on it. Call each tool you pick with its inputs; pick none if none helps."
	}
	for _, t := range d.Tools {
		if (t.Enabled != nil && !*t.Enabled) || (len(allowed) > 0 && !slices.Contains(allowed, t.Name)) {
			continue
		}
		schema := t.Schema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		} else if !hasType(schema) {
			schema = withObjectType(schema)
		}
		desc := t.Description
		if t.Prompt != "" {
			desc += "\n" + t.Prompt
		}
		sel.Tools = append(sel.Tools, llm.Tool{Name: t.Name, Description: desc, InputSchema: schema})
	}
	return sel, len(sel.Tools) > 0
}

// hasType reports whether a schema names its type.
func hasType(schema json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(schema, &m) == nil && m["type"] != nil
}

// withObjectType adds "type":"object" (the UI's schemas only list properties).
func withObjectType(schema json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(schema, &m) != nil {
		return json.RawMessage(`{"type":"object"}`)
	}
	m["type"] = json.RawMessage(`"object"`)
	b, _ := json.Marshal(m)
	return b
}
