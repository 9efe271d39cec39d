package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rancher/ai-agent/internal/jsonbytes"
	"github.com/rancher/ai-agent/internal/llm"
)

// referenceOllamaBody is the body as encoding/json wrote it before
// appendOllamaBody: the shape the hand encoder must keep.
func referenceOllamaBody(req llm.Request, model string) ([]byte, error) {
	type body struct {
		Model    string          `json:"model"`
		Messages []ollamaMessage `json:"messages"`
		Tools    []ollamaTool    `json:"tools,omitempty"`
		Stream   bool            `json:"stream"`
	}
	names := toolNames(req.Messages)
	out := body{Model: model, Stream: true, Messages: []ollamaMessage{}}
	for _, m := range req.Messages {
		om := ollamaMessage{Role: m.Role, Content: m.Content}
		for _, c := range m.ToolCalls {
			var tc ollamaToolCall
			tc.ID, tc.Function.Name = c.ID, c.Name
			tc.Function.Arguments = argsJSON(c.Arguments)
			om.ToolCalls = append(om.ToolCalls, tc)
		}
		if m.Role == llm.RoleTool {
			om.ToolName = names[m.ToolCallID]
		}
		out.Messages = append(out.Messages, om)
	}
	for _, t := range req.Tools {
		var ot ollamaTool
		ot.Type = "function"
		ot.Function.Name, ot.Function.Description, ot.Function.Parameters = t.Name, t.Description, schemaJSON(t.InputSchema)
		out.Tools = append(out.Tools, ot)
	}
	return json.Marshal(out)
}

