package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/server"
)

// env is the process environment as a plain struct: the variables of the
// Python agent (spec/upstream-agent.md §7.1) that this build uses.
type env struct {
	LogLevel        string
	RancherURL      string
	RancherAPIToken string
	InsecureSkipTLS bool
	MCPURL          string
	ActiveLLM       string
	LLMMockEnabled  bool
	LLMMockURL      string
	ShutdownGrace   time.Duration
	// OAuthRedirectURI overrides the OAuth callback URL.
	OAuthRedirectURI string
	// OAuthKey is OAUTH_ENCRYPTION_KEY: comma-separated base64 keys of 32
	// bytes that seal stored tokens and cookies; the first seals, all open.
	// Without it (and no generated key, see oauthKeys) OAUTH2 agents are
	// unavailable.
	OAuthKey string
	// OAuthClientMetadataURL is the https URL of our Client ID Metadata
	// Document, used as client_id with authorization servers that support it.
	OAuthClientMetadataURL string
	// Summarization is SUMMARIZATION_MESSAGES, _TOKENS and _KEEP (0: the
	// agent's defaults, 30, 30,000 and 15).
	Summarization agent.Summarization
	// MaxChatsPerUser is MAX_CHATS_PER_USER: open WebSockets per user.
	MaxChatsPerUser int
}

func readEnv(getenv func(string) string) (env, error) {
	e := env{
		LogLevel:               getenv("LOG_LEVEL"),
		RancherURL:             strings.TrimRight(getenv("RANCHER_URL"), "/"),
		RancherAPIToken:        getenv("RANCHER_API_TOKEN"),
		MCPURL:                 getenv("MCP_URL"),
		ActiveLLM:              getenv("ACTIVE_LLM"),
		LLMMockURL:             getenv("LLM_MOCK_URL"),
		ShutdownGrace:          10 * time.Second,
		OAuthRedirectURI:       getenv("OAUTH_REDIRECT_URI"),
		OAuthKey:               getenv("OAUTH_ENCRYPTION_KEY"),
		OAuthClientMetadataURL: getenv("OAUTH_CLIENT_METADATA_URL"),
	}
	var err error
	if e.InsecureSkipTLS, err = boolEnv(getenv, "INSECURE_SKIP_TLS"); err != nil {
		return e, err
	}
	if e.LLMMockEnabled, err = boolEnv(getenv, "LLM_MOCK_ENABLED"); err != nil {
		return e, err
	}
	e.MaxChatsPerUser = server.DefaultMaxChatsPerUser
	for name, dst := range map[string]*int{
		"SUMMARIZATION_MESSAGES": &e.Summarization.Messages,
		"SUMMARIZATION_TOKENS":   &e.Summarization.Tokens,
		"SUMMARIZATION_KEEP":     &e.Summarization.Keep,
		"MAX_CHATS_PER_USER":     &e.MaxChatsPerUser,
	} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 1 {
				return e, fmt.Errorf("%s=%q: want a positive whole number", name, v)
			}
		}
	}
	if v := getenv("SHUTDOWN_GRACE"); v != "" {
		if e.ShutdownGrace, err = time.ParseDuration(v); err != nil {
			return e, fmt.Errorf("SHUTDOWN_GRACE: %w", err)
		}
	}
	return e, nil
}

func boolEnv(getenv func(string) string, name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(getenv(name))) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want true or false", name, getenv(name))
	}
}
