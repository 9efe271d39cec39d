// Package llmmock is a Go stand-in for rancher-ai-llm-mock (ui-protocol.md
// §8): one HTTP server that pretends to be Ollama, OpenAI, Gemini and
// Bedrock, and answers every model call with the next entry of one global
// FIFO queue fed through POST /v1/control/push. It lets the agent's real
// provider clients run end to end with no outside service, exactly as the
// UI's e2e suite runs the Python agent against the real mock.
//
// The queue, the push body shapes and the empty-queue answer are those of
// llm.Scripted (llm.PushEntries), so one script format serves both.
package llmmock

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/rancher/ai-agent/internal/llm"
)

// Call is one provider request the mock received.
type Call struct {
	// Provider is "ollama", "openai", "gemini" or "bedrock".
	Provider string
	Path     string
	// Body is the raw request body (bounded to 4 MiB).
	Body []byte
}

// Mock is the handler. Create it with New; it is safe for concurrent use.
type Mock struct {
	queue *llm.Scripted
	mux   *http.ServeMux

	mu    sync.Mutex
	calls []Call
}

// EmptyText is the answer when the queue is empty, as the real mock words it.
func EmptyText(provider string) string {
	return "Mock service: messages queue is empty. This is a default mock response from the " + provider + " model."
}

// New returns a mock with an empty queue.
func New() *Mock {
	m := &Mock{queue: llm.NewScripted(), mux: http.NewServeMux()}
	// Purpose carries the provider name into the fallback (see pop).
	m.queue.Fallback = func(r llm.Request) llm.Entry { return llm.TextEntry(EmptyText(r.Purpose)) }
	control := m.queue.ControlHandler()
	m.mux.Handle("POST /v1/control/push", control)
	m.mux.Handle("POST /v1/control/clear", control)
	m.mux.HandleFunc("POST /api/chat", m.ollama)
	m.mux.HandleFunc("POST /chat/completions", m.openAI)
	m.mux.HandleFunc("POST /v1/chat/completions", m.openAI)
	m.mux.HandleFunc("POST /v1beta/models/{model}", m.gemini)
	m.mux.HandleFunc("POST /model/{model}/converse", m.bedrock)
	return m
}

// ServeHTTP implements http.Handler.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Push queues the entries of one push body, as POST /v1/control/push does.
func (m *Mock) Push(body []byte) error {
	e, err := llm.PushEntries(body)
	if err != nil {
		return err
	}
	m.queue.Push(e...)
	return nil
}

// Len is the number of queued entries.
func (m *Mock) Len() int { return m.queue.Len() }

// Calls returns the provider requests received so far, oldest first.
func (m *Mock) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// reply is one popped queue entry in provider-neutral form.
type reply struct {
	text  []string
	calls []llm.ToolCall
}

// pop records the request and pops the next entry.
func (m *Mock) pop(ctx context.Context, provider string, r *http.Request) (reply, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return reply{}, err
	}
	m.mu.Lock()
	m.calls = append(m.calls, Call{Provider: provider, Path: r.URL.Path, Body: body})
	m.mu.Unlock()
	var out reply
	for ev, err := range m.queue.Stream(ctx, llm.Request{Purpose: provider}) {
		if err != nil {
			return reply{}, err
		}
		switch {
		case ev.Text != "":
			out.text = append(out.text, ev.Text)
		case ev.ToolCall != nil:
			out.calls = append(out.calls, *ev.ToolCall)
		}
	}
	return out, nil
}

// streamer writes one chunk at a time, flushing each.
type streamer struct {
	w http.ResponseWriter
}

func (s *streamer) write(b []byte) bool {
	if _, err := s.w.Write(b); err != nil {
		return false
	}
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only plain maps and slices are marshalled here
		panic(err)
	}
	return b
}

func fail(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
