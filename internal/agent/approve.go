package agent

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/llm"
)

// Tools that change things ask first. An agent that reaches its MCP server
// with a credential of its own (BASIC, HEADER) or of the user's at another
// system (OAUTH2) acts beyond the cluster Rancher guards, and the model
// choosing the calls is steered by whatever the tools return (OWASP LLM06,
// excessive agency). So a tool of such an agent runs without the user's
// confirmation only when the server annotates it read-only (MCP
// ToolAnnotations: readOnlyHint true and destructiveHint not true) or the
// AIAgentConfig lists it in autoApproveTools. NONE and RANCHER agents keep
// the humanValidationTools rule alone, as the Python agent does.

// asksFirst reports whether a tool of the agent needs the user's
// confirmation by its annotations.
func asksFirst(st *agentState, tool string) bool {
	switch st.Spec.AuthenticationType {
	case v1alpha1.AuthBasic, v1alpha1.AuthHeader, v1alpha1.AuthOAuth2:
	default:
		return false
	}
	if slices.Contains(st.Spec.AutoApproveTools, tool) {
		return false
	}
	for _, t := range st.tools {
		if t.Name == tool {
			return !t.ReadOnlyHint || t.DestructiveHint
		}
	}
	return true
}

// callPlan is the <confirmation-response> of a tool call that has no
// <tool>Plan twin: one action in the form the Rancher AI UI renders
// (Confirmation.vue describes a "create" action and shows its payload; a
// "delete" action would get no buttons). Its resource carries the four
// fields the UI's validateActionResource requires, none null: kind, name,
// namespace (empty) and cluster. The resource names the tool and its server; the payload holds
// the tool, the server, the agent and the call's arguments as the model
// wrote them.
func callPlan(st *agentState, call llm.ToolCall) json.RawMessage {
	server := serverOf(st)
	args := json.RawMessage(call.Arguments)
	if !json.Valid(args) {
		b, _ := json.Marshal(string(call.Arguments))
		args = b
	}
	type resource struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Cluster   string `json:"cluster"`
	}
	type payload struct {
		Tool      string          `json:"tool"`
		Server    string          `json:"server"`
		Agent     string          `json:"agent"`
		Arguments json.RawMessage `json:"arguments"`
	}
	type action struct {
		Type     string   `json:"type"`
		Resource resource `json:"resource"`
		Payload  payload  `json:"payload"`
	}
	b, _ := json.Marshal([]action{{
		Type:     "create",
		Resource: resource{Kind: "MCP tool call", Name: call.Name, Namespace: "", Cluster: server},
		Payload:  payload{Tool: call.Name, Server: server, Agent: st.Name, Arguments: args},
	}})
	// Marshal writes <, > and & as \u escapes, so the model's arguments
	// cannot end the frame. The Rancher AI UI's older formatConfirmationAction
	// rewrites every '...' pair before JSON.parse; a ' (only ever inside a
	// JSON string) is written as \u0027 so such arguments still parse.
	return bytes.ReplaceAll(b, []byte("'"), []byte(`\u0027`))
}

// serverOf names an agent's MCP server for the user: the host of its URL
// (never the path or query, which may carry secrets), else the agent's name.
func serverOf(st *agentState) string {
	if u, err := url.Parse(st.Spec.MCPURL); err == nil && u.Host != "" {
		return u.Host
	}
	return st.Name
}
