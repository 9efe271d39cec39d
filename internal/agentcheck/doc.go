// Package agentcheck finds what is wrong with a configured agent before a
// user does: a missing or malformed MCP URL, a missing authentication
// Secret or key, an unknown OAuth2 grantType, a bad private key or CA
// bundle. Each Problem names the field and says how to fix it; `ai-agent
// validate` prints them, `serve` logs each agent's status at start and
// GET /v1/api/agents lists them for administrators.
package agentcheck
