package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/llm/provider"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/outbound"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/telemetry"
)

// env is the process environment as a plain struct: the variables of the
// Python agent (spec/upstream-agent.md §7.1) that this build uses.
type env struct {
	// LogLevel and LogFormat are LOG_LEVEL and LOG_FORMAT, checked.
	LogLevel        slog.Level
	LogFormat       string
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
	// AllowedOrigins (ALLOWED_ORIGINS, comma separated) are browser origins
	// allowed besides Rancher's own and OAUTH_REDIRECT_URI's.
	AllowedOrigins []string
	// RBACEnabled (RBAC_ENABLED, default true): Rancher decides which
	// agents a user may use and who may make the agent fetch a URL.
	RBACEnabled bool
	// Summarization is SUMMARIZATION_MESSAGES, _TOKENS and _KEEP (0: the
	// agent's defaults, 30, 30,000 and 15).
	Summarization agent.Summarization
	// MaxChatsPerUser is MAX_CHATS_PER_USER: open WebSockets per user.
	MaxChatsPerUser int
	// SupervisorPrompt is SYSTEM_PROMPT: the supervisor's instructions.
	SupervisorPrompt string
	// MediaHosts is ALLOWED_MEDIA_HOSTS: hosts whose Markdown images in
	// model text stay images (every other image becomes a link).
	MediaHosts []string
	// Network is HTTP_PROXY, HTTPS_PROXY and NO_PROXY (and their lower-case
	// forms), read here once and handed to every outbound client.
	Network outbound.Network
}

func readEnv(getenv func(string) string) (env, error) {
	e := env{
		RancherURL:             strings.TrimRight(getenv("RANCHER_URL"), "/"),
		RancherAPIToken:        getenv("RANCHER_API_TOKEN"),
		MCPURL:                 getenv("MCP_URL"),
		ActiveLLM:              getenv("ACTIVE_LLM"),
		LLMMockURL:             getenv("LLM_MOCK_URL"),
		ShutdownGrace:          10 * time.Second,
		OAuthRedirectURI:       getenv("OAUTH_REDIRECT_URI"),
		OAuthKey:               getenv("OAUTH_ENCRYPTION_KEY"),
		OAuthClientMetadataURL: getenv("OAUTH_CLIENT_METADATA_URL"),
		AllowedOrigins:         origins.Split(getenv("ALLOWED_ORIGINS")),
		RBACEnabled:            true,
		Network:                outbound.NetworkFromEnv(getenv),
	}
	var err error
	if e.LogLevel, e.LogFormat, err = logging.Config(getenv("LOG_LEVEL"), getenv("LOG_FORMAT")); err != nil {
		return e, err
	}
	if e.InsecureSkipTLS, err = boolEnv(getenv, "INSECURE_SKIP_TLS"); err != nil {
		return e, err
	}
	if e.LLMMockEnabled, err = boolEnv(getenv, "LLM_MOCK_ENABLED"); err != nil {
		return e, err
	}
	e.SupervisorPrompt = getenv("SYSTEM_PROMPT")
	if e.MediaHosts, err = modeltext.ParseMediaHosts(getenv("ALLOWED_MEDIA_HOSTS")); err != nil {
		return e, err
	}
	if getenv("RBAC_ENABLED") != "" {
		if e.RBACEnabled, err = boolEnv(getenv, "RBAC_ENABLED"); err != nil {
			return e, err
		}
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

// serveEnv is the rest of the environment that only `serve` reads (the
// demo runs on loopback with none of it): storage, the cluster, the model
// provider and telemetry.
type serveEnv struct {
	// DBEnabled and DBConnectionString (the Python agent's names) select
	// PostgreSQL.
	DBEnabled          bool
	DBConnectionString string
	// Storage is STORAGE, lower case: "", "sqlite" or "memory".
	Storage string
	// SQLitePath is SQLITE_PATH.
	SQLitePath string
	// StateDir is where state is kept outside a cluster (see stateDir);
	// StateDirErr says why there is none.
	StateDir    string
	StateDirErr error
	// InCluster is true in a pod (KUBERNETES_SERVICE_HOST is set).
	InCluster bool
	// Cluster is what the cluster side reads: LEADER_ELECT and BUILTIN_*.
	Cluster clusterEnv
	// Provider is the model provider's settings (provider.ConfigFromEnv);
	// ProviderErr, when set, makes every chat report it.
	Provider    provider.Config
	ProviderErr error
	// Telemetry is the trace export (OTEL_*, LANGFUSE_*).
	Telemetry telemetry.ExportConfig
}

// clusterEnv is the environment of the cluster side.
type clusterEnv struct {
	// LeaderElect is LEADER_ELECT (several replicas); leaderElectErr is a
	// bad value, reported only when serve reads a cluster.
	LeaderElect    bool
	leaderElectErr error
	// Builtins are BUILTIN_MCP_URL, BUILTIN_CA_SECRET and BUILTIN_CA_KEY.
	Builtins controller.BuiltinOptions
	// Network is env.Network: Rancher, MCP probes and a kubeconfig's API
	// server go through it; the in-cluster API server never does.
	Network outbound.Network
}

func readServeEnv(getenv func(string) string) (serveEnv, error) {
	e := serveEnv{
		DBConnectionString: getenv("DB_CONNECTION_STRING"),
		Storage:            strings.ToLower(strings.TrimSpace(getenv("STORAGE"))),
		SQLitePath:         getenv("SQLITE_PATH"),
		InCluster:          getenv("KUBERNETES_SERVICE_HOST") != "",
		Cluster: clusterEnv{Builtins: controller.BuiltinOptions{
			MCPURL: getenv("BUILTIN_MCP_URL"), CASecret: getenv("BUILTIN_CA_SECRET"), CAKey: getenv("BUILTIN_CA_KEY"),
		}},
	}
	e.StateDir, e.StateDirErr = stateDir(getenv)
	e.Cluster.LeaderElect, e.Cluster.leaderElectErr = boolEnv(getenv, "LEADER_ELECT")
	e.Provider, e.ProviderErr = provider.ConfigFromEnv(getenv)
	var err error
	if e.DBEnabled, err = boolEnv(getenv, "DB_ENABLED"); err != nil {
		return e, err
	}
	if e.Telemetry, err = telemetry.ConfigFromEnv(getenv); err != nil {
		return e, err
	}
	return e, nil
}

// stateDir is where the server keeps its state outside a cluster:
// $XDG_STATE_HOME/ai-agent, else $HOME/.local/state/ai-agent (a relative
// path in either is ignored, as the XDG Base Directory spec says). Never a
// shared temporary directory.
func stateDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ai-agent"), nil
	}
	if h := getenv("HOME"); h != "" && filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "ai-agent"), nil
	}
	return "", errors.New("neither XDG_STATE_HOME nor HOME is set")
}
