package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rancher/ai-agent/internal/httpapi"
)

// completeUITools serves POST /v1/api/complete/ui-tools (ui-protocol §3.4):
// body {prompt, context: [{tag, value, ...}], tools: {name, tools}} →
// [{toolName, input}].
func (s *Server) completeUITools(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt  string `json:"prompt"`
		Context []struct {
			Tag   string          `json:"tag"`
			Value json.RawMessage `json:"value"`
		} `json:"context"`
		Tools *struct {
			Name  string   `json:"name"`
			Tools []string `json:"tools"`
		} `json:"tools"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Body must be JSON {prompt, context, tools}"})
		return
	}
	if body.Tools == nil || body.Tools.Name == "" {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Missing tools.name"})
		return
	}
	var ctx []string
	for _, c := range body.Context {
		ctx = append(ctx, fmt.Sprintf("%s: %s", c.Tag, strings.Trim(string(c.Value), `"`)))
	}
	picks, err := s.o.Runner.CompleteUITools(r.Context(), body.Prompt, strings.Join(ctx, "\n"), body.Tools.Tools)
	if err != nil {
		s.log.Warn("ui-tools completion failed", "error", err)
		httpapi.WriteJSON(w, http.StatusBadGateway, map[string]string{"detail": "The model did not answer"})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, picks)
}
