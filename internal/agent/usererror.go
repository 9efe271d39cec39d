package agent

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rancher/ai-agent/internal/llm/provider"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauthproto"
)

// UserError is an error with the one sentence a user reads in a chat frame
// (<error>, <chat-error>, <auth-error>): which agent, what happened and what
// to do or tell the administrator. Error is the full chain, for the log
// only; Sentence never carries it.
type UserError struct {
	Sentence string
	Err      error
}

func (e *UserError) Error() string { return e.Err.Error() }
func (e *UserError) Unwrap() error { return e.Err }

// agentError names the agent a failure happened in (its loop, its MCP
// server), so that the sentence can name it.
type agentError struct {
	agent string
	err   error
}

func (e *agentError) Error() string { return fmt.Sprintf("agent %q: %v", e.agent, e.err) }
func (e *agentError) Unwrap() error { return e.err }

// inAgent marks err as agent's (unchanged when agent is "", the supervisor,
// or err already names one).
func inAgent(agent string, err error) error {
	if agent == "" || err == nil {
		return err
	}
	if _, ok := errors.AsType[*agentError](err); ok {
		return err
	}
	return &agentError{agent: agent, err: err}
}

// Sentence is the one sentence a chat frame shows for err; agent is the
// agent it concerns when err does not name one ("" for the assistant as a
// whole). It never contains the error chain: callers log err itself.
func Sentence(agent string, err error) string {
	if ue, ok := errors.AsType[*UserError](err); ok {
		return ue.Sentence
	}
	if ae, ok := errors.AsType[*agentError](err); ok {
		agent = ae.agent
	}
	who := "The assistant"
	if agent != "" {
		who = fmt.Sprintf("Agent %q", agent)
	}
	if se, ok := errors.AsType[sentencer](err); ok { // oauth.RefusedError, through the adapter
		return se.Sentence()
	}
	if ce, ok := errors.AsType[*provider.ConfigError](err); ok {
		return ce.Error() // written for the user: names the variable to set
	}
	if ae, ok := errors.AsType[*provider.APIError](err); ok {
		return apiSentence(who, ae)
	}
	if he, ok := errors.AsType[*mcp.HTTPStatusError](err); ok {
		if he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden {
			return fmt.Sprintf("%s cannot use its MCP server, which refused its credentials (HTTP %d); tell the administrator to check the agent's authentication settings.", who, he.StatusCode)
		}
		return fmt.Sprintf("%s cannot use its MCP server, which answered HTTP %d; try again later, and tell the administrator if it persists.", who, he.StatusCode)
	}
	switch {
	case errors.Is(err, ErrStore):
		return storeUnavailable
	case errors.Is(err, ErrStepLimit):
		return fmt.Sprintf("%s stopped before finishing, because it reached its limit of steps; ask for less at a time.", who)
	case errors.Is(err, provider.ErrInterrupted), errors.Is(err, provider.ErrStalled):
		return fmt.Sprintf("%s's answer was cut off because the model stopped responding; try again, and tell the administrator if it persists.", who)
	case errors.Is(err, errModel):
		return fmt.Sprintf("%s cannot reach its model provider; try again later, and tell the administrator (the agent's log has the reason).", who)
	case isMCPLoad(err) && mcp.Unreachable(err):
		return fmt.Sprintf("%s cannot reach its MCP server right now; try again later, and tell the administrator if it persists.", who)
	case isMCPLoad(err):
		return fmt.Sprintf("%s cannot load the tools of its MCP server; tell the administrator (the agent's log has the reason).", who)
	}
	return fmt.Sprintf("%s ran into an error; try again, and tell the administrator if it persists (the agent's log has the reason).", who)
}

// apiSentence is the sentence of a provider's non-success answer.
func apiSentence(who string, e *provider.APIError) string {
	p := e.Provider
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return fmt.Sprintf("%s cannot use the model, because the provider %s refused the agent's credentials (HTTP %d); tell the administrator to check its API key.", who, p, e.Status)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("%s cannot use the model, because the provider %s does not know the configured model (HTTP 404); tell the administrator to check the model name.", who, p)
	case e.Status == http.StatusTooManyRequests:
		return fmt.Sprintf("%s cannot use the model right now, because the provider %s is limiting requests (HTTP 429); try again in a minute.", who, p)
	case e.Status >= 500:
		return fmt.Sprintf("%s cannot use the model, because the provider %s failed (HTTP %d); try again later, and tell the administrator if it persists.", who, p, e.Status)
	}
	return fmt.Sprintf("%s cannot use the model, because the provider %s refused the request (HTTP %d); tell the administrator to check the model name and settings.", who, p, e.Status)
}

// errModel marks a failure of the model provider.
var errModel = errors.New("model")

// mcpLoadError marks a failure to load an agent's tools from its MCP
// server; its text is the cause's.
type mcpLoadError struct{ err error }

func (e *mcpLoadError) Error() string { return e.err.Error() }
func (e *mcpLoadError) Unwrap() error { return e.err }

// outage reports a server the agent needs (its MCP server, its
// authorization server) that cannot be reached right now: a retry later
// may work, so the agent's status is "unknown", not "error".
func outage(err error) bool {
	return mcp.Unreachable(err) || errors.Is(err, oauthproto.ErrTransient)
}

func isMCPLoad(err error) bool {
	_, ok := errors.AsType[*mcpLoadError](err)
	return ok
}
