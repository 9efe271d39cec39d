package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
)

// User is the Rancher user a connection acts for.
type User struct {
	ID string
	// Token is the user's Rancher session token (for RANCHER-auth agents).
	Token string
}

// ToolProvider lists and calls an agent's MCP tools; *mcp.Manager is one.
type ToolProvider interface {
	Tools(ctx context.Context, a agentconfig.Agent, cred mcp.Credentials) ([]mcp.Tool, error)
	Call(ctx context.Context, a agentconfig.Agent, cred mcp.Credentials, name string, args json.RawMessage) (mcp.Result, error)
}

// CredentialProvider gives the credential a user's requests to an agent's
// MCP server carry.
type CredentialProvider interface {
	Credentials(ctx context.Context, a agentconfig.Agent, u User) (mcp.Credentials, error)
}

// Authenticator signs a user in to an OAUTH2 agent through the chat: it
// sends <token-refresh> or <authentication> frames and waits for the
// browser's answer. challenge is the 401/403 that made it necessary (nil
// when none was seen yet). On success the next Credentials call for (a, u)
// yields a working credential.
type Authenticator interface {
	Authenticate(ctx context.Context, em chat.Emitter, a agentconfig.Agent, u User, challenge error) error
}

// SignOutTeller is an Authenticator that can tell a user, in one
// sentence, how to sign out of an agent; the sentence follows every
// <auth-error> (signing out also clears a sign-in stuck in a bad state).
type SignOutTeller interface {
	SignOutSentence(agent string) string
}

// ErrAuthCanceled is matched by an Authenticate error when the user
// dismissed the sign-in: an Authenticator wraps its own cancel error with
// it (the OAuth adapter of package server wraps oauth.ErrCanceled).
var ErrAuthCanceled = errors.New("authentication canceled by the user")

// SignInError is an error an Authenticator or CredentialProvider returns
// with the one sentence the user reads about it (<auth-error>); Err is the
// chain, for the log. Any error in the chain with a Sentence() string
// method (oauth.RefusedError is one) is read the same way.
type SignInError struct {
	Reason string
	Err    error
}

func (e *SignInError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SignInError) Unwrap() error { return e.Err }

// Sentence is the sentence the user reads.
func (e *SignInError) Sentence() string { return e.Reason }

// ErrNoAgentAvailable is matched by Open's error when no agent can be used;
// the error is an *UnavailableError.
var ErrNoAgentAvailable = errors.New("no agent available")

// UnavailableError is Open's error when no agent can be used.
type UnavailableError struct {
	// Reason is the sentence shown to the user (<chat-error>).
	Reason string
	// Err is the cause, when one agent's failure is it.
	Err error
}

func (e *UnavailableError) Error() string { return ErrNoAgentAvailable.Error() + ": " + e.Reason }

// Is makes the error match ErrNoAgentAvailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrNoAgentAvailable }

func (e *UnavailableError) Unwrap() error { return e.Err }

// Options configure a Runner.
type Options struct {
	Model       llm.Model
	Tools       ToolProvider
	Store       store.Store
	Credentials CredentialProvider
	// Auth is nil when OAuth2 sign-in is not available.
	Auth Authenticator
	// UITools, when set, offers the UI tools for the selection after an
	// answer.
	UITools UITools
	Logger  *slog.Logger
	// MaxSteps bounds the model calls of one loop (the Python agent's
	// recursion_limit). Default 50.
	MaxSteps int
	// Summarization bounds the model's conversation (zero fields: defaults).
	Summarization Summarization
	// LoadTimeout bounds loading one agent's tools at connect. Default 15s.
	LoadTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ModelText says how model text is shown (package modeltext): the
	// zero value neutralizes it; Trusted (mock mode) passes it unchanged.
	ModelText modeltext.Policy
	// SupervisorPrompt, when set (SYSTEM_PROMPT), replaces the
	// supervisor's instructions; the list of agents follows it.
	SupervisorPrompt string
	// MaxToolResultBytes caps one tool result for the model (0:
	// modeltext.MaxToolResultBytes).
	MaxToolResultBytes int
}

// Runner builds sessions.
type Runner struct{ o Options }

// New returns a Runner.
func New(o Options) *Runner {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 50
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Summarization.defaults()
	return &Runner{o: o}
}

// agentState is one agent as a session sees it.
type agentState struct {
	agentconfig.Agent
	cred      mcp.Credentials
	tools     []mcp.Tool
	err       error
	needsAuth bool
	// challenge is the 401/403 seen while loading the tools; its scope
	// guides the first sign-in.
	challenge error
}

func (st *agentState) usable() bool { return st.err == nil }

