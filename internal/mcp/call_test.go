package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// callPeer is a real go-sdk MCP server (the session: initialize, tools/list,
// DELETE) in front of which a test may answer tools/call POSTs itself, to
// send what no go-sdk server sends (a wrong id, an oversized body, a cut
// stream). It records what reached it.
type callPeer struct {
	*httptest.Server
	// answer, when set, answers tools/call POSTs (id is the request's raw id).
	answer func(w http.ResponseWriter, id json.RawMessage)

	mu       sync.Mutex
	received []string      // JSON-RPC methods the go-sdk server received
	callIDs  []string      // raw ids of the tools/call POSTs
	replies  []string      // bodies of JSON-RPC responses the client POSTed
	gets     []http.Header // headers of GET requests
	seen     chan string   // every method received, also sent here
	cancels  chan string   // requestId of each notifications/cancelled
	started  chan struct{} // a tools/call handler started
}

func startCallPeer(t *testing.T, opts *sdk.StreamableHTTPOptions, tools func(*sdk.Server, *callPeer)) *callPeer {
	t.Helper()
	p := &callPeer{seen: make(chan string, 64), cancels: make(chan string, 8), started: make(chan struct{}, 8)}
	s := sdk.NewServer(&sdk.Implementation{Name: "peer", Version: "v1"}, nil)
	s.AddReceivingMiddleware(func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			p.mu.Lock()
			p.received = append(p.received, method)
			p.mu.Unlock()
			if method == "notifications/cancelled" {
				if cp, ok := req.GetParams().(*sdk.CancelledParams); ok {
					p.cancels <- fmt.Sprint(cp.RequestID)
				}
			}
			return next(ctx, method, req)
		}
	})
	tools(s, p)
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, opts)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			p.mu.Lock()
			p.gets = append(p.gets, r.Header.Clone())
			p.mu.Unlock()
		}
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &msg)
		p.mu.Lock()
		switch {
		case msg.Method == "tools/call":
			p.callIDs = append(p.callIDs, string(msg.ID))
		case msg.Method == "" && len(msg.ID) > 0:
			p.replies = append(p.replies, string(body))
		}
		answer := p.answer
		p.mu.Unlock()
		if msg.Method == "tools/call" && answer != nil {
			answer(w, msg.ID)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *callPeer) setAnswer(f func(w http.ResponseWriter, id json.RawMessage)) {
	p.mu.Lock()
	p.answer = f
	p.mu.Unlock()
}

func (p *callPeer) snapshot() (received, callIDs, replies []string, gets []http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.received), slices.Clone(p.callIDs), slices.Clone(p.replies), slices.Clone(p.gets)
}

func textTool(s *sdk.Server, name string, h sdk.ToolHandler) {
	s.AddTool(&sdk.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, h)
}

func textResult(text string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}
}

// TestLeanCallMatchesSDK: over JSON answers, SSE answers and a server without
// sessions, the lean tools/call gives what go-sdk's CallTool gives (the
// Manager with an elicitation handler calls through go-sdk), and it is the
// lean call that ran (string ids with our prefix, the session's headers).
func TestLeanCallMatchesSDK(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    *sdk.StreamableHTTPOptions
		version string
	}{
		{"sse", nil, ""},
		{"json", &sdk.StreamableHTTPOptions{JSONResponse: true}, ""},
		// A go-sdk server without sessions speaks 2026-07-28 unless asked for
		// an older revision.
		{"stateless", &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, "2025-06-18"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newMCPServer(&testServer{})
			h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, tc.opts)
			var mu sync.Mutex
			var headers []http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				headers = append(headers, r.Header.Clone())
				mu.Unlock()
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close) // after the managers' cleanups, which end go-sdk's standalone stream
			lean := newTestManager(t, Options{ProtocolVersion: tc.version})
			viaSDK := newTestManager(t, Options{ProtocolVersion: tc.version, Elicit: func(context.Context, *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
				return &sdk.ElicitResult{Action: "decline"}, nil
			}})
			a := testAgent("lean", srv.URL)
			ctx := context.Background()
			for _, call := range []struct{ tool, args string }{
				{"json", ""}, {"llmObject", ""}, {"plain", ""}, {"fail", ""}, {"echo", `{"ns":"default","n":[1,2]}`},
			} {
				want, err := viaSDK.Call(ctx, a, noneCred(t), call.tool, json.RawMessage(call.args))
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				headers = nil
				mu.Unlock()
				got, err := lean.Call(ctx, a, noneCred(t), call.tool, json.RawMessage(call.args))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: lean %+v, go-sdk %+v", call.tool, got, want)
				}
				mu.Lock()
				hs := headers
				mu.Unlock()
				if len(hs) == 0 || hs[len(hs)-1].Get("Mcp-Protocol-Version") == "" || hs[len(hs)-1].Get("Accept") != "application/json, text/event-stream" {
					t.Fatalf("%s: headers of the call %v", call.tool, hs)
				}
				if sid := hs[len(hs)-1].Get("Mcp-Session-Id"); (sid == "") != (tc.name == "stateless") {
					t.Fatalf("%s: Mcp-Session-Id %q", call.tool, sid)
				}
			}
			e := onlyEntry(t, lean)
			if leanOf(e) == nil || leanOf(e).seq.Load() != 5 {
				t.Fatalf("the lean path did not make the 5 calls: %+v", e.caller)
			}

			// A JSON-RPC error is a protocol error: no retry, the session kept.
			_, err := lean.Call(ctx, a, noneCred(t), "noSuchTool", nil)
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || !isProtocolError(err) {
				t.Fatalf("unknown tool: err = %v, want a JSON-RPC error", err)
			}
			if e2 := onlyEntry(t, lean); e2.caller != e.caller {
				t.Fatal("a JSON-RPC error dropped the session")
			}
		})
	}
}

