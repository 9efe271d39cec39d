package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"net/http"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/modeltext"
)

// turnState collects what a turn shows besides text, for history.
type turnState struct {
	em           chat.Emitter
	mcpResponses []json.RawMessage
	// final is the streamed answer of the turn, for the UI-tools selection.
	final string
}

// modelTools converts an agent's MCP tools for the model.
func modelTools(st *agentState) []llm.Tool {
	out := make([]llm.Tool, 0, len(st.tools))
	for _, t := range st.tools {
		schema := t.InputSchema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		out = append(out, llm.Tool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return out
}

// mcpExec returns the executor of an agent's MCP tools. Results with a
// uiContext are shown as <mcp-response>; only the `llm` part goes to the
// model. Failures become error results, never Go errors, so the model can
// react and the thread stays valid.
func (s *Session) mcpExec(ts *turnState, st *agentState) toolExec {
	return func(ctx context.Context, call llm.ToolCall) (llm.Message, *pause) {
		if !hasTool(st, call.Name) {
			return llm.Message{Content: fmt.Sprintf("Error: tool %q does not exist.", call.Name), IsError: true}, nil
		}
		if needsConfirmation(st, call.Name) {
			return s.askConfirmation(ctx, ts, st, call)
		}
		return s.runTool(ctx, ts, st, call), nil
	}
}

// runTool calls an MCP tool and shows its uiContext and doc links.
func (s *Session) runTool(ctx context.Context, ts *turnState, st *agentState, call llm.ToolCall) llm.Message {
	res, err := s.callMCP(ctx, ts, st, call)
	if err != nil {
		if ctx.Err() != nil {
			return stoppedResults([]llm.ToolCall{call}, context.Cause(ctx))[0]
		}
		s.r.o.Logger.Warn("MCP tool call failed", "chat", s.chatID, "agent", st.Name, "tool", call.Name, "error", err)
		return llm.Message{Content: toolFailure(st.Name, call.Name, err), IsError: true}
	}
	if len(res.UIContext) > 0 {
		ts.mcpResponses = append(ts.mcpResponses, res.UIContext)
		_ = ts.em.Send(ctx, chat.MCPResponseFrame(res.UIContext))
	}
	for _, link := range res.DocLinks {
		if !safeDocLink(link) {
			s.r.o.Logger.Warn("tool result's doc link refused: not a plain http(s) URL", "agent", st.Name, "tool", call.Name)
			continue
		}
		_ = ts.em.Send(ctx, chat.DocLinkFrame(link))
	}
	return llm.Message{Content: modeltext.ToolResult(call.Name, serverName(st), res.ForModel, s.r.o.MaxToolResultBytes), IsError: res.IsError}
}

// callMCP calls a tool; a 401/403 on an OAUTH2 agent asks the user to sign
// in (or refreshes) and retries. Scope step-up may repeat, at most three
// times per call.
func (s *Session) callMCP(ctx context.Context, ts *turnState, st *agentState, call llm.ToolCall) (mcp.Result, error) {
	const maxAuth = 3
	for attempt := 0; ; attempt++ {
		res, err := s.r.o.Tools.Call(ctx, st.Agent, st.cred, call.Name, call.Arguments)
		if err == nil || !s.canAuth(st) || attempt >= maxAuth ||
			!(errors.Is(err, mcp.ErrUnauthorized) || errors.Is(err, mcp.ErrForbidden)) {
			return res, err
		}
		if aerr := s.authenticate(ctx, ts.em, st, err); aerr != nil {
			if !errors.Is(aerr, ErrAuthCanceled) && ctx.Err() == nil {
				// The user saw the sign-in card: tell them how it ended.
				s.r.o.Logger.Info("sign-in for a tool call failed", "chat", s.chatID, "agent", st.Name, "tool", call.Name, "error", aerr)
				_ = ts.em.Send(ctx, chat.AuthErrorFrame(s.authErrorText(st.Name, aerr)))
			}
			return res, aerr
		}
	}
}

func hasTool(st *agentState, name string) bool {
	for _, t := range st.tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

func (s *Session) canAuth(st *agentState) bool {
	return s.r.o.Auth != nil && st.Spec.AuthenticationType == v1alpha1.AuthOAuth2
}

// authenticate runs the sign-in for an agent and reloads its credential and
// tools. The turn goes on afterwards.
//
// When the MCP server refuses the token of that sign-in, the Authenticator
// is asked again with the refusal marked as following a sign-in (at most
// twice): it may fix what it can without the user (a Bearer instead of a
// DPoP-bound token) or ask only for something new (more scopes), and
// otherwise returns the server's reason, so the user is never asked to sign
// in over and over in one turn.
func (s *Session) authenticate(ctx context.Context, em chat.Emitter, st *agentState, challenge error) error {
	const maxAfter = 2
	for attempt := 0; ; attempt++ {
		if err := s.r.o.Auth.Authenticate(ctx, em, st.Agent, s.user, challenge); err != nil {
			return err
		}
		cred, err := s.r.o.Credentials.Credentials(ctx, st.Agent, s.user)
		if err != nil {
			return fmt.Errorf("credentials after sign-in: %w", err)
		}
		tools, err := s.r.o.Tools.Tools(ctx, st.Agent, cred)
		if err != nil && attempt < maxAfter && (errors.Is(err, mcp.ErrUnauthorized) || errors.Is(err, mcp.ErrForbidden)) {
			challenge = afterSignIn{err}
			continue
		}
		if err != nil {
			return fmt.Errorf("loading tools after sign-in: %w", err)
		}
		st.cred, st.tools, st.needsAuth, st.challenge = cred, tools, false, nil
		return nil
	}
}

// afterSignIn marks a refusal of the token a sign-in just obtained.
type afterSignIn struct{ error }

func (e afterSignIn) Unwrap() error { return e.error }

// AfterSignIn reports whether an Authenticate challenge is the refusal of
// the token a sign-in of this turn just obtained.
func AfterSignIn(challenge error) bool {
	_, ok := errors.AsType[afterSignIn](challenge)
	return ok
}

// toolFailure is what the model reads when a tool call failed before the
// MCP server answered it: one sentence saying what happened, with the
// server's own message when it sent one (a JSON-RPC error), never the Go
// chain (the log has it), which a model would repeat to the user.
func toolFailure(agent, tool string, err error) string {
	if re, ok := errors.AsType[*jsonrpc.Error](err); ok {
		return fmt.Sprintf("Error: the MCP server of agent %q refused the call of tool %q: %s", agent, tool, re.Message)
	}
	if he, ok := errors.AsType[*mcp.HTTPStatusError](err); ok {
		if he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden {
			return fmt.Sprintf("Error: the MCP server of agent %q refused the credentials for tool %q (HTTP %d); the tool did not run.", agent, tool, he.StatusCode)
		}
		return fmt.Sprintf("Error: the MCP server of agent %q answered HTTP %d for tool %q; the tool did not run.", agent, he.StatusCode, tool)
	}
	if errors.Is(err, ErrAuthCanceled) {
		return fmt.Sprintf("Error: the user canceled the sign-in for agent %q, so tool %q did not run.", agent, tool)
	}
	if mcp.Unreachable(err) {
		return fmt.Sprintf("Error: the MCP server of agent %q cannot be reached right now; tool %q did not run.", agent, tool)
	}
	if _, ok := errors.AsType[*SignInError](err); ok {
		return fmt.Sprintf("Error: the sign-in for agent %q did not complete, so tool %q did not run.", agent, tool)
	}
	return fmt.Sprintf("Error: tool %q of agent %q failed; the agent's log has the reason.", tool, agent)
}
