package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// leanOf is the entry's lean caller, nil when it calls through go-sdk.
func leanOf(e *entry) *leanSession {
	s, _ := e.caller.(*leanSession)
	return s
}

// TestCallersAgree runs every case of a tools/call through both callers,
// the lean call and go-sdk's CallTool, against real go-sdk servers: a JSON
// answer, an SSE answer, server requests on the call's stream, a stream
// resumed with Last-Event-ID, a cancelled call, a 404 for a forgotten
// session. Both must give the same result to Manager.Call, and each case
// checks that the caller it names is the one that ran.
func TestCallersAgree(t *testing.T) {
	type check func(t *testing.T, m *Manager, p *callPeer, a func() (Result, error))
	cases := []struct {
		name  string
		opts  *sdk.StreamableHTTPOptions
		tools func(*sdk.Server, *callPeer)
		// before runs once the peer is up (to arm a one-off answer).
		before func(p *callPeer)
		check  check
	}{
		{
			name: "json",
			opts: &sdk.StreamableHTTPOptions{JSONResponse: true},
			tools: func(s *sdk.Server, _ *callPeer) {
				textTool(s, "x", func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					return textResult("json answer"), nil
				})
			},
			check: wantText("json answer"),
		},
		{
			name: "sse",
			tools: func(s *sdk.Server, _ *callPeer) {
				textTool(s, "x", func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					if err := req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: "t", Progress: 1}); err != nil {
						return nil, err
					}
					return textResult("sse answer"), nil
				})
			},
			check: wantText("sse answer"),
		},
		{
			name: "server requests",
			tools: func(s *sdk.Server, _ *callPeer) {
				textTool(s, "x", func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					if err := req.Session.Ping(ctx, nil); err != nil {
						return nil, fmt.Errorf("ping: %w", err)
					}
					//lint:ignore SA1019 a server of a revision before 2026-07-28 may ask for roots
					roots, err := req.Session.ListRoots(ctx, nil)
					if err != nil {
						return nil, fmt.Errorf("roots: %w", err)
					}
					return textResult(fmt.Sprintf("ping ok, roots %d", len(roots.Roots))), nil
				})
			},
			check: wantText("ping ok, roots 0"),
		},
		{
			name: "resumption",
			opts: &sdk.StreamableHTTPOptions{EventStore: sdk.NewMemoryEventStore(nil)},
			tools: func(s *sdk.Server, _ *callPeer) {
				textTool(s, "x", func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					if err := req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: "t", Progress: 1}); err != nil {
						return nil, err
					}
					req.Extra.CloseSSEStream(sdk.CloseSSEStreamArgs{RetryAfter: time.Millisecond})
					return textResult("after the break"), nil
				})
			},
			check: func(t *testing.T, m *Manager, p *callPeer, call func() (Result, error)) {
				wantText("after the break")(t, m, p, call)
				if _, ids, _, gets := p.snapshot(); len(ids) != 1 || len(gets) == 0 || gets[len(gets)-1].Get("Last-Event-ID") == "" {
					t.Fatalf("tools/call %d times, GETs %v: want one call resumed with Last-Event-ID", len(ids), gets)
				}
			},
		},
		{
			name: "cancel",
			tools: func(s *sdk.Server, p *callPeer) {
				textTool(s, "x", func(ctx context.Context, _ *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					p.started <- struct{}{}
					<-ctx.Done()
					return nil, ctx.Err()
				})
			},
			check: nil, // below: the call needs its own context
		},
		{
			name: "404",
			tools: func(s *sdk.Server, _ *callPeer) {
				textTool(s, "x", func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
					return textResult("on the new session"), nil
				})
			},
			before: func(p *callPeer) {
				p.setAnswer(func(w http.ResponseWriter, _ json.RawMessage) {
					p.setAnswer(nil)
					http.Error(w, "session not found", http.StatusNotFound)
				})
			},
			check: func(t *testing.T, m *Manager, p *callPeer, call func() (Result, error)) {
				wantText("on the new session")(t, m, p, call)
				if received, ids, _, _ := p.snapshot(); len(ids) != 2 || count(received, "initialize") != 2 {
					t.Fatalf("tools/call %v, initialize %d times: want two calls on two sessions", ids, count(received, "initialize"))
				}
			},
		},
	}
	for _, via := range []string{"lean", "go-sdk"} {
		for _, tc := range cases {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				p := startCallPeer(t, tc.opts, tc.tools)
				m := newTestManager(t, Options{})
				m.viaSDK = via == "go-sdk"
				a := testAgent("a", p.URL)
				if tc.before != nil {
					if _, err := m.Tools(context.Background(), a, noneCred(t)); err != nil {
						t.Fatal(err)
					}
					tc.before(p)
				}
				if tc.check == nil { // cancel
					ctx, cancel := context.WithCancel(context.Background())
					go func() {
						<-p.started
						cancel()
					}()
					if _, err := m.Call(ctx, a, noneCred(t), "x", nil); !errors.Is(err, context.Canceled) {
						t.Fatalf("err = %v, want context.Canceled", err)
					}
					select {
					case <-p.cancels:
					case <-time.After(10 * time.Second):
						t.Fatal("the server never saw notifications/cancelled")
					}
				} else {
					tc.check(t, m, p, func() (Result, error) {
						return m.Call(context.Background(), a, noneCred(t), "x", nil)
					})
				}
				_, ids, _, _ := p.snapshot()
				for _, id := range ids {
					if lean := strings.HasPrefix(id, `"`+callIDPrefix); lean != (via == "lean") {
						t.Fatalf("tools/call id %s: the %s caller did not make the call", id, via)
					}
				}
				if isLean := leanOf(onlyEntry(t, m)) != nil; isLean != (via == "lean") {
					t.Fatalf("the session's caller is lean: %v, want %s", isLean, via)
				}
			})
		}
	}
}

func wantText(text string) func(*testing.T, *Manager, *callPeer, func() (Result, error)) {
	return func(t *testing.T, _ *Manager, _ *callPeer, call func() (Result, error)) {
		t.Helper()
		res, err := call()
		if err != nil || res.Raw != text || res.IsError {
			t.Fatalf("result %+v, %v; want %q", res, err, text)
		}
	}
}
