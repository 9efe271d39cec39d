package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// richSchema uses JSON Schema 2020-12 keywords a conversion could drop or
// rewrite: $schema, $defs with $anchor, a same-document $ref, composition,
// conditionals and additionalProperties.
const richSchema = `{
 "$schema": "https://json-schema.org/draft/2020-12/schema",
 "type": "object",
 "$defs": {"address": {"$anchor": "addr", "type": "object", "properties": {"city": {"type": "string"}}}},
 "properties": {
  "home": {"$ref": "#/$defs/address"},
  "kind": {"anyOf": [{"const": "a"}, {"const": "b"}]},
  "n": {"allOf": [{"type": "integer"}, {"minimum": 1}]}
 },
 "if": {"properties": {"kind": {"const": "a"}}},
 "then": {"required": ["home"]},
 "else": {"required": ["n"]},
 "additionalProperties": false
}`

func TestToolSchemaReachesAgentUnchanged(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal([]byte(richSchema), &schema); err != nil {
		t.Fatal(err)
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "schema", Version: "v1"}, nil)
	s.AddTool(&sdk.Tool{Name: "rich", InputSchema: schema}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{}, nil
	})
	srv := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	defer srv.Close()
	m := newTestManager(t, Options{})
	tools, err := m.Tools(context.Background(), testAgent("a", srv.URL), noneCred(t))
	if err != nil || len(tools) != 1 {
		t.Fatalf("tools %v, %v", tools, err)
	}
	var got any
	if err := json.Unmarshal(tools[0].InputSchema, &got); err != nil {
		t.Fatal(err)
	}
	var want any
	_ = json.Unmarshal([]byte(richSchema), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema changed on its way to the agent:\n got %s\nwant %s", tools[0].InputSchema, richSchema)
	}
}

func TestElicitationDefaultsApplied(t *testing.T) {
	s := sdk.NewServer(&sdk.Implementation{Name: "elicit", Version: "v1"}, nil)
	s.AddTool(&sdk.Tool{Name: "ask", InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		res, err := req.Session.Elicit(ctx, &sdk.ElicitParams{
			Message: "details?",
			RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{
				"name": map[string]any{"type": "string", "default": "anon"},
				"age":  map[string]any{"type": "integer", "default": 30},
			}},
		})
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(res.Content)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: res.Action + " " + string(b)}}}, nil
	})
	srv := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(srv.Close) // after the manager's cleanup, which ends the standalone stream
	var asked atomic.Int32
	m := newTestManager(t, Options{Elicit: func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
		asked.Add(1)
		return &sdk.ElicitResult{Action: "accept", Content: map[string]any{"name": "bob"}}, nil
	}})
	res, err := m.Call(context.Background(), testAgent("a", srv.URL), noneCred(t), "ask", nil)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 1 || res.Raw != `accept {"age":30,"name":"bob"}` {
		t.Fatalf("asked %d times, result %q: want the answer with the schema default filled in", asked.Load(), res.Raw)
	}
}

// nonceCred answers one 401 challenge and counts what it saw.
type nonceCred struct {
	answers  atomic.Int32
	nonce    atomic.Value
	refusals atomic.Int32
}

func (c *nonceCred) CacheKey() string { return "nonce" }
func (c *nonceCred) Authorize(req *http.Request) error {
	if n, _ := c.nonce.Load().(string); n != "" {
		req.Header.Set("X-Nonce", n)
	}
	return nil
}
func (c *nonceCred) Answer(resp *http.Response) bool {
	c.refusals.Add(1)
	if n := resp.Header.Get("DPoP-Nonce"); n != "" && c.answers.Add(1) == 1 {
		c.nonce.Store(n)
		return true
	}
	return false
}

func TestChallengeAnsweredOnceWithBody(t *testing.T) {
	ts := &testServer{}
	inner := ts.handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Nonce") != "n1" {
			w.Header().Set("DPoP-Nonce", "n1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cred := &nonceCred{}
	m := newTestManager(t, Options{})
	res, err := m.Call(context.Background(), testAgent("a", srv.URL), cred, "echo", json.RawMessage(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Raw != `{"x":1}` || cred.answers.Load() != 1 {
		t.Fatalf("result %q after %d answers: want the echoed body after one nonce retry", res.Raw, cred.answers.Load())
	}
}
