package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/llm"
)

// opsServer is a real go-sdk MCP server whose tools carry annotations:
// "drop" (destructiveHint: true), "put" (no annotations) and "peek"
// (readOnlyHint: true). It records the arguments of every call that ran.
type opsServer struct {
	*httptest.Server
	mu  sync.Mutex
	ran []string // "tool name"
}

func startOps(t *testing.T) *opsServer {
	t.Helper()
	o := &opsServer{}
	s := sdk.NewServer(&sdk.Implementation{Name: "ops", Version: "v1"}, nil)
	type in struct {
		Name string `json:"name"`
	}
	yes := true
	for _, tl := range []*sdk.Tool{
		{Name: "drop", Description: "Drops a thing.", Annotations: &sdk.ToolAnnotations{DestructiveHint: &yes}},
		{Name: "put", Description: "Puts a thing."},
		{Name: "peek", Description: "Looks at a thing.", Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true}},
	} {
		sdk.AddTool(s, tl, func(_ context.Context, _ *sdk.CallToolRequest, a in) (*sdk.CallToolResult, any, error) {
			o.mu.Lock()
			o.ran = append(o.ran, tl.Name+" "+a.Name)
			o.mu.Unlock()
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: tl.Name + " done: " + a.Name}}}, nil, nil
		})
	}
	o.Server = httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(o.Close)
	return o
}

func (o *opsServer) calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ran)
}

// opsAgent is an agent of the ops server with the given authentication.
func opsAgent(o *opsServer, auth v1alpha1.AuthenticationType) agentconfig.Agent {
	a := newAgent("ops", o.URL+"/mcp")
	a.Spec.AuthenticationType = auth
	switch auth {
	case v1alpha1.AuthBasic:
		a.Spec.AuthenticationSecret = "ops-auth"
		a.AuthSecret = map[string][]byte{"username": []byte("u"), "password": []byte("p")}
	case v1alpha1.AuthHeader:
		a.Spec.AuthenticationSecret = "ops-auth"
		a.AuthSecret = map[string][]byte{"X-Api-Key": []byte("k")}
	}
	return a
}

// calls is one model reply with several tool calls.
func calls(cs ...llm.ScriptedCall) llm.Entry { return llm.Entry{ToolCalls: cs} }

func sc(name, args string) llm.ScriptedCall {
	return llm.ScriptedCall{Name: name, Args: json.RawMessage(args)}
}

// opsPlan is the <confirmation-response> frame of a call without a plan
// tool, for the ops server at host.
func opsPlan(host, tool, args string) string {
	return `<confirmation-response>[{"type":"create","resource":{"kind":"MCP tool call","name":"` + tool +
		`","namespace":"","cluster":"` + host + `"},"payload":{"tool":"` + tool + `","server":"` + host +
		`","agent":"ops","arguments":` + args + `}}]</confirmation-response>`
}

const yesFrame, noFrame = `{"prompt":"yes","context":{},"tags":["confirmation"]}`, `{"prompt":"no","context":{},"tags":["confirmation"]}`

// TestChangingToolAsksFirst: on BASIC and HEADER agents a destructive tool
// and a tool without annotations ask first, "no" keeps the call from the
// MCP server; a read-only tool runs at once.
func TestChangingToolAsksFirst(t *testing.T) {
	for _, auth := range []v1alpha1.AuthenticationType{v1alpha1.AuthBasic, v1alpha1.AuthHeader} {
		t.Run(string(auth), func(t *testing.T) {
			o := startOps(t)
			host := strings.TrimPrefix(o.URL, "http://")
			e := newEnv(t, opsAgent(o, auth))
			c := e.dial("/v1/ws/messages/ask-"+string(auth), "tok-alice")
			c.Metadata()

			e.model.Push(call("drop", `{"name":"db"}`))
			equalFrames(t, c.Ask(prompt("drop db")), []string{"<message>", opsPlan(host, "drop", `{"name":"db"}`), "</message>"})
			equalFrames(t, c.Ask(noFrame), []string{"<message>", "Previous tool canceled by the user.", "</message>"})
			if got := o.calls(); len(got) != 0 {
				t.Fatalf("the MCP server ran %q after no", got)
			}

			e.model.Push(call("put", `{"name":"x"}`), llm.TextEntry("Put x."))
			equalFrames(t, c.Ask(prompt("put x")), []string{"<message>", opsPlan(host, "put", `{"name":"x"}`), "</message>"})
			equalFrames(t, c.Ask(yesFrame), []string{"<message>", "Put x.", "</message>"})

			e.model.Push(call("peek", `{"name":"y"}`), llm.TextEntry("It is y."))
			equalFrames(t, c.Ask(prompt("peek at y")), []string{"<message>", "It is y.", "</message>"})
			if got := o.calls(); !slices.Equal(got, []string{"put x", "peek y"}) {
				t.Fatalf("the MCP server ran %q", got)
			}
		})
	}
}

