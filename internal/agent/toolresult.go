package agent

import (
	"net/url"
	"strings"
)

// serverName names an agent's MCP server for the model: the agent's name
// and, when configured, the server's host.
func serverName(st *agentState) string {
	if u, err := url.Parse(st.Spec.MCPURL); err == nil && u.Host != "" {
		return st.Name + " (" + u.Host + ")"
	}
	return st.Name
}

// safeDocLink reports whether a tool's doc link may become <mcp-doclink>:
// an absolute http(s) URL with nothing that could end the frame or start
// another tag.
func safeDocLink(link string) bool {
	if strings.ContainsAny(link, "<>\"'` \t\r\n\\") {
		return false
	}
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