func onlyEntry(t *testing.T, m *Manager) *entry {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) != 1 {
		t.Fatalf("%d entries", len(m.entries))
	}
	for _, e := range m.entries {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e
	}
	return nil
}

// TestLeanCallAnswersServerRequests: a server that sends a notification and
// ping, roots/list, elicitation/create and sampling requests on the call's
// stream before the result gets go-sdk's client answers (the Manager has no
// elicitation or sampling handler) and then the result.
func TestLeanCallAnswersServerRequests(t *testing.T) {
	p := startCallPeer(t, nil, func(s *sdk.Server, _ *callPeer) {
		textTool(s, "chatty", func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			var out []string
			if err := req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: "t", Progress: 1, Message: "working"}); err != nil {
				return nil, err
			}
			if err := req.Session.Ping(ctx, nil); err != nil {
				return nil, fmt.Errorf("ping: %w", err)
			}
			out = append(out, "ping ok")
			// Roots and sampling are deprecated from 2026-07-28 (SEP-2577); the
			// lean call serves the revisions before it, where servers still ask.
			//lint:ignore SA1019 a server of a revision before 2026-07-28 may ask for roots
			roots, err := req.Session.ListRoots(ctx, nil)
			if err != nil {
				return nil, fmt.Errorf("roots: %w", err)
			}
			out = append(out, fmt.Sprintf("roots %d", len(roots.Roots)))
			//lint:ignore SA1019 a server of a revision before 2026-07-28 may ask for sampling
			_, err = req.Session.CreateMessage(ctx, &sdk.CreateMessageParams{MaxTokens: 1, Messages: []*sdk.SamplingMessage{{Role: "user", Content: &sdk.TextContent{Text: "hi"}}}})
			out = append(out, fmt.Sprintf("sampling %v", err != nil))
			return textResult(strings.Join(out, ", ")), nil
		})
	})
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", p.URL), noneCred(t), "chatty", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Raw != "ping ok, roots 0, sampling true" {
		t.Fatalf("result %q", res.Raw)
	}
	_, ids, replies, _ := p.snapshot()
	if len(ids) != 1 || !strings.HasPrefix(ids[0], `"`+callIDPrefix) {
		t.Fatalf("tools/call ids %v: want one lean call", ids)
	}
	if len(replies) != 3 || !strings.Contains(replies[0], `"result":{}`) || !strings.Contains(replies[1], `"roots":[]`) ||
		!strings.Contains(replies[2], fmt.Sprint(codeUnsupportedMethod)) {
		t.Fatalf("replies to the server's requests: %q", replies)
	}
}

