package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/llm/provider"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/store"
)

// dialRefused is the chain Go's HTTP client returns for a peer that is down.
func dialRefused(u string) error {
	return &url.Error{Op: "Post", URL: u, Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
}

// unreachableTools fails every tools/list with the MCP client's chain for
// a server that is down.
type unreachableTools struct{ *fakeTools }

func (unreachableTools) Tools(context.Context, agentconfig.Agent, mcp.Credentials) ([]mcp.Tool, error) {
	return nil, fmt.Errorf(`list MCP tools: connect to MCP server: calling "initialize": sending "initialize": rejected by transport: %w`, dialRefused("http://127.0.0.1:1/mcp"))
}

// downStore is a chat store whose database is down.
type downStore struct{ store.Store }

func (downStore) LastMessage(context.Context, string) (store.Message, bool, error) {
	return store.Message{}, false, fmt.Errorf("failed to connect to `host=127.0.0.1 user=agent`: dial error (%w)", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
}

// TestUserSentences drives each failure a user can meet in a chat and
// checks the frame: one sentence that names the agent and says what to do
// or tell the administrator, never the Go error chain.
func TestUserSentences(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fixture, a *agentconfig.Agent)
		tag   string // the frame
		want  []string
	}{
		{name: "unreachable MCP server", tag: "chat-error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.opts.Tools = unreachableTools{f.tools}
		}, want: []string{"cannot reach its MCP server", "tell the administrator"}},
		{name: "MCP 401 after sign-in", tag: "auth-error", setup: func(f *fixture, a *agentconfig.Agent) {
			a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
			f.tools.locked = true
			f.auth.err = fmt.Errorf(`loading tools after sign-in: agent "notes": list MCP tools: connect to MCP server: calling "initialize": %w`,
				&oauth.RefusedError{Agent: "notes", Status: 401, Code: "invalid_token", Description: "the token's audience is not this server"})
		}, want: []string{"invalid_token", "the token's audience is not this server", "administrator"}},
		{name: "provider down", tag: "error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.model.push("agent", reply{err: fmt.Errorf("ollama: %w: %w", provider.ErrProvider, dialRefused("http://127.0.0.1:1/api/chat"))})
		}, want: []string{"cannot reach its model provider", "tell the administrator"}},
		{name: "bad model name", tag: "error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.model.push("agent", reply{err: &provider.APIError{Provider: "openai", Status: 404, Message: "The model `gpt-9` does not exist: model_not_found"}})
		}, want: []string{"does not know the configured model", "tell the administrator to check the model name"}},
		{name: "provider refuses the key", tag: "error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.model.push("agent", reply{err: &provider.APIError{Provider: "gemini", Status: 401}})
		}, want: []string{"refused the agent's credentials", "API key"}},
		{name: "store failure", tag: "error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.opts.Store = downStore{f.store}
		}, want: []string{"The chat history is unavailable right now"}},
		{name: "tool call error", tag: "auth-error", setup: func(f *fixture, a *agentconfig.Agent) {
			// A tool call is refused (the token was revoked), and the new
			// sign-in cannot reach the token endpoint.
			a.Spec.AuthenticationType = v1alpha1.AuthOAuth2
			f.tools.fns["notes"] = func(json.RawMessage) (mcp.Result, error) { return mcp.Result{}, nil }
			f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("n1", "notes", `{}`)}})
			f.auth.err = fmt.Errorf("exchanging the code: %w", dialRefused("https://as.example/token"))
		}, want: []string{"Signing in for agent", "tell the administrator"}},
		{name: "step limit", tag: "error", setup: func(f *fixture, _ *agentconfig.Agent) {
			f.opts.MaxSteps = 1
			f.tools.fns["notes"] = text("n")
			f.model.push("agent", reply{calls: []llm.ToolCall{toolCall("n1", "notes", `{}`)}})
		}, want: []string{"limit of steps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			a := mkAgent("notes")
			tc.setup(f, &a)
			s, err := agent.New(f.opts).Open(context.Background(), agent.User{ID: "alice"}, []agentconfig.Agent{a}, "c1")
			var frame string
			if err != nil {
				ue, ok := errors.AsType[*agent.UnavailableError](err)
				if !ok {
					t.Fatalf("Open: %v", err)
				}
				frame = chat.ChatErrorFrame(ue.Reason) // what the server sends
			} else {
				if tc.name == "tool call error" {
					f.tools.locked = true // revoked after the tools were listed
				}
				for _, fr := range turn(context.Background(), s, "show my notes") {
					if strings.HasPrefix(fr, "<"+tc.tag+">") {
						frame = fr
					}
				}
			}
			if !strings.HasPrefix(frame, "<"+tc.tag+">") {
				t.Fatalf("no <%s> frame (got %q)", tc.tag, frame)
			}
			var body struct{ Message string }
			if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(frame, "<"+tc.tag+">"), "</"+tc.tag+">")), &body); err != nil {
				t.Fatal(err)
			}
			msg := body.Message
			t.Logf("%s: %s", tc.tag, msg)
			for _, chain := range []string{`calling "`, `sending "`, `Post "`, "dial tcp", "dial error", "connection refused", "127.0.0.1", "rejected by transport",
				"list MCP tools", "model: ", "chat store failed", "exchanging the code", "loading tools", "model_not_found", "Recursion limit"} {
				if strings.Contains(msg, chain) {
					t.Errorf("the sentence carries the chain (%q): %s", chain, msg)
				}
			}
			if tc.name != "store failure" && !strings.Contains(msg, `"notes"`) {
				t.Errorf("the sentence does not name the agent: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the sentence lacks %q: %s", w, msg)
				}
			}
			if strings.Count(msg, ". ") > 0 || !strings.HasSuffix(msg, ".") {
				t.Errorf("not one sentence: %s", msg)
			}
		})
	}
}
