package agent

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/rancher/ai-agent/internal/mcp"
)

// The model reads a sentence for a failed tool call, with the server's own
// message when it sent one, never the Go chain it would repeat to the user.
func TestToolFailureIsASentence(t *testing.T) {
	chain := func(err error) error {
		return fmt.Errorf("agent %q: call MCP tool %q: calling \"tools/call\": sending: %w", "gh", "issues", err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{chain(&jsonrpc.Error{Code: -32602, Message: "unknown repository rancher/x"}),
			`Error: the MCP server of agent "gh" refused the call of tool "issues": unknown repository rancher/x`},
		{chain(&mcp.HTTPStatusError{StatusCode: 502}),
			`Error: the MCP server of agent "gh" answered HTTP 502 for tool "issues"; the tool did not run.`},
		{chain(&mcp.HTTPStatusError{StatusCode: 403}),
			`Error: the MCP server of agent "gh" refused the credentials for tool "issues" (HTTP 403); the tool did not run.`},
		{chain(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
			`Error: the MCP server of agent "gh" cannot be reached right now; tool "issues" did not run.`},
		{chain(ErrAuthCanceled),
			`Error: the user canceled the sign-in for agent "gh", so tool "issues" did not run.`},
		{chain(errors.New("Post \"http://10.0.0.7/mcp\": unexpected EOF")),
			`Error: tool "issues" of agent "gh" failed; the agent's log has the reason.`},
	} {
		got := toolFailure("gh", "issues", tc.err)
		if got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.err, got, tc.want)
		}
		for _, frag := range []string{"calling", "sending", "Post ", "10.0.0.7", "dial"} {
			if strings.Contains(got, frag) {
				t.Errorf("%q carries the chain (%q)", got, frag)
			}
		}
	}
}