// TestTwoConfirmationsInOneReply (upstream rancher-ai-agent #318): a model
// reply with two calls that each ask is asked in turn, each resumed by
// its own call id; a reopened chat shows the pending question again; a
// "no" to one still lets the other run.
func TestTwoConfirmationsInOneReply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers [2]string
		ran     []string
		results []string // what the model saw, per call id
	}{
		{"both yes", [2]string{yesFrame, yesFrame}, []string{"drop a", "drop b"},
			[]string{"tool: drop done: a (for call_1)", "tool: drop done: b (for call_2)"}},
		{"no then yes", [2]string{noFrame, yesFrame}, []string{"drop b"},
			[]string{"tool: tool execution cancelled by the user (for call_1)", "tool: drop done: b (for call_2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startOps(t)
			host := strings.TrimPrefix(o.URL, "http://")
			e := newEnv(t, opsAgent(o, v1alpha1.AuthBasic))
			id := "two-" + strings.ReplaceAll(tc.name, " ", "-")
			e.model.Push(calls(sc("drop", `{"name":"a"}`), sc("drop", `{"name":"b"}`)), llm.TextEntry("Done."))
			planA, planB := opsPlan(host, "drop", `{"name":"a"}`), opsPlan(host, "drop", `{"name":"b"}`)

			c := e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			equalFrames(t, c.Ask(prompt("drop a and b")), []string{"<message>", planA, "</message>"})
			c.WS.CloseNow()

			// A reload: the pending question is shown again, and answered.
			c = e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			equalFrames(t, c.Turn(), []string{"<message>", planA, "</message>"})
			equalFrames(t, c.Ask(tc.answers[0]), []string{"<message>", planB, "</message>"})
			c.WS.CloseNow()

			// A reload between the two: the second question is the pending one.
			c = e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			equalFrames(t, c.Turn(), []string{"<message>", planB, "</message>"})
			equalFrames(t, c.Ask(tc.answers[1]), []string{"<message>", "Done.", "</message>"})

			if got := o.calls(); !slices.Equal(got, tc.ran) {
				t.Fatalf("the MCP server ran %q, want %q", got, tc.ran)
			}
			reqs := e.model.Requests()
			seen := msgs(reqs[len(reqs)-1].Messages)
			if got := seen[len(seen)-2:]; !slices.Equal(got, tc.results) {
				t.Fatalf("the model saw %q, want %q", got, tc.results)
			}
			// The thread stays usable: the next prompt is a new turn.
			e.model.Push(llm.TextEntry("Hello."))
			equalFrames(t, c.Ask(prompt("hi")), []string{"<message>", "Hello.", "</message>"})
			rows := historyLine(e.historyOf(t, id, "tok-alice"))
			first := map[string]string{yesFrame: "confirmed", noFrame: "cancelled"}[tc.answers[0]]
			want := "user:drop a and b | agent:" + planA + ":" + first + " | agent:" + planB + ":confirmed | agent:Done. | user:hi | agent:Hello."
			if rows != want {
				t.Fatalf("history\n got  %s\n want %s", rows, want)
			}
		})
	}
}

// TestAutoApproveAndOtherAuthTypes: autoApproveTools skips the question;
// NONE and RANCHER agents run a destructive tool as before (only
// humanValidationTools asks).
func TestAutoApproveAndOtherAuthTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth v1alpha1.AuthenticationType
		auto []string
	}{
		{"auto-approved", v1alpha1.AuthBasic, []string{"drop"}},
		{"none", v1alpha1.AuthNone, nil},
		{"rancher", v1alpha1.AuthRancher, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startOps(t)
			a := opsAgent(o, tc.auth)
			a.Spec.AutoApproveTools = tc.auto
			e := newEnv(t, a)
			c := e.dial("/v1/ws/messages/auto-"+tc.name, "tok-alice")
			c.Metadata()
			e.model.Push(call("drop", `{"name":"db"}`), llm.TextEntry("Dropped."))
			equalFrames(t, c.Ask(prompt("drop db")), []string{"<message>", "Dropped.", "</message>"})
			if got := o.calls(); !slices.Equal(got, []string{"drop db"}) {
				t.Fatalf("the MCP server ran %q", got)
			}
		})
	}
}

// TestOAuth2DestructiveToolAsksFirst: on an OAUTH2 agent (real
// authorization server, go-sdk MCP server checking the user's token) the
// tool annotated destructiveHint: true asks; "no" keeps it from the
// server, "yes" runs it once; the read-only whoami runs without asking.
func TestOAuth2DestructiveToolAsksFirst(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	host := strings.TrimPrefix(strings.TrimSuffix(oe.mcp.URL, "/mcp"), "http://")
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/oauth-ask")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read() // </message> of the sign-in at open

	plan := `<confirmation-response>[{"type":"create","resource":{"kind":"MCP tool call","name":"remove","namespace":"","cluster":"` + host +
		`"},"payload":{"tool":"remove","server":"` + host + `","agent":"gh","arguments":{"text":"repo"}}}]</confirmation-response>`
	oe.model.Push(call("remove", `{"text":"repo"}`))
	equalFrames(t, c.Ask(prompt("remove repo")), []string{"<message>", plan, "</message>"})
	equalFrames(t, c.Ask(noFrame), []string{"<message>", "Previous tool canceled by the user.", "</message>"})
	if n := oe.mcp.ToolCalls("remove"); n != 0 {
		t.Fatalf("remove ran %d times after no", n)
	}

	oe.model.Push(call("remove", `{"text":"repo"}`), llm.TextEntry("Removed."))
	equalFrames(t, c.Ask(prompt("remove repo")), []string{"<message>", plan, "</message>"})
	equalFrames(t, c.Ask(yesFrame), []string{"<message>", "Removed.", "</message>"})
	if n := oe.mcp.ToolCalls("remove"); n != 1 {
		t.Fatalf("remove ran %d times after yes, want 1", n)
	}

	oe.model.Push(call("whoami", `{}`), llm.TextEntry("You are alice."))
	equalFrames(t, c.Ask(prompt("who am I?")), []string{"<message>", "You are alice.", "</message>"})
	if n := oe.mcp.ToolCalls("whoami"); n != 1 {
		t.Fatalf("whoami ran %d times, want 1", n)
	}
}
