package modeltext

import (
	"bytes"
	"encoding/json"
)

// EscapeJSON returns valid JSON with "<" and ">" written as \u003c and
// \u003e; they can only occur inside strings, so the value is the same for
// any JSON parser, and no text inside it can look like a tag of the
// protocol (a tool's uiContext, a plan). Anything else is returned
// unchanged.
func EscapeJSON(b []byte) []byte {
	if !bytes.ContainsAny(b, "<>") || !json.Valid(b) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("<"), []byte(`\u003c`))
	return bytes.ReplaceAll(b, []byte(">"), []byte(`\u003e`))
}
