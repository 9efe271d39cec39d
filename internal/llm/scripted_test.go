package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// collect drains one model call.
func collect(t *testing.T, ctx context.Context, m llm.Model, req llm.Request) ([]llm.Event, error) {
	t.Helper()
	var evs []llm.Event
	for ev, err := range m.Stream(ctx, req) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func texts(evs []llm.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Text != "" {
			out = append(out, e.Text)
		}
	}
	return out
}

func TestScriptedTextAndToolCalls(t *testing.T) {
	s := llm.NewScripted(
		llm.TextEntry("Hello ", "world"),
		llm.Entry{ToolCalls: []llm.ScriptedCall{{Name: "a", Args: json.RawMessage(`{"x":1}`)}, {Name: "b"}}},
	)
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "one two three"}}}
	evs, err := collect(t, context.Background(), s, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(evs); !reflect.DeepEqual(got, []string{"Hello ", "world"}) {
		t.Fatalf("text = %q", got)
	}
	last := evs[len(evs)-1]
	if last.Usage == nil || last.Usage.InputTokens != 3 || last.Usage.OutputTokens != 2 {
		t.Fatalf("usage = %+v", last.Usage)
	}
	evs, err = collect(t, context.Background(), s, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].ToolCall == nil || evs[1].ToolCall == nil {
		t.Fatalf("events = %+v", evs)
	}
	a, b := evs[0].ToolCall, evs[1].ToolCall
	if a.ID != "call_1" || a.Name != "a" || string(a.Arguments) != `{"x":1}` {
		t.Errorf("first call = %+v", a)
	}
	if b.ID != "call_2" || b.Name != "b" || string(b.Arguments) != `{}` {
		t.Errorf("second call = %+v", b)
	}
}

func TestScriptedEmptyQueue(t *testing.T) {
	s := llm.NewScripted()
	evs, err := collect(t, context.Background(), s, llm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(evs); len(got) != 1 || got[0] != llm.EmptyQueueText {
		t.Fatalf("text = %q", got)
	}
	s.Fallback = func(r llm.Request) llm.Entry { return llm.TextEntry("fallback:" + r.Purpose) }
	evs, _ = collect(t, context.Background(), s, llm.Request{Purpose: "agent"})
	if got := texts(evs); len(got) != 1 || got[0] != "fallback:agent" {
		t.Fatalf("fallback text = %q", got)
	}
}

func TestScriptedRequestsRecorded(t *testing.T) {
	s := llm.NewScripted(llm.TextEntry("a"), llm.TextEntry("b"))
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: "sys"}, {Role: llm.RoleUser, Content: "hi"}}
	_, _ = collect(t, context.Background(), s, llm.Request{Messages: msgs, Purpose: "agent"})
	msgs[1].Content = "mutated by caller"
	_, _ = collect(t, context.Background(), s, llm.Request{Messages: msgs[:1], Purpose: "supervisor"})
	got := s.Requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	want := []llm.Message{{Role: llm.RoleSystem, Content: "sys"}, {Role: llm.RoleUser, Content: "hi"}}
	if !reflect.DeepEqual(got[0].Messages, want) || got[0].Purpose != "agent" {
		t.Errorf("first request = %+v", got[0])
	}
	if got[1].Purpose != "supervisor" || len(got[1].Messages) != 1 {
		t.Errorf("second request = %+v", got[1])
	}
	got[0].Messages[0].Content = "changed"
	if s.Requests()[0].Messages[0].Content != "sys" {
		t.Error("Requests returned shared memory")
	}
}

func TestScriptedClear(t *testing.T) {
	s := llm.NewScripted(llm.TextEntry("a"))
	s.Clear()
	if s.Len() != 0 {
		t.Fatalf("Len = %d after Clear", s.Len())
	}
}

func TestScriptedConcurrent(t *testing.T) {
	s := llm.NewScripted()
	const n = 50
	var wg sync.WaitGroup
	seen := make(chan string, n)
	for range n {
		wg.Add(2)
		go func() { defer wg.Done(); s.Push(llm.Entry{ToolCalls: []llm.ScriptedCall{{Name: "t"}}}) }()
		go func() {
			defer wg.Done()
			evs, err := collect(t, context.Background(), s, llm.Request{})
			if err != nil {
				t.Error(err)
				return
			}
			for _, e := range evs {
				if e.ToolCall != nil {
					seen <- e.ToolCall.ID
				}
			}
			_ = s.Requests()
		}()
	}
	wg.Wait()
	close(seen)
	ids := map[string]bool{}
	for id := range seen {
		if ids[id] {
			t.Fatalf("duplicate id %s", id)
		}
		ids[id] = true
	}
	if got := len(s.Requests()); got != n {
		t.Fatalf("%d requests recorded, want %d", got, n)
	}
	if len(ids)+s.Len() != n {
		t.Fatalf("%d calls streamed + %d queued != %d pushed", len(ids), s.Len(), n)
	}
}

func TestScriptedCancelMidStream(t *testing.T) {
	s := llm.NewScripted(llm.TextEntry("a", "b", "c"))
	s.ChunkDelay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	var gotErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range s.Stream(ctx, llm.Request{}) {
			if err != nil {
				gotErr = err
				return
			}
			got = append(got, ev.Text)
			cancel()
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not stop on cancel")
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", gotErr)
	}
	if !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("got %q before cancel", got)
	}
}

func TestScriptedCancelledBeforeStart(t *testing.T) {
	s := llm.NewScripted(llm.TextEntry("a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := collect(t, ctx, s, llm.Request{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if s.Len() != 1 {
		t.Fatal("a cancelled call popped an entry")
	}
}
