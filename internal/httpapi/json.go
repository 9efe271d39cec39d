package httpapi

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers code with v encoded as JSON. Answers are never cached
// (Cache-Control: no-store): they belong to one user.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
