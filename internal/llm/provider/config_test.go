package provider

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		reason error
		detail string
		check  func(Config) bool
	}{
		{"no ACTIVE_LLM", map[string]string{}, ErrNotConfigured, "ACTIVE_LLM", nil},
		{"unknown provider", map[string]string{"ACTIVE_LLM": "claude"}, ErrNotConfigured, `"claude"`, nil},
		{"no model", map[string]string{"ACTIVE_LLM": "generic-openai"}, ErrModelNotConfigured, "GENERIC_OPENAI_MODEL", nil},
		{"ollama needs URL", map[string]string{"ACTIVE_LLM": "ollama", "OLLAMA_MODEL": "m"}, ErrMissingSetting, "OLLAMA_URL", nil},
		{"openai needs key", map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "m"}, ErrMissingSetting, "OPENAI_API_KEY", nil},
		{"generic needs key and URL", map[string]string{"ACTIVE_LLM": "generic-openai", "GENERIC_OPENAI_MODEL": "m"}, ErrMissingSetting, "GENERIC_OPENAI_API_KEY, GENERIC_OPENAI_URL", nil},
		{"gemini needs key", map[string]string{"ACTIVE_LLM": "gemini", "GEMINI_MODEL": "m"}, ErrMissingSetting, "GOOGLE_API_KEY", nil},
		{"bedrock needs a region", map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m"}, ErrMissingSetting, "needs AWS_REGION.", nil},
		{"bad URL", map[string]string{"ACTIVE_LLM": "ollama", "OLLAMA_MODEL": "m", "OLLAMA_URL": "localhost:11434"}, ErrMissingSetting, "not an absolute", nil},
		{"mock needs URL", map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "m", "LLM_MOCK_ENABLED": "true"}, ErrMissingSetting, "LLM_MOCK_URL", nil},
		{"openai with URL", map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "gpt-4o", "OPENAI_API_KEY": "k", "OPENAI_URL": "https://proxy/v1"}, nil, "",
			func(c Config) bool { return c.BaseURL == "https://proxy/v1" && c.APIKey == "k" && c.Model == "gpt-4o" }},
		{"mock overrides URL, relaxes key", map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m", "LLM_MOCK_ENABLED": "true", "LLM_MOCK_URL": "http://llm-mock"}, nil, "",
			func(c Config) bool { return c.Mock && c.BaseURL == "http://llm-mock" && c.Region != "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.reason == nil {
				if err != nil || !tc.check(c) {
					t.Fatalf("config %v err %v", c, err)
				}
				return
			}
			var ce *ConfigError
			if !errors.Is(err, tc.reason) || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("err %v, want %v mentioning %q", err, tc.reason, tc.detail)
			}
			if !strings.HasPrefix(err.Error(), tc.reason.Error()) {
				t.Fatalf("err %q does not start with the Python message", err)
			}
		})
	}
}

func TestConfigStringRedactsKey(t *testing.T) {
	c := Config{Provider: "openai", APIKey: "sk-very-secret", BaseURL: "https://user:pw@h/v1?key=q"}
	s := c.String()
	for _, leak := range []string{"sk-very-secret", "pw", "key=q"} {
		if strings.Contains(s, leak) {
			t.Fatalf("%q leaks %q", s, leak)
		}
	}
}

func TestFromEnvBuildsEveryProvider(t *testing.T) {
	for _, p := range Providers() {
		env := map[string]string{"ACTIVE_LLM": p, modelVar(p): "m", "OLLAMA_URL": "http://o:11434", "OPENAI_API_KEY": "k",
			"GENERIC_OPENAI_API_KEY": "k", "GENERIC_OPENAI_URL": "http://g/v1", "GOOGLE_API_KEY": "k", "AWS_REGION": "eu-west-1", "AWS_BEARER_TOKEN_BEDROCK": "t"}
		m, c, err := FromEnv(func(k string) string { return env[k] })
		if err != nil || m == nil || c.Provider != p {
			t.Fatalf("%s: %v %v", p, m, err)
		}
	}
}

// TestConfigModelFallback: MODEL is read when <PROVIDER>_MODEL is unset, as
// the Python agent does; the provider's own variable wins.
func TestConfigModelFallback(t *testing.T) {
	env := map[string]string{"ACTIVE_LLM": "ollama", "OLLAMA_URL": "http://127.0.0.1:11434", "MODEL": "qwen3"}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Model != "qwen3" {
		t.Fatalf("MODEL fallback: %+v %v", c, err)
	}
	env["OLLAMA_MODEL"] = "llama3"
	if c, err = ConfigFromEnv(func(k string) string { return env[k] }); err != nil || c.Model != "llama3" {
		t.Fatalf("OLLAMA_MODEL wins: %+v %v", c, err)
	}
}
