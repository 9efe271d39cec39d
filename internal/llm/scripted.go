package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"
)

// EmptyQueueText is what Scripted streams when its queue is empty and no
// Fallback is set. It mirrors rancher-ai-llm-mock's default response.
const EmptyQueueText = "Mock service: messages queue is empty. This is a default mock response from the scripted model."

// ScriptedCall is one tool call of a scripted response.
type ScriptedCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Entry is the response to one model call: text chunks, each streamed as its
// own Event, and/or tool calls (streamed after the text).
type Entry struct {
	Text      []string       `json:"text,omitempty"`
	ToolCalls []ScriptedCall `json:"toolCalls,omitempty"`
}

// TextEntry is an Entry that streams the given chunks.
func TextEntry(chunks ...string) Entry { return Entry{Text: chunks} }

// Scripted is a Model that plays back a FIFO queue of entries: every model
// call pops one. It records every request it receives. The exported fields
// are configuration: set them before the first call. Methods are safe for
// concurrent use.
type Scripted struct {
	// ChunkDelay is waited between two streamed events (0: no wait).
	ChunkDelay time.Duration
	// Fallback, when set, answers calls made while the queue is empty.
	Fallback func(Request) Entry

	mu       sync.Mutex
	queue    []Entry
	requests []Request
	nextID   int
}

// NewScripted returns a Scripted model with the given entries queued.
func NewScripted(entries ...Entry) *Scripted {
	s := &Scripted{}
	s.Push(entries...)
	return s
}

// Push appends entries to the queue.
func (s *Scripted) Push(entries ...Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, entries...)
}

// Clear empties the queue. Recorded requests are kept.
func (s *Scripted) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = nil
}

// Len returns the number of queued entries.
func (s *Scripted) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// maxRecorded bounds the requests kept for Requests.
const maxRecorded = 1000

// Requests returns a copy of the requests received (the last 1000), oldest first.
func (s *Scripted) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = copyRequest(r)
	}
	return out
}

// Stream implements Model. Each iteration of the returned sequence is one
// model call: it records req, pops one entry and streams it, then a Usage
// event. A cancelled ctx ends the stream with ctx.Err().
func (s *Scripted) Stream(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(Event{}, fmt.Errorf("scripted model: %w", err))
			return
		}
		events := s.call(req)
		for i, ev := range events {
			if i > 0 && ev.Usage == nil {
				if err := s.wait(ctx); err != nil {
					yield(Event{}, err)
					return
				}
			}
			if err := ctx.Err(); err != nil {
				yield(Event{}, fmt.Errorf("scripted model: %w", err))
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// call records req, pops the next entry and turns it into events.
func (s *Scripted) call(req Request) []Event {
	s.mu.Lock()
	s.requests = append(s.requests, copyRequest(req))
	if len(s.requests) > maxRecorded {
		// Bounded, so a long-running server with the scripted model does not grow.
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRecorded:]...)
	}
	var entry Entry
	popped := len(s.queue) > 0
	if popped {
		entry = s.queue[0]
		s.queue[0] = Entry{}
		s.queue = s.queue[1:]
	}
	s.mu.Unlock()

	if !popped {
		if s.Fallback != nil {
			entry = s.Fallback(copyRequest(req))
		} else {
			entry = TextEntry(EmptyQueueText)
		}
	}

	events := make([]Event, 0, len(entry.Text)+len(entry.ToolCalls)+1)
	out := 0
	for _, chunk := range entry.Text {
		events = append(events, Event{Text: chunk})
		out += countWords(chunk)
	}
	if len(entry.ToolCalls) > 0 {
		s.mu.Lock()
		for _, c := range entry.ToolCalls {
			s.nextID++
			args := c.Args
			if len(args) == 0 || string(args) == "null" {
				args = json.RawMessage(`{}`)
			}
			tc := &ToolCall{ID: fmt.Sprintf("call_%d", s.nextID), Name: c.Name, Arguments: append(json.RawMessage(nil), args...)}
			events = append(events, Event{ToolCall: tc})
			out += 1 + countWords(string(args))
		}
		s.mu.Unlock()
	}
	events = append(events, Event{Usage: &Usage{InputTokens: inputTokens(req), OutputTokens: out}})
	return events
}

func (s *Scripted) wait(ctx context.Context) error {
	if s.ChunkDelay <= 0 {
		return nil
	}
	t := time.NewTimer(s.ChunkDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("scripted model: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// inputTokens counts the words of every message and tool call of req.
func inputTokens(req Request) int {
	n := 0
	for _, m := range req.Messages {
		n += countWords(m.Content)
		for _, c := range m.ToolCalls {
			n += 1 + countWords(string(c.Arguments))
		}
	}
	return n
}

func countWords(s string) int { return len(strings.Fields(s)) }

func copyRequest(r Request) Request {
	r.Messages = append([]Message(nil), r.Messages...)
	for i := range r.Messages {
		r.Messages[i].ToolCalls = append([]ToolCall(nil), r.Messages[i].ToolCalls...)
	}
	r.Tools = append([]Tool(nil), r.Tools...)
	return r
}
