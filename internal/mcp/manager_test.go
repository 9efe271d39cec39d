package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

func toolNames(ts []Tool) []string {
	var n []string
	for _, t := range ts {
		n = append(n, t.Name)
	}
	slices.Sort(n)
	return n
}

func TestToolsFilterAndHidePlan(t *testing.T) {
	ts := startServer(t, "")
	m := newTestManager(t, Options{})
	ctx := context.Background()

	a := testAgent("all", ts.URL)
	tools, err := m.Tools(ctx, a, noneCred(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"echo", "fail", "json", "listPods", "llmObject", "plain", "slow", "updateThing"}
	if got := toolNames(tools); !slices.Equal(got, want) {
		t.Fatalf("tools = %v, want %v", got, want)
	}
	for _, tl := range tools {
		if !strings.Contains(string(tl.InputSchema), `"object"`) || tl.Description != tl.Name+" tool" {
			t.Fatalf("tool %q: schema %s description %q", tl.Name, tl.InputSchema, tl.Description)
		}
	}

	a = testAgent("admin", ts.URL)
	a.Spec.ToolSet = "admin"
	tools, err = m.Tools(ctx, a, noneCred(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(tools); !slices.Equal(got, []string{"updateThing"}) {
		t.Fatalf("admin tools = %v", got)
	}
	// The hidden plan tool is still callable.
	res, err := m.Call(ctx, a, noneCred(t), "updateThingPlan", json.RawMessage(`{}`))
	if err != nil || res.ForModel != "plan: would update" {
		t.Fatalf("Call plan = %+v, %v", res, err)
	}
}

func TestToolsCacheAndInvalidation(t *testing.T) {
	ts := startServer(t, "")
	m := newTestManager(t, Options{})
	ctx := context.Background()
	a := testAgent("cache", ts.URL)
	cred := noneCred(t)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := m.Tools(ctx, a, cred); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := ts.lists.Load(); n != 1 {
		t.Fatalf("tools/list requests = %d, want 1 (cache hit, no herd)", n)
	}

	// A failure invalidates the entry and the session.
	ts.reject.Store(http.StatusInternalServerError)
	m.Forget("unrelated")
	m.mu.Lock()
	for _, e := range m.entries {
		e.mu.Lock()
		e.haveTools = false // force a list on the existing session
		e.mu.Unlock()
	}
	m.mu.Unlock()
	if _, err := m.Tools(ctx, a, cred); err == nil {
		t.Fatal("Tools succeeded against a failing server")
	}
	ts.reject.Store(0)
	if _, err := m.Tools(ctx, a, cred); err != nil {
		t.Fatal(err)
	}
	if n := ts.lists.Load(); n != 2 {
		t.Fatalf("tools/list requests after failure = %d, want 2", n)
	}
	if _, err := m.Tools(ctx, a, cred); err != nil || ts.lists.Load() != 2 {
		t.Fatalf("expected a cache hit after recovery: %v, lists=%d", err, ts.lists.Load())
	}

	// Forget drops the cache; so does a new revision.
	m.Forget("cache")
	if _, err := m.Tools(ctx, a, cred); err != nil || ts.lists.Load() != 3 {
		t.Fatalf("after Forget: %v, lists=%d, want 3", err, ts.lists.Load())
	}
	a.Revision = "2"
	if _, err := m.Tools(ctx, a, cred); err != nil || ts.lists.Load() != 4 {
		t.Fatalf("after revision change: %v, lists=%d, want 4", err, ts.lists.Load())
	}
	m.ForgetCredential("cache", cred.CacheKey())
	if _, err := m.Tools(ctx, a, cred); err != nil || ts.lists.Load() != 5 {
		t.Fatalf("after ForgetCredential: %v, lists=%d, want 5", err, ts.lists.Load())
	}
}

func TestCallResults(t *testing.T) {
	ts := startServer(t, "")
	m := newTestManager(t, Options{})
	ctx := context.Background()
	a := testAgent("call", ts.URL)
	cred := noneCred(t)

	res, err := m.Call(ctx, a, cred, "json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ForModel != "summary for model" || string(res.UIContext) != `{"kind":"Pod"}` ||
		!slices.Equal(res.DocLinks, []string{"https://docs/a", "https://docs/b"}) || res.IsError ||
		!strings.HasPrefix(res.Raw, `{"llm"`) {
		t.Fatalf("json result = %+v", res)
	}

	res, err = m.Call(ctx, a, cred, "llmObject", nil)
	if err != nil || res.ForModel != `{"n":1}` || string(res.UIContext) != "[1,2]" || res.DocLinks != nil {
		t.Fatalf("llmObject result = %+v, %v", res, err)
	}

	res, err = m.Call(ctx, a, cred, "plain", nil)
	if err != nil || res.ForModel != "hello world" || res.Raw != "hello world" || res.UIContext != nil {
		t.Fatalf("plain result = %+v, %v", res, err)
	}

	res, err = m.Call(ctx, a, cred, "fail", nil)
	if err != nil || !res.IsError || res.ForModel != "boom" {
		t.Fatalf("isError result = %+v, %v", res, err)
	}

	res, err = m.Call(ctx, a, cred, "echo", json.RawMessage(`{"ns":"default"}`))
	if err != nil || res.Raw != `{"ns":"default"}` {
		t.Fatalf("echo result = %+v, %v", res, err)
	}

	if _, err := m.Call(ctx, a, cred, "noSuchTool", nil); err == nil {
		t.Fatal("unknown tool: want an error")
	}
}

func TestAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		code int
		is   error
	}{{http.StatusUnauthorized, ErrUnauthorized}, {http.StatusForbidden, ErrForbidden}} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			ts := startServer(t, "")
			m := newTestManager(t, Options{})
			ctx := context.Background()
			a := testAgent("auth", ts.URL)
			ts.reject.Store(int32(tc.code))

			_, err := m.Tools(ctx, a, noneCred(t))
			checkAuthErr(t, err, tc.code, tc.is)
			_, err = m.Call(ctx, a, noneCred(t), "plain", nil)
			checkAuthErr(t, err, tc.code, tc.is)

			// A 401/403 on an established session is not retried.
			ts.reject.Store(0)
			if _, err := m.Call(ctx, a, noneCred(t), "plain", nil); err != nil {
				t.Fatal(err)
			}
			before := ts.posts.Load()
			ts.reject.Store(int32(tc.code))
			_, err = m.Call(ctx, a, noneCred(t), "plain", nil)
			checkAuthErr(t, err, tc.code, tc.is)
			if n := ts.posts.Load() - before; n != 1 {
				t.Fatalf("%d requests after %d, want 1 (no retry)", n, tc.code)
			}
		})
	}
}

