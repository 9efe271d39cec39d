package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/llm/provider"
	"github.com/rancher/ai-agent/internal/outbound"
)

// chooseModel returns the model that ACTIVE_LLM (or --script) selects and
// the extra routes it serves. ACTIVE_LLM=scripted or --script plays back a
// script and serves the mock's control API; any other value builds the
// provider from the environment with the Python agent's rules
// (provider.ConfigFromEnv); a missing or wrong setting gives llm.Unavailable,
// whose error names the variable to fix.
func chooseModel(e env, se serveEnv, script string) (llm.Model, map[string]http.Handler, error) {
	if script == "" && e.ActiveLLM != "scripted" {
		err := se.ProviderErr
		var m llm.Model
		if err == nil {
			m, err = provider.New(se.Provider)
		}
		if err != nil {
			// Keep serving, so the UI can reach Settings: every chat shows
			// the error in <chat-error> (and it is logged at start).
			return llm.Unavailable{Err: err}, map[string]http.Handler{}, nil
		}
		return m, map[string]http.Handler{}, nil
	}
	m := llm.NewScripted()
	if script != "" {
		f, err := os.Open(script)
		if err != nil {
			return nil, nil, fmt.Errorf("script: %w", err)
		}
		defer f.Close()
		entries, err := llm.ParseScript(f)
		if err != nil {
			return nil, nil, fmt.Errorf("script %s: %w", script, err)
		}
		m.Push(entries...)
	}
	return m, map[string]http.Handler{"/v1/control/": m.ControlHandler()}, nil
}

// modelsRoutes returns the model catalog route (upstream §2.3), to be
// mounted behind the user check. The Ollama URL is user input, so its fetch
// goes through the outbound client that refuses link-local and metadata
// addresses.
func modelsRoutes(e env, log *slog.Logger) map[string]http.Handler {
	return map[string]http.Handler{"GET /v1/api/llm/{provider}/models": provider.CatalogHandler(provider.CatalogOptions{
		Client: outbound.NewClient(outbound.Options{InsecureSkipTLS: e.InsecureSkipTLS, Network: e.Network}),
		Logger: log,
	})}
}
