package modeltext

import (
	"bytes"
	"encoding/json"
)

// EscapeJSON returns valid JSON with "<", ">" and "&" (and U+2028/2029)
// written as \u escapes; they can only occur inside strings, so the value
// is the same for any JSON parser, and no text inside it can look like a
// tag of the protocol (a tool's uiContext, a plan). Anything else is
// returned unchanged.
func EscapeJSON(b []byte) []byte {
	if !json.Valid(b) || bytes.IndexAny(b, "<>&\u2028\u2029") < 0 {
		return b
	}
	var out bytes.Buffer
	json.HTMLEscape(&out, b)
	return out.Bytes()
}
