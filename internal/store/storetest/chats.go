package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

func appendRoundTrip(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	u := userMsg("hello", 1)
	u.Agent = "rancher"
	u.Context = map[string]json.RawMessage{"cluster": json.RawMessage(`"local"`)}
	u.Labels = map[string]string{"summary": "s"}
	u.Tags = []string{"a", "b"}
	call := store.Message{
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t1", Name: "add", Arguments: json.RawMessage(`{"a":1}`)}}},
		Agent:   "rancher", RequestID: "req-1", CreatedAt: at(2),
	}
	result := store.Message{Message: llm.Message{Role: "tool", ToolCallID: "t1", Content: "2", IsError: true}, CreatedAt: at(2)}
	final := answer("done", 3, 10, 5)
	final.MCPResponses = []json.RawMessage{json.RawMessage(`{"kind":"Pod"}`)}
	want := []store.Message{u, call, result, final}
	add(t, s, c, "c1", want[:2]...)
	add(t, s, c, "c1", want[2:]...)
	if seq, err := s.Append(c, "c1"); err != nil || seq != 4 { // nothing: a no-op
		t.Fatalf("empty Append = %d, %v; want the thread's 4", seq, err)
	}
	got, err := s.Messages(c, "c1")
	must(t, err)
	if !reflect.DeepEqual(norm(t, got), norm(t, want)) {
		t.Fatalf("Messages:\n got  %s\n want %s", norm(t, got), norm(t, want))
	}
	if msgs, err := s.Messages(c, "other"); err != nil || len(msgs) != 0 {
		t.Fatalf("unknown thread = %v, %v; want empty", msgs, err)
	}
	last, ok, err := s.LastMessage(c, "c1")
	if err != nil || !ok || norm(t, []store.Message{last}) != norm(t, want[3:]) {
		t.Fatalf("LastMessage = %v, %v, %v; want the final answer", last, ok, err)
	}
	if _, ok, err := s.LastMessage(c, "other"); err != nil || ok {
		t.Fatalf("LastMessage of an unknown thread = %v, %v", ok, err)
	}
}

// norm renders messages as JSON, so time zones and nil-vs-empty compare
// as the API sees them.
func norm(t *testing.T, ms []store.Message) string {
	t.Helper()
	b, err := json.Marshal(ms)
	must(t, err)
	return string(b)
}

func defaultNameAndRename(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	long := strings.Repeat("é", 60)
	add(t, s, c, store.ChildThread("c1", "math"), userMsg("child question", 1))
	add(t, s, c, "c1", userMsg(long, 2), answer("a", 3, 1, 1))
	add(t, s, c, "c1", userMsg("second prompt", 4))
	ch, err := s.Chat(c, "c1", "alice")
	must(t, err)
	if ch.Name != strings.Repeat("é", 50) {
		t.Fatalf("default name = %q, want the first main-thread prompt cut to 50 runes", ch.Name)
	}
	r, err := s.RenameChat(c, "c1", "alice", "Renamed")
	must(t, err)
	add(t, s, c, "c1", userMsg("third", 5))
	ch, err = s.Chat(c, "c1", "alice")
	must(t, err)
	if r.Name != "Renamed" || ch.Name != "Renamed" {
		t.Fatalf("after rename: returned %q, stored %q", r.Name, ch.Name)
	}
}

func listChats(t *testing.T, s Engine) {
	c := ctx(t)
	clock, ok := s.(interface{ SetClock(func() time.Time) })
	if !ok {
		t.Fatal("engine has no SetClock")
	}
	for i, id := range []string{"old", "mid", "new", "empty"} {
		clock.SetClock(func() time.Time { return at(i) })
		_, err := s.OpenChat(c, id, "alice")
		must(t, err)
		if id != "empty" {
			add(t, s, c, id, userMsg("prompt "+id, i))
		}
	}
	_, err := s.OpenChat(c, "bobs", "bob")
	must(t, err)
	add(t, s, c, "bobs", userMsg("bob's", 9))
	ids := func(asc bool) string {
		cs, err := s.ListChats(c, "alice", asc)
		must(t, err)
		var out []string
		for _, ch := range cs {
			out = append(out, ch.ID+"="+ch.Name)
		}
		return strings.Join(out, ",")
	}
	if got := ids(false); got != "new=prompt new,mid=prompt mid,old=prompt old" {
		t.Fatalf("newest first = %s", got)
	}
	if got := ids(true); got != "old=prompt old,mid=prompt mid,new=prompt new" {
		t.Fatalf("oldest first = %s", got)
	}
	if cs, err := s.ListChats(c, "carol", false); err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("no chats = %#v, %v; want a non-nil empty list", cs, err)
	}
}

