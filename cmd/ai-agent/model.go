package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/rancher/ai-agent/internal/llm"
)

// chooseModel returns the model that ACTIVE_LLM (or --script) selects and
// the extra routes it serves.
func chooseModel(e env, getenv func(string) string, script string) (llm.Model, map[string]http.Handler, error) {
	if script == "" && e.ActiveLLM != "scripted" {
		if e.ActiveLLM == "" {
			return nil, nil, errors.New("LLM not configured: set ACTIVE_LLM (this build supports ACTIVE_LLM=scripted, or --script FILE)")
		}
		return nil, nil, fmt.Errorf("ACTIVE_LLM=%q: provider not available in this build (use ACTIVE_LLM=scripted or --script FILE)", e.ActiveLLM)
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
