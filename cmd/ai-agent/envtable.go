package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// envVar is one environment variable the server reads: `serve -h` and
// docs/configuration.md are both printed from envVars, so they cannot drift
// (TestConfigurationDoc fails when the file is stale).
type envVar struct {
	// Group heads the variable's section, in table order.
	Group string
	Name  string
	// Default is what an unset variable means ("" shows as "unset").
	Default string
	// Meaning is one or two sentences: what it does and the values it takes.
	Meaning string
}

// envVars is every environment variable of `serve`, one row each: adding a
// variable is adding one line here (then run
// `go test ./cmd/ai-agent -run TestConfigurationDoc -update`).
func envVars() []envVar {
	return []envVar{
		{"Rancher", "RANCHER_URL", "in a cluster: Rancher's internal-server-url setting", "Rancher's URL, used to resolve the user of a request (`/v3/users?me=true`) and for access reviews."},
		{"Rancher", "RANCHER_API_TOKEN", "", "Development only: a Rancher token used instead of each user's session."},
		{"Rancher", "INSECURE_SKIP_TLS", "false", "Skip TLS verification of Rancher and MCP servers (development only)."},
		{"Rancher", "MCP_URL", "", "MCP URL for agents with `authenticationType: RANCHER`, overriding their `spec.mcpURL`."},
		{"Rancher", "RBAC_ENABLED", "true", "Rancher decides which agents a user may use and who may make the agent fetch URLs; `false` lets everyone (development)."},
		{"Rancher", "BUILTIN_MCP_URL", "rancher-mcp-server.cattle-ai-agent-system.svc", "MCP URL of the built-in Rancher agent seeded in a cluster."},
		{"Rancher", "BUILTIN_CA_SECRET", "cattle-mcp-ca", "Secret holding the CA of the built-in agent's MCP server."},
		{"Rancher", "BUILTIN_CA_KEY", "tls.crt", "Key of BUILTIN_CA_SECRET holding the PEM CA."},
		{"Rancher", "LEADER_ELECT", "false", "Elect one leader among several replicas to run the controller (several replicas in a cluster need it)."},
		{"Rancher", "KUBERNETES_SERVICE_HOST", "set by Kubernetes in a pod", "Present in a pod: agents are read from the cluster with the in-cluster config."},
		{"Model", "ACTIVE_LLM", "", "The model provider: ollama, openai, gemini, bedrock or generic-openai. Without it every chat says the model is not configured."},
		{"Model", "OLLAMA_MODEL", "", "Model name when ACTIVE_LLM=ollama (likewise OPENAI_MODEL, GEMINI_MODEL, BEDROCK_MODEL, GENERIC_OPENAI_MODEL for the others)."},
		{"Model", "OPENAI_MODEL", "", "Model name when ACTIVE_LLM=openai."},
		{"Model", "GEMINI_MODEL", "", "Model name when ACTIVE_LLM=gemini."},
		{"Model", "BEDROCK_MODEL", "", "Model (or inference profile) id when ACTIVE_LLM=bedrock."},
		{"Model", "GENERIC_OPENAI_MODEL", "", "Model name when ACTIVE_LLM=generic-openai."},
		{"Model", "SYSTEM_PROMPT", "", "Instructions that replace the supervisor's (the agent that routes each prompt when several agents are enabled); the list of agents is still appended. Each agent keeps its own spec.systemPrompt. The Python chart sets it from `systemPrompt`; the Python agent does not read it."},
		{"Model", "MODEL", "", "Model name used when the provider's own <PROVIDER>_MODEL is unset (the Python agent's `llmModel` chart value)."},
		{"Model", "OLLAMA_URL", "", "Ollama's URL (required with ollama)."},
		{"Model", "OPENAI_API_KEY", "", "OpenAI API key (required with openai)."},
		{"Model", "OPENAI_URL", "https://api.openai.com/v1", "OpenAI-compatible base URL for ACTIVE_LLM=openai."},
		{"Model", "GENERIC_OPENAI_URL", "", "Base URL of an OpenAI-compatible server (required with generic-openai)."},
		{"Model", "GENERIC_OPENAI_API_KEY", "", "API key of GENERIC_OPENAI_URL (required with generic-openai)."},
		{"Model", "GOOGLE_API_KEY", "", "Gemini API key (required with gemini)."},
		{"Model", "AWS_REGION", "", "Bedrock's region (required with bedrock)."},
		{"Model", "AWS_BEARER_TOKEN_BEDROCK", "", "Bedrock API key; when unset, Bedrock requests are signed (SigV4) with AWS credentials instead."},
		{"Model", "AWS_ACCESS_KEY_ID", "", "With AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys): the AWS keys Bedrock requests are signed with when AWS_BEARER_TOKEN_BEDROCK is unset."},
		{"Model", "AWS_SECRET_ACCESS_KEY", "", "The secret of AWS_ACCESS_KEY_ID."},
		{"Model", "AWS_SESSION_TOKEN", "", "The session token of temporary AWS keys."},
		{"Model", "AWS_PROFILE", "", "With neither an API key nor keys, the AWS SDK's default chain signs Bedrock requests: this profile of the shared config and credentials files, else a web identity (EKS IRSA, pod identity), ECS, or the EC2 instance role."},
		{"Model", "BEDROCK_URL", "AWS's public endpoint of AWS_REGION", "Bedrock runtime endpoint, e.g. a PrivateLink VPC endpoint (the Python agent's name)."},
		{"Model", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "", "The AWS SDK's name for the Bedrock runtime endpoint; used when BEDROCK_URL is unset."},
		{"Model", "AWS_ENDPOINT_URL", "", "The AWS SDK's endpoint for every service; the Bedrock endpoint when neither variable above is set."},
		{"Model", "LLM_MOCK_ENABLED", "false", "Send every model call to rancher-ai-llm-mock at LLM_MOCK_URL (tests)."},
		{"Model", "LLM_MOCK_URL", "", "URL of rancher-ai-llm-mock (required with LLM_MOCK_ENABLED=true)."},
		{"Storage", "DB_ENABLED", "false", "Keep chats in PostgreSQL at DB_CONNECTION_STRING (several replicas need it)."},
		{"Storage", "DB_CONNECTION_STRING", "", "PostgreSQL connection string (libpq URL or key=value) when DB_ENABLED=true."},
		{"Storage", "STORAGE", "sqlite", "Without PostgreSQL: `sqlite` (a file, chats survive restarts) or `memory` (lost at restart)."},
		{"Storage", "SQLITE_PATH", "$XDG_STATE_HOME/ai-agent/ai-agent.db, else $HOME/.local/state/ai-agent/ai-agent.db", "SQLite database file."},
		{"Storage", "XDG_STATE_HOME", "$HOME/.local/state", "Base of the state directory (SQLite file, generated OAuth key) outside a cluster."},
		{"Storage", "HOME", "", "Used for the state directory when XDG_STATE_HOME is unset."},
		{"OAuth", "OAUTH_ENCRYPTION_KEY", "generated once in the state directory outside a cluster; none in a pod", "Base64 of 32 bytes (`openssl rand -base64 32`), or several comma separated (the first seals, all open): seals stored tokens and cookies. Required with PostgreSQL."},
		{"OAuth", "OAUTH_REDIRECT_URI", "Rancher's service-proxy URL of /v1/api/oauth2/callback", "The OAuth callback URL registered with authorization servers."},
		{"OAuth", "OAUTH_CLIENT_METADATA_URL", "", "https URL where our Client ID Metadata Document is published (served at /v1/api/oauth2/client-metadata.json)."},
		{"Server", "ALLOWED_ORIGINS", "", "Comma-separated browser origins allowed besides Rancher's server-url, RANCHER_URL and OAUTH_REDIRECT_URI."},
		{"Server", "HTTP_PROXY", "", "Proxy for http:// requests of every outbound client (models, MCP servers, OAuth, Rancher, OTLP); lower case too, upper case wins."},
		{"Server", "HTTPS_PROXY", "", "Proxy for https:// requests, as HTTP_PROXY."},
		{"Server", "NO_PROXY", "", "Hosts, domain suffixes and CIDRs that go direct (e.g. `.svc,.cluster.local`); loopback and the in-cluster API server always do."},
		{"Server", "ALLOWED_MEDIA_HOSTS", "", "Comma-separated hosts whose images in model answers stay images; any other image or embedded media is shown as a plain link, so an answer cannot make the browser fetch a URL."},
		{"Server", "MAX_CHATS_PER_USER", "32", "Open chat WebSockets per user; the next one gets <chat-error>."},
		{"Server", "SHUTDOWN_GRACE", "10s", "How long open turns may run after SIGTERM (a Go duration)."},
		{"Server", "SUMMARIZATION_MESSAGES", "30", "A thread longer than this many messages is summarized for the model."},
		{"Server", "SUMMARIZATION_TOKENS", "30000", "A thread longer than about this many tokens is summarized for the model."},
		{"Server", "SUMMARIZATION_KEEP", "15", "Messages kept verbatim after a summary."},
		{"Logs", "LOG_LEVEL", "info", "debug, info, warn (or warning) or error (or critical, as Python names it); anything else stops the server."},
		{"Logs", "LOG_FORMAT", "json", "`json` (one object per line) or `text` (key=value, for a terminal)."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint of traces (/v1/traces is appended); unset with no Langfuse: no traces."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "Full OTLP/HTTP traces URL, overriding OTEL_EXPORTER_OTLP_ENDPOINT."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_HEADERS", "", "Headers of the exporter (k=v,k2=v2); OTEL_EXPORTER_OTLP_TRACES_HEADERS wins."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "", "Headers of the traces exporter."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_TIMEOUT", "10000", "Export timeout in milliseconds; OTEL_EXPORTER_OTLP_TRACES_TIMEOUT wins."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10000", "Traces export timeout in milliseconds."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "Only http/protobuf is supported (also OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)."},
		{"Telemetry", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", "Only http/protobuf is supported."},
		{"Telemetry", "OTEL_SERVICE_NAME", "rancher-ai-agent", "service.name of the traces."},
		{"Telemetry", "OTEL_RESOURCE_ATTRIBUTES", "", "More resource attributes (k=v,k2=v2)."},
		{"Telemetry", "OTEL_SDK_DISABLED", "false", "`true` turns traces off whatever else is set."},
		{"Telemetry", "OTEL_GENAI_CAPTURE_CONTENT", "false", "`true` records prompts, answers and tool arguments on spans."},
		{"Telemetry", "LANGFUSE_HOST", "", "Langfuse URL: with LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY and no OTLP endpoint, traces go to Langfuse."},
		{"Telemetry", "LANGFUSE_PUBLIC_KEY", "", "Langfuse public key."},
		{"Telemetry", "LANGFUSE_SECRET_KEY", "", "Langfuse secret key."},
	}
}

// printEnvHelp writes the variables for a terminal (`serve -h`).
func printEnvHelp(w io.Writer) {
	fmt.Fprintln(w, "\nenvironment (docs/configuration.md has the same list):")
	group := ""
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range envVars() {
		if v.Group != group {
			group = v.Group
			fmt.Fprintf(tw, "  %s\n", group)
		}
		def := v.Default
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(tw, "    %s\t%s (default: %s)\n", v.Name, strings.ReplaceAll(v.Meaning, "`", ""), def)
	}
	_ = tw.Flush()
}

// configurationDoc is docs/configuration.md.
func configurationDoc() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from envVars in cmd/ai-agent/envtable.go: run\n")
	b.WriteString("     go test ./cmd/ai-agent -run TestConfigurationDoc -update\n     Do not edit by hand. -->\n\n")
	b.WriteString("`ai-agent serve` reads its flags (`ai-agent serve -h`) and these environment variables.\n")
	b.WriteString("Agents themselves are `AIAgentConfig` objects: see [examples/agents.yaml](examples/agents.yaml)\n")
	b.WriteString("and check a file with `ai-agent validate --config FILE`.\n")
	b.WriteString(listenersDoc)
	group := ""
	for _, v := range envVars() {
		if v.Group != group {
			group = v.Group
			fmt.Fprintf(&b, "\n## %s\n\n| variable | default | meaning |\n|---|---|---|\n", group)
		}
		def := "unset"
		if v.Default != "" {
			def = "`" + v.Default + "`"
			if strings.Contains(v.Default, " ") && !strings.HasPrefix(v.Default, "$") {
				def = v.Default
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(v.Meaning, "|", `\|`))
	}
	return b.String()
}
