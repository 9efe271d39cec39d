package provider

import (
	"cmp"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/outbound"
)

// Provider names, as ACTIVE_LLM spells them.
const (
	ProviderOllama        = "ollama"
	ProviderOpenAI        = "openai"
	ProviderGenericOpenAI = "generic-openai"
	ProviderGemini        = "gemini"
	ProviderBedrock       = "bedrock"
)

// Providers lists the valid ACTIVE_LLM values.
func Providers() []string {
	return []string{ProviderOllama, ProviderGemini, ProviderOpenAI, ProviderBedrock, ProviderGenericOpenAI}
}

// Config selects and configures one provider. FromEnv fills it from the
// Python agent's variables; tests build it directly.
type Config struct {
	// Provider is an ACTIVE_LLM value.
	Provider string
	// Model is the default model; Request.Model overrides it per call.
	Model string
	// BaseURL is the API root: OLLAMA_URL, OPENAI_URL, GENERIC_OPENAI_URL, the
	// Bedrock endpoint override, or LLM_MOCK_URL in mock mode. Empty selects
	// the provider's public endpoint.
	BaseURL string
	// APIKey is OPENAI_API_KEY, GENERIC_OPENAI_API_KEY, GOOGLE_API_KEY or
	// AWS_BEARER_TOKEN_BEDROCK. Never logged: see String.
	APIKey string
	// Region is AWS_REGION (bedrock).
	Region string
	// AWSKeys are AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN (bedrock without an API key): Bedrock requests are
	// then signed with SigV4. Never logged: see String.
	AWSKeys AWSKeys
	// AWSCredentials, when set, signs Bedrock requests (SigV4) instead of
	// AWSKeys; with neither, and no API key, the AWS SDK's default chain
	// is loaded (shared config and credentials files with AWS_PROFILE, web
	// identity as EKS IRSA and pod identity set it, ECS, EC2 instance role).
	AWSCredentials aws.CredentialsProvider
	// Mock is LLM_MOCK_ENABLED: BaseURL points at rancher-ai-llm-mock.
	Mock bool
	// HTTPClient replaces newHTTPClientVia(IdleTimeout, Network) (tests,
	// benchmarks). Every provider's SDK (openai-go, genai, the AWS SDK)
	// is given this client, so none builds its own.
	HTTPClient *http.Client
	// Network is the proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, read once
	// by the wiring) and resolver of the default client.
	Network outbound.Network
	// IdleTimeout bounds silence inside a stream (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Retry bounds retries before the first event (default DefaultRetry()).
	Retry RetryPolicy
}

// String describes c for logs, with the key redacted.
func (c Config) String() string {
	key := "unset"
	switch {
	case c.APIKey != "":
		key = "set"
	case c.AWSKeys.ID != "" || c.AWSCredentials != nil:
		key = "aws-credentials"
	}
	return fmt.Sprintf("provider=%s model=%s baseURL=%s region=%s mock=%t key=%s",
		c.Provider, c.Model, redactURL(c.BaseURL), c.Region, c.Mock, key)
}

// modelVar is the variable holding the model of provider p: "-" becomes "_",
// upper-cased, plus _MODEL (generic-openai → GENERIC_OPENAI_MODEL).
func modelVar(p string) string {
	return strings.ToUpper(strings.ReplaceAll(p, "-", "_")) + "_MODEL"
}