func checkAuthErr(t *testing.T, err error, code int, is error) {
	t.Helper()
	if !errors.Is(err, is) {
		t.Fatalf("err = %v, want errors.Is %v", err, is)
	}
	var herr *HTTPStatusError
	if !errors.As(err, &herr) || herr.StatusCode != code {
		t.Fatalf("err = %v, want *HTTPStatusError %d", err, code)
	}
	want := []string{`Bearer resource_metadata="http://x/.well-known/oauth-protected-resource"`, `Basic realm="x"`}
	if !slices.Equal(herr.WWWAuthenticate, want) {
		t.Fatalf("WWW-Authenticate = %q", herr.WWWAuthenticate)
	}
}

func TestServerDownAndBack(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0")
	addr := ts.Listener.Addr().String()
	m := newTestManager(t, Options{Timeout: 5 * time.Second})
	ctx := context.Background()
	a := testAgent("down", ts.URL)
	cred := noneCred(t)

	if _, err := m.Call(ctx, a, cred, "plain", nil); err != nil {
		t.Fatal(err)
	}
	ts.Close()
	_, err := m.Call(ctx, a, cred, "plain", nil)
	if err == nil || !strings.Contains(err.Error(), `agent "down"`) {
		t.Fatalf("server down: err = %v", err)
	}
	if _, err := m.Tools(ctx, a, cred); err == nil {
		t.Fatal("Tools with the server down: want an error")
	}

	ts2 := startServer(t, addr)
	res, err := m.Call(ctx, a, cred, "plain", nil)
	if err != nil || res.Raw != "hello world" {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
	if _, err := m.Tools(ctx, a, cred); err != nil || ts2.lists.Load() != 1 {
		t.Fatalf("Tools after restart: %v (lists %d)", err, ts2.lists.Load())
	}
}

func TestSessionReconnectAfterServerRestart(t *testing.T) {
	// The session is established; the server restarts and forgets it (404):
	// Call reconnects once, transparently.
	ts := startServer(t, "127.0.0.1:0")
	addr := ts.Listener.Addr().String()
	m := newTestManager(t, Options{})
	a := testAgent("restart", ts.URL)
	cred := noneCred(t)
	if _, err := m.Call(context.Background(), a, cred, "plain", nil); err != nil {
		t.Fatal(err)
	}
	ts.Close()
	ts2 := startServer(t, addr)
	if _, err := m.Call(context.Background(), a, cred, "plain", nil); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	if ts2.calls.Load() != 1 {
		t.Fatalf("calls at new server = %d, want 1", ts2.calls.Load())
	}
}

func TestTimeoutIsNotRetried(t *testing.T) {
	ts := startServer(t, "")
	m := newTestManager(t, Options{Timeout: 200 * time.Millisecond})
	a := testAgent("slow", ts.URL)
	if _, err := m.Call(context.Background(), a, noneCred(t), "slow", nil); err == nil {
		t.Fatal("slow call: want a timeout error")
	}
	if n := ts.calls.Load(); n != 1 {
		t.Fatalf("tools/call reached the server %d times, want 1", n)
	}
}

func TestIdleSessionsAreDropped(t *testing.T) {
	ts := startServer(t, "")
	// The reaper's ticker (every TTL/2) does not fire within the test: the
	// test runs its pass at chosen instants.
	const ttl = time.Hour
	m := newTestManager(t, Options{SessionIdleTTL: ttl})
	a := testAgent("idle", ts.URL)
	if _, err := m.Tools(context.Background(), a, noneCred(t)); err != nil {
		t.Fatal(err)
	}
	entries := func() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.entries) }
	m.reapIdle(time.Now().Add(ttl / 2))
	if n := entries(); n != 1 {
		t.Fatalf("%d entries after half the idle TTL, want 1", n)
	}
	m.reapIdle(time.Now().Add(ttl + time.Minute))
	if n := entries(); n != 0 {
		t.Fatalf("%d idle entries were not dropped", n)
	}
}

func TestClosedManager(t *testing.T) {
	m := NewManager(Options{})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Tools(context.Background(), testAgent("c", "http://127.0.0.1:1"), noneCred(t)); !errors.Is(err, errClosed) {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkCall is one Manager.Call of a small tool on an open session to an
// in-process go-sdk server (SSE answers); bytes and allocations are the
// process's, the server's included. "lean" is the Manager's own tools/call,
// "go-sdk" go-sdk's CallTool (taken when an elicitation handler is set).
func BenchmarkCall(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"lean", Options{}},
		{"go-sdk", Options{Elicit: func(context.Context, *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
			return &sdk.ElicitResult{Action: "decline"}, nil
		}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts := startServer(b, "")
			m := NewManager(bc.opts)
			defer m.Close() // before the server's Close, which waits for go-sdk's standalone stream
			a := testAgent("bench", ts.URL)
			cred := noneCred(b)
			ctx := context.Background()
			args := json.RawMessage(`{"x":1}`)
			if _, err := m.Call(ctx, a, cred, "echo", args); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Call(ctx, a, cred, "echo", args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
