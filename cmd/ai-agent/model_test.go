package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/llm/provider"
)

func TestChooseModelReportsMissingSettingAtStart(t *testing.T) {
	env := map[string]string{"ACTIVE_LLM": "gemini"}
	getenv := func(k string) string { return env[k] }
	unavailable := func() error {
		m, _, err := chooseModel(env2(t, getenv), serveEnv2(t, getenv), "")
		if err != nil {
			t.Fatal(err)
		}
		u, ok := m.(llm.Unavailable)
		if !ok {
			t.Fatalf("model %T, want llm.Unavailable", m)
		}
		return u.Err
	}
	if err := unavailable(); !errors.Is(err, provider.ErrModelNotConfigured) || !strings.Contains(err.Error(), "GEMINI_MODEL") {
		t.Fatalf("err %v", err)
	}
	env["GEMINI_MODEL"] = "gemini-2.5-flash"
	if err := unavailable(); !errors.Is(err, provider.ErrMissingSetting) || !strings.Contains(err.Error(), "GOOGLE_API_KEY") {
		t.Fatalf("err %v", err)
	}
	env["GOOGLE_API_KEY"] = "k"
	m, extra, err := chooseModel(env2(t, getenv), serveEnv2(t, getenv), "")
	if _, broken := m.(llm.Unavailable); err != nil || broken || len(extra) != 0 {
		t.Fatalf("model %v extra %v err %v", m, extra, err)
	}
	env["ACTIVE_LLM"] = "scripted"
	if _, extra, err = chooseModel(env2(t, getenv), serveEnv2(t, getenv), ""); err != nil || extra["/v1/control/"] == nil {
		t.Fatalf("scripted: %v %v", extra, err)
	}
}

func env2(t *testing.T, getenv func(string) string) env {
	e, err := readEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func serveEnv2(t *testing.T, getenv func(string) string) serveEnv {
	se, err := readServeEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return se
}