// Session is one connection's view of the agents.
type Session struct {
	r      *Runner
	user   User
	chatID string
	list   []*agentState
	byName map[string]*agentState

	mu        sync.Mutex
	lastPick  string
	pickCount int

	// pend is a tool call waiting for the user's decision; pendingChecked
	// is set once the store was searched for one (a pause survives a restart).
	pend           *pending
	pendingChecked bool

	// threads are the copies of this chat's threads (turns of a session
	// run one at a time).
	threads map[string]*threadCopy
	// unsaved is set when the running turn could not store what it did.
	unsaved bool
}

// Open loads each agent's tools (concurrently) for the user and returns the
// session, or an *UnavailableError when none is usable.
func (r *Runner) Open(ctx context.Context, u User, list []agentconfig.Agent, chatID string) (*Session, error) {
	if m, ok := r.o.Model.(interface{ ConfigError() error }); ok && m.ConfigError() != nil {
		return nil, &UnavailableError{Reason: m.ConfigError().Error(), Err: m.ConfigError()}
	}
	if len(list) == 0 {
		return nil, &UnavailableError{Reason: "No agent configurations available"}
	}
	s := &Session{r: r, user: u, chatID: chatID, byName: map[string]*agentState{}, threads: map[string]*threadCopy{}}
	var wg sync.WaitGroup
	for _, a := range list {
		st := &agentState{Agent: a}
		s.list = append(s.list, st)
		s.byName[a.Name] = st
		wg.Go(func() { s.load(ctx, st) })
	}
	wg.Wait()
	for _, st := range s.list {
		if st.usable() {
			return s, nil
		}
	}
	if len(s.list) == 1 {
		return nil, &UnavailableError{Reason: Sentence(s.list[0].Name, s.list[0].err), Err: s.list[0].err}
	}
	return nil, &UnavailableError{Reason: "No agents could be created"}
}

// load resolves the credential and tools of one agent.
func (s *Session) load(ctx context.Context, st *agentState) {
	if st.ConfigError != "" {
		st.err = &UserError{Err: errors.New(st.ConfigError),
			Sentence: fmt.Sprintf("Agent %q is misconfigured; tell the administrator (ai-agent validate and the agent's log name the problem).", st.Name)}
		return
	}
	cred, err := s.r.o.Credentials.Credentials(ctx, st.Agent, s.user)
	if err != nil {
		s.r.o.Logger.Warn("agent credentials failed", "chat", s.chatID, "agent", st.Name, "error", err)
		sentence := fmt.Sprintf("Agent %q cannot get the credentials for its MCP server; tell the administrator to check the agent's authentication Secret.", st.Name)
		if outage(err) {
			sentence = fmt.Sprintf("Agent %q cannot reach its authorization server right now; try again later, and tell the administrator if it persists.", st.Name)
		} else if ue, ok := errors.AsType[*UserError](err); ok {
			sentence = ue.Sentence // the provider's own (no encryption key)
		} else if se, ok := errors.AsType[sentencer](err); ok {
			sentence = se.Sentence() // an invalid Secret
		}
		st.err = &UserError{Err: err, Sentence: sentence}
		return
	}
	st.cred = cred
	ctx, cancel := context.WithTimeout(ctx, s.r.o.LoadTimeout)
	defer cancel()
	tools, err := s.r.o.Tools.Tools(ctx, st.Agent, cred)
	if err != nil && s.r.o.Auth != nil && st.Spec.AuthenticationType == v1alpha1.AuthOAuth2 &&
		(errors.Is(err, mcp.ErrUnauthorized) || errors.Is(err, mcp.ErrForbidden)) {
		// Not an error: the user signs in when the agent is first used.
		st.needsAuth, st.challenge = true, err
		return
	}
	if err != nil {
		s.r.o.Logger.Warn("loading MCP tools failed", "chat", s.chatID, "agent", st.Name, "error", err)
		st.err = &mcpLoadError{err}
		return
	}
	st.tools = tools
}

// Metadata is the agents list of <chat-metadata>.
func (s *Session) Metadata() []chat.AgentStatus {
	out := make([]chat.AgentStatus, 0, len(s.list))
	for _, st := range s.list {
		if st.err != nil {
			// A sentence, never the chain (load logged it with the chat id);
			// an MCP server that is down is an outage, not a broken agent.
			status := chat.StatusError
			if outage(st.err) {
				status = chat.StatusUnknown
			}
			out = append(out, chat.AgentStatus{Name: st.Name, Status: status, Description: Sentence(st.Name, st.err)})
			continue
		}
		out = append(out, chat.AgentStatus{Name: st.Name, Status: chat.StatusActive})
	}
	return out
}

// usableAgents are the agents a turn may use.
func (s *Session) usableAgents() []*agentState {
	var out []*agentState
	for _, st := range s.list {
		if st.usable() {
			out = append(out, st)
		}
	}
	return out
}

// ChatID is the chat this session serves.
func (s *Session) ChatID() string { return s.chatID }