func deleteChat(t *testing.T, s Engine) {
	c := ctx(t)
	for _, id := range []string{"c1", "c2"} {
		_, err := s.OpenChat(c, id, "alice")
		must(t, err)
		add(t, s, c, id, userMsg("q", 1))
		add(t, s, c, store.ChildThread(id, "math"), userMsg("child", 2))
	}
	must(t, s.DeleteChat(c, "c1", "alice"))
	if _, err := s.Chat(c, "c1", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted chat: %v", err)
	}
	for _, th := range []string{"c1", store.ChildThread("c1", "math")} {
		if msgs, _ := s.Messages(c, th); len(msgs) != 0 {
			t.Fatalf("thread %s kept %d messages", th, len(msgs))
		}
	}
	if msgs, _ := s.Messages(c, store.ChildThread("c2", "math")); len(msgs) != 1 {
		t.Fatalf("other chat's child thread has %d messages, want 1", len(msgs))
	}
	if err := s.DeleteChat(c, "c1", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func deleteChats(t *testing.T, s Engine) {
	c := ctx(t)
	for i, u := range []string{"alice", "alice", "bob"} {
		id := fmt.Sprintf("c%d", i)
		_, err := s.OpenChat(c, id, u)
		must(t, err)
		add(t, s, c, id, userMsg("q", i))
	}
	n, err := s.DeleteChats(c, "alice")
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteChats = %d, want 2", n)
	}
	if cs, _ := s.ListChats(c, "alice", false); len(cs) != 0 {
		t.Fatalf("alice still has %d chats", len(cs))
	}
	if cs, _ := s.ListChats(c, "bob", false); len(cs) != 1 {
		t.Fatalf("bob has %d chats, want 1", len(cs))
	}
}

func usage(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	direct := answer("x", 2, 7, 3)
	direct.Agent = "rancher"
	add(t, s, c, "c1", userMsg("q", 1), answer("a", 2, 10, 4), direct, answer("b", 3, 1, 1))
	add(t, s, c, store.ChildThread("c1", "math"), userMsg("q", 1), answer("c", 2, 100, 50))
	add(t, s, c, store.ChildThread("c2", "math"), answer("other chat", 2, 1000, 1000))
	got, err := s.ChatUsage(c, "c1")
	must(t, err)
	want := map[string]store.TokenUsage{
		"supervisor": {InputTokens: 11, OutputTokens: 5},
		"rancher":    {InputTokens: 7, OutputTokens: 3},
		"math":       {InputTokens: 100, OutputTokens: 50},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ChatUsage = %+v, want %+v", got, want)
	}
}

// concurrentAppend: appends racing on one thread all land, each batch
// contiguous.
func concurrentAppend(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	seqs := make(chan int64, n)
	for i := range n {
		wg.Go(func() {
			seq, err := s.Append(c, "c1", userMsg(fmt.Sprintf("q%d", i), i), answer(fmt.Sprintf("a%d", i), i, 1, 1))
			errs <- err
			seqs <- seq
		})
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		must(t, err)
	}
	seen := map[int64]bool{}
	for seq := range seqs {
		if seq%2 != 0 || seq < 2 || seq > 2*n || seen[seq] {
			t.Fatalf("Append returned seq %d (seen %v): want each batch's own even end in 2..%d", seq, seen, 2*n)
		}
		seen[seq] = true
	}
	msgs, err := s.Messages(c, "c1")
	must(t, err)
	if len(msgs) != 2*n {
		t.Fatalf("%d messages, want %d", len(msgs), 2*n)
	}
	for i := 0; i < len(msgs); i += 2 {
		if "a"+msgs[i].Content[1:] != msgs[i+1].Content {
			t.Fatalf("batches interleaved at %d: %q then %q", i, msgs[i].Content, msgs[i+1].Content)
		}
	}
}

// prefixChats: a chat's threads are its own, not those of a chat whose id
// starts with its id ("c1" and "c10", "c1-x", "c1:", "c1;"): deleting, summing
// usage and listing see only the chat's main and child threads, and a chat
// with messages on a child thread only is listed.
func prefixChats(t *testing.T, s Engine) {
	c := ctx(t)
	ids := []string{"c1", "c10", "c1-x", "c1:", "c1;"}
	for _, id := range ids {
		_, err := s.OpenChat(c, id, "alice")
		must(t, err)
		add(t, s, c, id, userMsg("q "+id, 1), answer("a", 2, 1, 1))
		add(t, s, c, store.ChildThread(id, "math"), answer("child", 3, 10, 10))
	}
	_, err := s.OpenChat(c, "child-only", "alice")
	must(t, err)
	add(t, s, c, store.ChildThread("child-only", "math"), answer("child", 3, 1, 1))
	got, err := s.ChatUsage(c, "c1")
	must(t, err)
	if want := (map[string]store.TokenUsage{"supervisor": {InputTokens: 1, OutputTokens: 1}, "math": {InputTokens: 10, OutputTokens: 10}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ChatUsage(c1) = %+v, want %+v", got, want)
	}
	cs, err := s.ListChats(c, "alice", true)
	must(t, err)
	if len(cs) != len(ids)+1 {
		t.Fatalf("ListChats = %+v, want the %d chats", cs, len(ids)+1)
	}
	must(t, s.DeleteChat(c, "c1", "alice"))
	for _, id := range ids[1:] {
		for _, th := range []string{id, store.ChildThread(id, "math")} {
			if msgs, err := s.Messages(c, th); err != nil || len(msgs) == 0 {
				t.Fatalf("deleting c1 took thread %s (%d messages, %v)", th, len(msgs), err)
			}
		}
	}
	for _, th := range []string{"c1", store.ChildThread("c1", "math")} {
		if msgs, _ := s.Messages(c, th); len(msgs) != 0 {
			t.Fatalf("thread %s kept %d messages", th, len(msgs))
		}
	}
	n, err := s.DeleteChats(c, "alice")
	must(t, err)
	if n != len(ids) {
		t.Fatalf("DeleteChats = %d, want %d", n, len(ids))
	}
	for _, id := range append(ids, "child-only") {
		if seq, err := s.Seq(c, store.ChildThread(id, "math")); err != nil || seq != 0 {
			t.Fatalf("after DeleteChats, thread %s at %d, %v", store.ChildThread(id, "math"), seq, err)
		}
	}
}

// concurrentThreads: many goroutines appending at once to many threads
// (two writers per thread, as two sockets of one chat) all land; each
// thread is numbered 1, 2, ... without a gap, each batch contiguous.
func concurrentThreads(t *testing.T, s Engine) {
	c := ctx(t)
	const threads, writers, appends = 20, 2, 3
	for i := range threads {
		_, err := s.OpenChat(c, fmt.Sprintf("c%d", i), "alice")
		must(t, err)
	}
	type res struct {
		thread string
		seq    int64
		err    error
	}
	out := make(chan res, threads*writers*appends)
	var wg sync.WaitGroup
	for w := range threads * writers {
		th := fmt.Sprintf("c%d", w%threads)
		wg.Go(func() {
			for k := range appends {
				q := fmt.Sprintf("q%d-%d", w, k)
				seq, err := s.Append(c, th, userMsg(q, k), answer("a"+q[1:], k, 1, 1))
				out <- res{th, seq, err}
			}
		})
	}
	wg.Wait()
	close(out)
	seqs := map[string]map[int64]bool{}
	for r := range out {
		must(t, r.err)
		if seqs[r.thread] == nil {
			seqs[r.thread] = map[int64]bool{}
		}
		if r.seq%2 != 0 || seqs[r.thread][r.seq] {
			t.Fatalf("thread %s: Append returned %d (seen %v)", r.thread, r.seq, seqs[r.thread])
		}
		seqs[r.thread][r.seq] = true
	}
	for i := range threads {
		th := fmt.Sprintf("c%d", i)
		const n = 2 * writers * appends
		for seq := int64(2); seq <= n; seq += 2 {
			if !seqs[th][seq] {
				t.Fatalf("thread %s: no Append ended at %d (%v)", th, seq, seqs[th])
			}
		}
		msgs, err := s.Messages(c, th)
		must(t, err)
		if len(msgs) != n {
			t.Fatalf("thread %s: %d messages, want %d", th, len(msgs), n)
		}
		for j := 0; j < n; j += 2 {
			if "a"+msgs[j].Content[1:] != msgs[j+1].Content {
				t.Fatalf("thread %s: batches interleaved at %d: %q then %q", th, j, msgs[j].Content, msgs[j+1].Content)
			}
		}
		if seq, err := s.Seq(c, th); err != nil || seq != n {
			t.Fatalf("Seq(%s) = %d, %v; want %d", th, seq, err, n)
		}
	}
}

// sequence: Append numbers messages 1, 2, ...; Seq and MessagesAfter read
// the number, so a copy of a thread can catch up with another writer.
func sequence(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	if seq, err := s.Seq(c, "c1"); err != nil || seq != 0 {
		t.Fatalf("Seq of an empty thread = %d, %v", seq, err)
	}
	seq, err := s.Append(c, "c1", userMsg("q1", 1), answer("a1", 2, 1, 1))
	if err != nil || seq != 2 {
		t.Fatalf("Append = %d, %v; want 2", seq, err)
	}
	seq, err = s.Append(c, "c1", userMsg("q2", 3))
	if err != nil || seq != 3 {
		t.Fatalf("second Append = %d, %v; want 3", seq, err)
	}
	if seq, err := s.Seq(c, "c1"); err != nil || seq != 3 {
		t.Fatalf("Seq = %d, %v; want 3", seq, err)
	}
	for after, want := range map[int64]string{0: "q1,a1,q2", 1: "a1,q2", 2: "q2", 3: "", 7: ""} {
		msgs, seq, err := s.MessagesAfter(c, "c1", after)
		must(t, err)
		var got []string
		for _, m := range msgs {
			got = append(got, m.Content)
		}
		if strings.Join(got, ",") != want || seq != 3 {
			t.Fatalf("MessagesAfter(%d) = %v, %d; want %q, 3", after, got, seq, want)
		}
	}
	must(t, s.DeleteChat(c, "c1", "alice"))
	if seq, err := s.Seq(c, "c1"); err != nil || seq != 0 {
		t.Fatalf("Seq after delete = %d, %v; want 0", seq, err)
	}
	if msgs, seq, err := s.MessagesAfter(c, "c1", 3); err != nil || len(msgs) != 0 || seq != 0 {
		t.Fatalf("MessagesAfter a deleted thread = %v, %d, %v; want none at 0", msgs, seq, err)
	}
}

// summaryUsage: a summary's tokens count under "summarization".
func summaryUsage(t *testing.T, s Engine) {
	c := ctx(t)
	_, err := s.OpenChat(c, "c1", "alice")
	must(t, err)
	sum := answer("the story so far", 2, 300, 20)
	sum.Role, sum.Summarized, sum.Agent = store.RoleSummary, 12, "rancher"
	add(t, s, c, "c1", userMsg("q", 1), sum)
	got, err := s.ChatUsage(c, "c1")
	must(t, err)
	if want := (map[string]store.TokenUsage{store.SourceSummarization: {InputTokens: 300, OutputTokens: 20}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ChatUsage = %+v, want %+v", got, want)
	}
	msgs, err := s.Messages(c, "c1")
	must(t, err)
	if m := msgs[1]; m.Role != store.RoleSummary || m.Summarized != 12 || m.Content != "the story so far" {
		t.Fatalf("summary read back as %+v", m)
	}
}
