package chat

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/rancher/ai-agent/internal/modeltext"
)

// Exact frames that open and close an assistant turn.
const (
	MessageOpen  = "<message>"
	MessageClose = "</message>"
)

// Raw client replies. They are never prompts.
const (
	ReplyAuthConfirmed    = "authentication_confirmed"
	ReplyAuthCanceled     = "authentication_canceled"
	ReplyRefreshConfirmed = "token_refresh_confirmed"
	ReplyStop             = "<stop>"
)

// Tag wraps a JSON-encoded payload in <name>...</name>. A payload that is a
// json.RawMessage is used as is, except that "<" and ">" inside its
// strings are written as \u escapes (the same JSON value), as they are in
// an encoded payload ("&" stays, like Python's json.dumps): text that a tool or the model put in a payload (a
// uiContext, a plan, a sub-agent query, UI tool inputs) can never look like
// a tag of the protocol (package modeltext).
func Tag(name string, payload any) string {
	var body []byte
	switch p := payload.(type) {
	case json.RawMessage:
		body = modeltext.EscapeJSON(p)
	case string:
		body = []byte(p)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			buf.Reset()
			buf.WriteString("{}")
		}
		body = modeltext.EscapeJSON(bytes.TrimRight(buf.Bytes(), "\n"))
	}
	var sb strings.Builder
	sb.Grow(len(name)*2 + len(body) + 5)
	sb.WriteString("<")
	sb.WriteString(name)
	sb.WriteString(">")
	sb.Write(body)
	sb.WriteString("</")
	sb.WriteString(name)
	sb.WriteString(">")
	return sb.String()
}

// AgentStatus is one entry of <chat-metadata>.agents.
type AgentStatus struct {
	Name        string `json:"name"`
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

// Agent status values the UI understands.
const (
	StatusActive  = "active"
	StatusUnknown = "unknown"
	StatusError   = "error"
)

// Metadata is the payload of the first frame of a chat.
type Metadata struct {
	ChatID      string        `json:"chatId"`
	Agents      []AgentStatus `json:"agents"`
	StorageType string        `json:"storageType"`
}

type messagePayload struct {
	Message string `json:"message"`
}

// ChatMetadataFrame is <chat-metadata>{...}</chat-metadata>.
func ChatMetadataFrame(m Metadata) string { return Tag("chat-metadata", m) }

// ChatErrorFrame is the fatal init error frame; the connection closes after it.
func ChatErrorFrame(msg string) string { return Tag("chat-error", messagePayload{msg}) }

// ErrorFrame is an error inside an open <message>.
func ErrorFrame(msg string) string { return Tag("error", messagePayload{msg}) }

// AuthErrorFrame reports a failed sign-in for an explicitly chosen agent.
func AuthErrorFrame(msg string) string { return Tag("auth-error", messagePayload{msg}) }

// authenticationFrame asks the UI to open the authorization URL in a popup.
// It is unexported: Browser.AskSignIn, which package oauth calls only for a
// sign-in it started (docs/security.md, rule 3), is the one way to send it.
func authenticationFrame(url, agent string) string {
	return Tag("authentication", struct {
		Type  string `json:"type"`
		URL   string `json:"url"`
		Agent string `json:"agent"`
	}{"oauth2", url, agent})
}

// TokenRefreshFrame asks the UI to POST /v1/api/oauth2/refresh for the agent.
func TokenRefreshFrame(agent string) string {
	return Tag("token-refresh", struct {
		Agent string `json:"agent"`
	}{agent})
}

// AgentMetadataFrame names the agent the supervisor picked; Recommended is set
// after three consecutive picks of the same agent.
func AgentMetadataFrame(agent, recommended string) string {
	return Tag("agent-metadata", struct {
		AgentName     string `json:"agentName"`
		SelectionMode string `json:"selectionMode"`
		Recommended   string `json:"recommended,omitempty"`
	}{agent, "auto", recommended})
}

type subagent struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

// SubagentStartFrame marks the start of a supervisor -> child call.
func SubagentStartFrame(name, query string) string {
	return Tag("processing-subagent-start", subagent{name, query})
}

// SubagentEndFrame marks its end.
func SubagentEndFrame(name, query string) string {
	return Tag("processing-subagent-end", subagent{name, query})
}

// MCPResponseFrame carries a tool result's uiContext (object or array).
func MCPResponseFrame(uiContext json.RawMessage) string { return Tag("mcp-response", uiContext) }

// DocLinkFrame carries one documentation link.
func DocLinkFrame(url string) string { return Tag("mcp-doclink", url) }
