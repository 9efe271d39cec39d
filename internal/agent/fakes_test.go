package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/store/storetest"
)

// reply is one scripted model response: text, tool calls, or an error.
type reply struct {
	text  string
	calls []llm.ToolCall
	err   error
}

// fakeModel answers each request with the next reply queued for its
// Purpose ("agent", "supervisor", ...) and records the requests.
type fakeModel struct {
	mu     sync.Mutex
	queues map[string][]reply
	reqs   []llm.Request
	// onCall runs before each answer (a test stops the turn there).
	onCall func(req llm.Request)
}

func newModel() *fakeModel { return &fakeModel{queues: map[string][]reply{}} }

func (m *fakeModel) push(purpose string, rs ...reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queues[purpose] = append(m.queues[purpose], rs...)
}

func (m *fakeModel) requests(purpose string) []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []llm.Request
	for _, r := range m.reqs {
		if r.Purpose == purpose {
			out = append(out, r)
		}
	}
	return out
}

func (m *fakeModel) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		m.mu.Lock()
		req.Messages = append([]llm.Message(nil), req.Messages...)
		m.reqs = append(m.reqs, req)
		q := m.queues[req.Purpose]
		var r reply
		if len(q) == 0 {
			r.err = fmt.Errorf("no reply queued for %q", req.Purpose)
		} else {
			r, m.queues[req.Purpose] = q[0], q[1:]
		}
		on := m.onCall
		m.mu.Unlock()
		if on != nil {
			on(req)
		}
		if r.err != nil {
			yield(llm.Event{}, r.err)
			return
		}
		if r.text != "" && !yield(llm.Event{Text: r.text}, nil) {
			return
		}
		for i := range r.calls {
			if !yield(llm.Event{ToolCall: &r.calls[i]}, nil) {
				return
			}
		}
		yield(llm.Event{Usage: &llm.Usage{InputTokens: 10, OutputTokens: 2}}, nil)
	}
}

func toolCall(id, name, args string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: name, Arguments: json.RawMessage(args)}
}

// fakeTools is a ToolProvider: every agent has the tools in fns; calls
// are recorded. While locked is set, every request answers 401.
type fakeTools struct {
	mu     sync.Mutex
	fns    map[string]func(args json.RawMessage) (mcp.Result, error)
	calls  []string
	locked bool
}

func (f *fakeTools) Tools(_ context.Context, _ agentconfig.Agent, _ mcp.Credentials) ([]mcp.Tool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locked {
		return nil, fmt.Errorf("listing tools: %w", errors.Join(mcp.ErrUnauthorized, &mcp.HTTPStatusError{StatusCode: http.StatusUnauthorized}))
	}
	var out []mcp.Tool
	for name := range f.fns {
		if !strings.HasSuffix(name, "Plan") {
			// Read-only: these tests are not about asking first.
			out = append(out, mcp.Tool{Name: name, Description: name, ReadOnlyHint: true})
		}
	}
	return out, nil
}

func (f *fakeTools) Call(_ context.Context, _ agentconfig.Agent, _ mcp.Credentials, name string, args json.RawMessage) (mcp.Result, error) {
	f.mu.Lock()
	if f.locked {
		f.mu.Unlock()
		return mcp.Result{}, fmt.Errorf("calling %s: %w", name, errors.Join(mcp.ErrUnauthorized, &mcp.HTTPStatusError{StatusCode: http.StatusUnauthorized}))
	}
	f.calls = append(f.calls, name)
	fn := f.fns[name]
	f.mu.Unlock()
	if fn == nil {
		return mcp.Result{}, fmt.Errorf("no tool %s", name)
	}
	return fn(args)
}

func (f *fakeTools) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func text(s string) func(json.RawMessage) (mcp.Result, error) {
	return func(json.RawMessage) (mcp.Result, error) { return mcp.Result{ForModel: s, Raw: s}, nil }
}

type noCred struct{}

func (noCred) CacheKey() string              { return "none" }
func (noCred) Authorize(*http.Request) error { return nil }
func (noCred) String() string                { return "none" }
func credentials() agent.CredentialProvider {
	return credFunc(func() (mcp.Credentials, error) { return noCred{}, nil })
}

type credFunc func() (mcp.Credentials, error)

func (f credFunc) Credentials(context.Context, agentconfig.Agent, agent.User) (mcp.Credentials, error) {
	return f()
}

// fakeAuth is an Authenticator: it unlocks the tools, or fails with err.
type fakeAuth struct {
	tools      *fakeTools
	err        error
	challenges []error
}

func (a *fakeAuth) Authenticate(_ context.Context, em chat.Emitter, ag agentconfig.Agent, _ agent.User, challenge error) error {
	a.challenges = append(a.challenges, challenge)
	if a.err != nil {
		return a.err
	}
	a.tools.mu.Lock()
	a.tools.locked = false
	a.tools.mu.Unlock()
	return nil
}

// emitter records the frames a turn sends.
type emitter struct {
	mu     sync.Mutex
	frames []string
}

func (e *emitter) Send(_ context.Context, f string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.frames = append(e.frames, f)
	return nil
}

func (e *emitter) Ask(ctx context.Context, f string, _ ...string) (string, error) {
	return "", e.Send(ctx, f)
}

func (e *emitter) last() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.frames) == 0 {
		return ""
	}
	return e.frames[len(e.frames)-1]
}

func (e *emitter) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.frames
	e.frames = nil
	return out
}

// fixture wires a Runner to the fakes.
type fixture struct {
	t     *testing.T
	model *fakeModel
	tools *fakeTools
	auth  *fakeAuth
	store *store.Memory
	opts  agent.Options
}

func newFixture(t *testing.T) *fixture {
	tools := &fakeTools{fns: map[string]func(json.RawMessage) (mcp.Result, error){}}
	f := &fixture{t: t, model: newModel(), tools: tools, auth: &fakeAuth{tools: tools}, store: store.NewMemory()}
	f.opts = agent.Options{Model: f.model, Tools: f.tools, Store: f.store, Credentials: credentials(), Auth: f.auth}
	return f
}

func mkAgent(name string, validate ...string) agentconfig.Agent {
	return agentconfig.Agent{Name: name, Spec: v1alpha1.AIAgentConfigSpec{
		DisplayName: name, Description: name + " things", SystemPrompt: "You are " + name, HumanValidationTools: validate,
	}}
}

func (f *fixture) open(chatID string, list ...agentconfig.Agent) *agent.Session {
	f.t.Helper()
	s, err := agent.New(f.opts).Open(context.Background(), agent.User{ID: "alice"}, list, chatID)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.OpenChat(context.Background(), chatID, "alice"); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// turn runs one prompt and returns its frames.
func turn(ctx context.Context, s *agent.Session, prompt string) []string {
	em := &emitter{}
	s.Turn(ctx, em, chat.Prompt{Text: prompt, UserInput: prompt})
	return em.take()
}

// paired checks that every tool call of a thread has its result, and
// returns the thread's messages.
func paired(t *testing.T, st store.Store, thread string) []store.Message {
	t.Helper()
	msgs, err := st.Messages(context.Background(), thread)
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Paired(t, thread, msgs)
}

func contains(frames []string, sub string) bool {
	for _, f := range frames {
		if strings.Contains(f, sub) {
			return true
		}
	}
	return false
}