// sameBody fails unless got and want are the same JSON value.
func sameBody(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("hand-encoded body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("reference body: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

// TestOllamaBodyMatchesEncodingJSON: the hand-encoded body is the value
// encoding/json made of the same request, for the test conversation, a big
// thread, and a thread without tools, twice each (the second from the
// tools cache).
func TestOllamaBodyMatchesEncodingJSON(t *testing.T) {
	o := &ollama{c: Config{Model: "default"}}
	noTools := conversation()
	noTools.Tools, noTools.Model = nil, ""
	for _, req := range []llm.Request{conversation(), bigConversation(), noTools} {
		want, err := referenceOllamaBody(req, modelOf(req, "default"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := o.appendOllamaBody(nil, req)
			if err != nil {
				t.Fatal(err)
			}
			sameBody(t, got, want)
		}
	}
}

// FuzzOllamaBody: for any texts, ids and arguments, the hand-encoded body
// is the JSON value encoding/json makes, and each string is encoded byte
// for byte as encoding/json encodes it.
func FuzzOllamaBody(f *testing.F) {
	f.Add("user", "1+2? <b>&</b>", "c1", "add", `{"a":1}`, "Adds.", `{"type":"object"}`)
	f.Add("tool", "line\nsep\u2028 \x00 \xff", "", "x\"y", ` { "a" : [1, 2] } `, "", `[]`)
	f.Fuzz(func(t *testing.T, role, content, id, name, args, desc, schema string) {
		for _, s := range []string{role, content, id, name, desc} {
			want, _ := json.Marshal(s)
			if got := jsonbytes.AppendString(nil, s); string(got) != string(want) {
				t.Fatalf("string %q: got %s want %s", s, got, want)
			}
		}
		req := llm.Request{Model: name, Messages: []llm.Message{
			{Role: llm.RoleAssistant, Content: content, ToolCalls: []llm.ToolCall{{ID: id, Name: name, Arguments: json.RawMessage(args)}}},
			{Role: role, Content: content, ToolCallID: id},
		}, Tools: []llm.Tool{{Name: name, Description: desc, InputSchema: json.RawMessage(schema)}}}
		o := &ollama{}
		got, err := o.appendOllamaBody(nil, req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := referenceOllamaBody(req, name)
		if err != nil {
			t.Fatal(err)
		}
		sameBody(t, got, want)
	})
}

// TestToolsCacheSeesChanges: a tool set changed in place, or another tool
// set, gets its own encoding; the same one comes from the cache.
func TestToolsCacheSeesChanges(t *testing.T) {
	var c toolsCache[[]byte]
	calls := 0
	enc := func(ts []llm.Tool) ([]byte, error) { calls++; return ollamaTools(ts) }
	tools := conversation().Tools
	first, _ := c.get(tools, enc)
	again, _ := c.get(tools, enc)
	if calls != 1 || string(first) != string(again) {
		t.Fatalf("same tools: %d encodings", calls)
	}
	tools[0].InputSchema[len(tools[0].InputSchema)-2] = ' ' // in place: `}}` → `} }`
	tools[0].Description = "Adds numbers."
	changed, _ := c.get(tools, enc)
	if calls != 2 || !strings.Contains(string(changed), "Adds numbers.") {
		t.Fatalf("tools changed in place: %d encodings, %s", calls, changed)
	}
	for i := range toolsCacheSize + 2 {
		other := []llm.Tool{{Name: strings.Repeat("t", i+1)}}
		if got, _ := c.get(other, enc); !strings.Contains(string(got), `"`+other[0].Name+`"`) {
			t.Fatalf("tool set %d: %s", i, got)
		}
	}
	if len(c.entries) != toolsCacheSize {
		t.Fatalf("cache holds %d tool sets, want at most %d", len(c.entries), toolsCacheSize)
	}
	wantErr := errors.New("boom")
	if _, err := c.get([]llm.Tool{{Name: "bad"}}, func([]llm.Tool) ([]byte, error) { return nil, wantErr }); !errors.Is(err, wantErr) {
		t.Fatalf("encode error: %v", err)
	}
}

// countingConns counts the write syscalls of the client's connections.
type countingConns struct{ writes atomic.Int64 }

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countedConn) Write(p []byte) (int, error) { c.n.Add(1); return c.Conn.Write(p) }

// TestBigRequestInOneWrite: a 15 KB request (headers and pooled body)
// leaves in one write syscall, whole, call after call, whether the server
// keeps the connection (the second call reuses it and the pooled buffer)
// or closes it after each answer (a fresh connection each time).
func TestBigRequestInOneWrite(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(map[bool]string{true: "kept", false: "closed"}[keep], func(t *testing.T) { bigRequestInOneWrite(t, keep) })
	}
}

func bigRequestInOneWrite(t *testing.T, keep bool) {
	var mu sync.Mutex
	var bodies []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !json.Valid(raw) {
			t.Errorf("request body is not JSON (%d bytes)", len(raw))
		}
		mu.Lock()
		bodies = append(bodies, len(raw))
		mu.Unlock()
		if !keep {
			w.Header().Set("Connection", "close")
		}
		flush(w, `{"message":{"role":"assistant","content":"ok"},"done":true}`+"\n")
	}))
	defer srv.Close()
	var cc countingConns
	client := newHTTPClient(0)
	base := client.Transport.(*idleTransport).base.(*http.Transport)
	dial := base.DialContext
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countedConn{c, &cc.writes}, nil
	}
	m, err := New(Config{Provider: ProviderOllama, Model: "m", BaseURL: srv.URL, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	req := bigConversation()
	for i := range 3 {
		before := cc.writes.Load()
		if r := drain(testCtx(t), m, req); r.err != nil || joined(r) != "ok" {
			t.Fatalf("call %d: %v %q", i, r.err, r.text)
		}
		if n := cc.writes.Load() - before; n != 1 {
			t.Errorf("call %d: request of %d bytes took %d writes, want 1", i, bodies[len(bodies)-1], n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 3 || bodies[0] != bodies[1] || bodies[1] != bodies[2] || bodies[0] < 12<<10 {
		t.Fatalf("bodies received %v", bodies)
	}
}

// TestKeptToolsSharedByConcurrentCalls: every provider's kept tool form is
// shared by concurrent requests (run with -race: no SDK writes into it),
// and each request still carries every tool, the same body as a call made
// alone, also after the tools changed in place. Bedrock streams too: each
// ConverseStream call has its own event-stream codec (ownCodec).
func TestKeptToolsSharedByConcurrentCalls(t *testing.T) {
	for _, p := range []string{ProviderOllama, ProviderOpenAI, ProviderGemini, ProviderBedrock} {
		t.Run(p, func(t *testing.T) {
			var rec recorder
			m := fakeProvider(t, p, false, &rec)
			req := bigConversation()
			call := func() {
				if r := drain(testCtx(t), m, req); r.err != nil {
					t.Error(r.err)
				}
			}
			call()
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(call)
			}
			wg.Wait()
			req.Tools[11].Description = "Changed in place."
			call()
			reqs := rec.all()
			if len(reqs) != 10 {
				t.Fatalf("%d requests", len(reqs))
			}
			first, _ := json.Marshal(reqs[0].body)
			for i := 1; i < 9; i++ {
				if got, _ := json.Marshal(reqs[i].body); string(got) != string(first) {
					t.Fatalf("concurrent request %d differs:\n got %s\nwant %s", i, got, first)
				}
			}
			if !strings.Contains(string(first), "tool_11") {
				t.Fatalf("body without the last tool: %s", first)
			}
			if last, _ := json.Marshal(reqs[9].body); !strings.Contains(string(last), "Changed in place.") {
				t.Fatalf("a tool changed in place was sent as kept: %s", last)
			}
		})
	}
}

// FuzzLineDecoder: the reused decoder accepts and decodes each stream line
// exactly as json.Unmarshal does, line after line, until the first error
// (after which the stream ends and the decoder is dropped).
func FuzzLineDecoder(f *testing.F) {
	f.Add(`{"message":{"role":"assistant","content":"Hi"},"done":false}` + "\n" + `{"done":true,"eval_count":5}`)
	f.Add(`{"done":true} {"done":false}`)
	f.Add(`{"done":true}}` + "\n" + `{}`)
	f.Add(`{"message":{"content":"a"` + "\n" + `}}`)
	f.Add("123\n\"x\"\nnull\n[1]\n{\"done\":\"no\"}")
	f.Add(`{"message":{"tool_calls":[{"function":{"name":"add","arguments":{"a":[1,{"b":null}]}}}]}}` + "\n" + `{"message":{"tool_calls":[{"function":{"name":"x"}}]}}`)
	f.Fuzz(func(t *testing.T, stream string) {
		l := newLineDecoder()
		for raw := range strings.SplitSeq(stream, "\n") {
			line := bytes.TrimSpace([]byte(raw))
			if len(line) == 0 {
				continue
			}
			var want, got ollamaChunk
			wantErr := json.Unmarshal(line, &want)
			gotErr := l.decode(line, &got)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("line %q: Unmarshal error %v, line decoder error %v", line, wantErr, gotErr)
			}
			if wantErr != nil {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("line %q: decoded %+v, want %+v", line, got, want)
			}
		}
	})
}