// ConfigFromEnv reads the Python agent's selection rules (upstream §6.1):
// ACTIVE_LLM picks the provider, <PROVIDER>_MODEL the model, and each
// provider needs its own settings. LLM_MOCK_ENABLED=true points the provider
// at LLM_MOCK_URL and no longer requires a key. Errors wrap ErrNotConfigured,
// ErrModelNotConfigured or ErrMissingSetting and name the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{Provider: get("ACTIVE_LLM")}
	switch c.Provider {
	case ProviderOllama, ProviderGemini, ProviderOpenAI, ProviderBedrock, ProviderGenericOpenAI:
	case "":
		return c, &ConfigError{Reason: ErrNotConfigured, Detail: "Set ACTIVE_LLM to one of " + strings.Join(Providers(), ", ") + "."}
	default:
		return c, &ConfigError{Reason: ErrNotConfigured, Detail: fmt.Sprintf("ACTIVE_LLM=%q is not one of %s.", c.Provider, strings.Join(Providers(), ", "))}
	}
	// MODEL is the Python agent's fallback (its llmModel chart value).
	if c.Model = cmp.Or(get(modelVar(c.Provider)), get("MODEL")); c.Model == "" {
		return c, &ConfigError{Reason: ErrModelNotConfigured, Detail: "Set " + modelVar(c.Provider) + " (or MODEL)."}
	}
	switch mock := strings.ToLower(get("LLM_MOCK_ENABLED")); mock {
	case "true", "1", "yes":
		c.Mock = true
	}
	var need []string
	require := func(name, v string, relaxInMock bool) string {
		if v == "" && !(relaxInMock && c.Mock) {
			need = append(need, name)
		}
		return v
	}
	switch c.Provider {
	case ProviderOllama:
		c.BaseURL = require("OLLAMA_URL", get("OLLAMA_URL"), c.Mock)
	case ProviderOpenAI:
		c.APIKey = require("OPENAI_API_KEY", get("OPENAI_API_KEY"), true)
		c.BaseURL = get("OPENAI_URL")
	case ProviderGenericOpenAI:
		c.APIKey = require("GENERIC_OPENAI_API_KEY", get("GENERIC_OPENAI_API_KEY"), true)
		c.BaseURL = require("GENERIC_OPENAI_URL", get("GENERIC_OPENAI_URL"), c.Mock)
	case ProviderGemini:
		c.APIKey = require("GOOGLE_API_KEY", get("GOOGLE_API_KEY"), true)
	case ProviderBedrock:
		c.Region = require("AWS_REGION", get("AWS_REGION"), c.Mock)
		// The Bedrock API key first; else AWS credentials (SigV4): these
		// keys, or the SDK's default chain when they are unset (newBedrock).
		c.APIKey = get("AWS_BEARER_TOKEN_BEDROCK")
		c.AWSKeys = AWSKeys{ID: get("AWS_ACCESS_KEY_ID"), Secret: get("AWS_SECRET_ACCESS_KEY"), Session: get("AWS_SESSION_TOKEN")}
		if (c.AWSKeys.ID == "") != (c.AWSKeys.Secret == "") {
			need = append(need, "both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (one of them is set)")
		}
		// A private endpoint (PrivateLink, a gateway): upstream's
		// BEDROCK_URL (rancher-ai-agent#206), else the AWS SDK's own
		// service-specific and global endpoint variables.
		c.BaseURL = cmp.Or(get("BEDROCK_URL"), get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"), get("AWS_ENDPOINT_URL"))
	}
	if c.Mock {
		if c.BaseURL = get("LLM_MOCK_URL"); c.BaseURL == "" {
			need = append(need, "LLM_MOCK_URL")
		}
		if c.Region == "" {
			c.Region = "us-east-1"
		}
	}
	if len(need) > 0 {
		return c, &ConfigError{Reason: ErrMissingSetting, Detail: fmt.Sprintf("ACTIVE_LLM=%s needs %s.", c.Provider, strings.Join(need, ", "))}
	}
	if c.BaseURL != "" {
		if err := checkBaseURL(c.BaseURL); err != nil {
			return c, err
		}
	}
	return c, nil
}

// FromEnv builds the Model the environment selects (see ConfigFromEnv).
func FromEnv(getenv func(string) string) (llm.Model, Config, error) {
	c, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, c, err
	}
	m, err := New(c)
	return m, c, err
}

// New builds the Model of c.Provider.
func New(c Config) (llm.Model, error) {
	if c.HTTPClient == nil {
		c.HTTPClient = newHTTPClientVia(c.IdleTimeout, c.Network)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch c.Provider {
	case ProviderOllama:
		return newOllama(c)
	case ProviderOpenAI, ProviderGenericOpenAI:
		return newOpenAI(c)
	case ProviderGemini:
		return newGemini(c)
	case ProviderBedrock:
		return newBedrock(c)
	}
	return nil, &ConfigError{Reason: ErrNotConfigured, Detail: fmt.Sprintf("unknown provider %q.", c.Provider)}
}

// checkBaseURL rejects a base URL that is not absolute http(s), so a typo is
// reported at start rather than on the first chat.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ConfigError{Reason: ErrMissingSetting, Detail: fmt.Sprintf("base URL %q is not an absolute http(s) URL.", redactURL(raw))}
	}
	return nil
}

// redactURL drops user info and query, which may carry credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