// TestLeanCallRawStream: an SSE answer as the spec allows it and go-sdk does
// not write it (CRLF lines, comments, multi-line data, other event types, a
// numeric-id request for an unknown method, a notification) is read.
func TestLeanCallRawStream(t *testing.T) {
	p := startCallPeer(t, nil, func(s *sdk.Server, _ *callPeer) { textTool(s, "x", nil) })
	p.setAnswer(func(w http.ResponseWriter, id json.RawMessage) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": comment\r\n\r\n")
		fmt.Fprint(w, "event: other\r\ndata: {\"not\":\"json-rpc\"}\r\n\r\n")
		fmt.Fprint(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"x\"}}\n\n")
		fmt.Fprint(w, "id: 7\ndata: {\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/secret\"}\n\n")
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\ndata: \"result\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image\",\"data\":\"\"},{\"type\":\"text\",\"text\":\"b\"}]}}\n\n", id)
	})
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", p.URL), noneCred(t), "x", nil)
	if err != nil || res.Raw != "ab" {
		t.Fatalf("result %+v, %v", res, err)
	}
	_, _, replies, _ := p.snapshot()
	if len(replies) != 1 || !strings.Contains(replies[0], `"id":42,"error":{"code":-32601`) {
		t.Fatalf("replies %q: want -32601 to request 42", replies)
	}
}

// TestLeanCallBadAnswers: an answer with another id, an oversized JSON body
// and an oversized SSE event are errors; none is retried (the tool may have
// run), and only the malformed answer drops the session.
func TestLeanCallBadAnswers(t *testing.T) {
	big := strings.Repeat("x", 2<<10)
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, id json.RawMessage)
		is     error
		drops  bool
	}{
		{"id mismatch", func(w http.ResponseWriter, _ json.RawMessage) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":"ai-agent-999","result":{"content":[]}}`)
		}, errMalformedResponse, true},
		{"unknown content", func(w http.ResponseWriter, id json.RawMessage) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"a"},null]}}`, id)
		}, errMalformedResponse, true},
		{"numeric id", func(w http.ResponseWriter, _ json.RawMessage) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n")
		}, errMalformedResponse, true},
		{"oversized json", func(w http.ResponseWriter, id json.RawMessage) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}]}}`, id, big)
		}, errResponseTooLarge, false},
		{"oversized event", func(w http.ResponseWriter, id json.RawMessage) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}\n\n", id, big)
		}, errResponseTooLarge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startCallPeer(t, nil, func(s *sdk.Server, _ *callPeer) { textTool(s, "x", nil) })
			p.setAnswer(tc.answer)
			m := newTestManager(t, Options{})
			m.maxResponse = 1 << 10
			a := testAgent("a", p.URL)
			if _, err := m.Tools(context.Background(), a, noneCred(t)); err != nil {
				t.Fatal(err)
			}
			before := onlyEntry(t, m).caller
			_, err := m.Call(context.Background(), a, noneCred(t), "x", nil)
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			if _, ids, _, _ := p.snapshot(); len(ids) != 1 {
				t.Fatalf("tools/call sent %d times, want 1 (no retry)", len(ids))
			}
			if dropped := onlyEntry(t, m).caller != before; dropped != tc.drops {
				t.Fatalf("session dropped: %v, want %v", dropped, tc.drops)
			}
		})
	}
}

