package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ToolNames is a list of MCP tool names. It also reads the Python agent's
// older CRD, where each entry was an object {name, type: CREATE|UPDATE|DELETE}:
// such an entry counts as its name. Once this CRD replaces that one, the API
// server prunes those objects' fields on read (the schema says string), so
// they arrive as {}: they are skipped, so that listing agents keeps working
// (the built-in agents get their confirmations back from the controller).
type ToolNames []string

// UnmarshalJSON reads ["a", "b"] and [{"name": "a", "type": "CREATE"}].
func (t *ToolNames) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*t = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("tool names: %w", err)
	}
	out := make(ToolNames, 0, len(raw))
	for i, r := range raw {
		var name string
		if err := json.Unmarshal(r, &name); err == nil {
			out = append(out, name)
			continue
		}
		var legacy struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(r, &legacy); err != nil {
			return fmt.Errorf("tool names: entry %d is neither a name nor an object", i)
		}
		if legacy.Name != "" {
			out = append(out, legacy.Name)
		}
	}
	*t = out
	return nil
}