// TestLeanCallDroppedConnection: a stream cut in the middle of the call is
// retried once on a new session, as go-sdk's failures are.
func TestLeanCallDroppedConnection(t *testing.T) {
	p := startCallPeer(t, nil, func(s *sdk.Server, _ *callPeer) {
		textTool(s, "x", func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return textResult("second time"), nil
		})
	})
	// The first tools/call is cut; the retry reaches the go-sdk server.
	p.setAnswer(func(w http.ResponseWriter, _ json.RawMessage) {
		p.setAnswer(nil)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "data: {\"jsonrpc\":\"2.0\",")
		w.(http.Flusher).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", p.URL), noneCred(t), "x", nil)
	if err != nil || res.Raw != "second time" {
		t.Fatalf("result %+v, %v", res, err)
	}
	received, ids, _, _ := p.snapshot()
	if len(ids) != 2 || count(received, "initialize") != 2 {
		t.Fatalf("tools/call %d times, initialize %d times: want 2 and 2 (a retry on a new session)", len(ids), count(received, "initialize"))
	}
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestLeanCallCancelled: cancelling the caller's context ends the call with
// context.Canceled, tells the server (notifications/cancelled with our id)
// and keeps the session.
func TestLeanCallCancelled(t *testing.T) {
	p := startCallPeer(t, nil, func(s *sdk.Server, p *callPeer) {
		textTool(s, "block", func(ctx context.Context, _ *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			p.started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		})
	})
	m := newTestManager(t, Options{})
	a := testAgent("a", p.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-p.started
		cancel()
	}()
	_, err := m.Call(ctx, a, noneCred(t), "block", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	select {
	case id := <-p.cancels:
		if _, ids, _, _ := p.snapshot(); len(ids) != 1 || `"`+id+`"` != ids[0] {
			t.Fatalf("notifications/cancelled for %q, the call was %v", id, ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw notifications/cancelled")
	}
	if e := onlyEntry(t, m); leanOf(e) == nil {
		t.Fatal("cancelling dropped the session")
	}
}

// TestLeanCallResumesStream: a server that closes the call's stream after
// an event id (SEP-1699) is asked again with GET and Last-Event-ID, and the
// answer replayed from its event store is read.
func TestLeanCallResumesStream(t *testing.T) {
	p := startCallPeer(t, &sdk.StreamableHTTPOptions{EventStore: sdk.NewMemoryEventStore(nil)}, func(s *sdk.Server, _ *callPeer) {
		textTool(s, "long", func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			if err := req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: "t", Progress: 1}); err != nil {
				return nil, err
			}
			req.Extra.CloseSSEStream(sdk.CloseSSEStreamArgs{RetryAfter: time.Millisecond})
			return textResult("after the break"), nil
		})
	})
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", p.URL), noneCred(t), "long", nil)
	if err != nil || res.Raw != "after the break" {
		t.Fatalf("result %+v, %v", res, err)
	}
	_, ids, _, gets := p.snapshot()
	if len(ids) != 1 || len(gets) == 0 || gets[len(gets)-1].Get("Last-Event-ID") == "" {
		t.Fatalf("tools/call %d times, GETs %v: want one call resumed with Last-Event-ID", len(ids), gets)
	}
}

// rotatingNonceCred presents the last nonce the server gave and answers
// every use_dpop_nonce challenge.
type rotatingNonceCred struct{ nonce atomic.Value }

func (c *rotatingNonceCred) CacheKey() string { return "rotating" }
func (c *rotatingNonceCred) Authorize(req *http.Request) error {
	if n, _ := c.nonce.Load().(string); n != "" {
		req.Header.Set("X-Nonce", n)
	}
	return nil
}
func (c *rotatingNonceCred) Answer(resp *http.Response) bool {
	n := resp.Header.Get("DPoP-Nonce")
	c.nonce.Store(n)
	return n != ""
}

// TestLeanCallAnswersChallenge: a server that asks for a new DPoP nonce on a
// tools/call gets the call once more with it (the session's authTransport,
// the request body sent again), and the tool runs once.
func TestLeanCallAnswersChallenge(t *testing.T) {
	ts := &testServer{}
	inner := ts.handler()
	var mu sync.Mutex
	want, rotated := "n1", false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		if !rotated && bytes.Contains(body, []byte(`"tools/call"`)) {
			want, rotated = "n2", true
		}
		ok := r.Header.Get("X-Nonce") == want
		nonce := want
		mu.Unlock()
		if !ok {
			w.Header().Set("DPoP-Nonce", nonce)
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", srv.URL), &rotatingNonceCred{}, "echo", json.RawMessage(`{"x":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Raw != `{"x":2}` || ts.calls.Load() != 1 || leanOf(onlyEntry(t, m)) == nil {
		t.Fatalf("result %q, %d calls at the server: want the echo, once, on the lean path", res.Raw, ts.calls.Load())
	}
}

// TestLeanCallSessionGone: a 404 to the session's tools/call (a server that
// forgot the session) is go-sdk's ErrSessionMissing: the Manager opens a new
// session and calls once more.
func TestLeanCallSessionGone(t *testing.T) {
	p := startCallPeer(t, nil, func(s *sdk.Server, _ *callPeer) {
		textTool(s, "x", func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return textResult("on the new session"), nil
		})
	})
	p.setAnswer(func(w http.ResponseWriter, _ json.RawMessage) {
		p.setAnswer(nil)
		http.Error(w, "session not found", http.StatusNotFound)
	})
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", p.URL), noneCred(t), "x", nil)
	if err != nil || res.Raw != "on the new session" {
		t.Fatalf("result %+v, %v", res, err)
	}
	received, ids, _, _ := p.snapshot()
	if len(ids) != 2 || count(received, "initialize") != 2 || !strings.HasPrefix(ids[1], `"`+callIDPrefix) {
		t.Fatalf("tools/call %v, initialize %d times: want two lean calls on two sessions", ids, count(received, "initialize"))
	}
	if err := (&leanSession{sessionID: "s"}).checkStatus(&http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody}); !errors.Is(err, sdk.ErrSessionMissing) {
		t.Fatalf("404 on a session: %v, want sdk.ErrSessionMissing", err)
	}
}
