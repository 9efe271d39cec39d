package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/llm"
)

// TestConfirmationAnsweredInAnotherTab: two tabs of one chat both show
// the pending question; the first "yes" runs the call, and the second
// tab's "yes" (its question already answered) does not run it again: the
// store, not the tab's memory, says what still waits.
func TestConfirmationAnsweredInAnotherTab(t *testing.T) {
	o := startOps(t)
	host := strings.TrimPrefix(o.URL, "http://")
	e := newEnv(t, opsAgent(o, v1alpha1.AuthBasic))
	plan := opsPlan(host, "drop", `{"name":"db"}`)

	a := e.dial("/v1/ws/messages/tabs", "tok-alice")
	a.Metadata()
	e.model.Push(call("drop", `{"name":"db"}`), llm.TextEntry("Dropped."))
	equalFrames(t, a.Ask(prompt("drop db")), []string{"<message>", plan, "</message>"})

	b := e.dial("/v1/ws/messages/tabs", "tok-alice")
	b.Metadata()
	equalFrames(t, b.Turn(), []string{"<message>", plan, "</message>"})

	equalFrames(t, a.Ask(yesFrame), []string{"<message>", "Dropped.", "</message>"})
	// The second tab's answer finds nothing waiting: it is a prompt.
	e.model.Push(llm.TextEntry("It is already done."))
	equalFrames(t, b.Ask(yesFrame), []string{"<message>", "It is already done.", "</message>"})
	if got := o.calls(); !slices.Equal(got, []string{"drop db"}) {
		t.Fatalf("the MCP server ran %q, want drop db once", got)
	}
}

// TestTwoConfirmationsYesThenNo: of two calls in one reply the first is
// confirmed and runs once, the second declined never reaches the server,
// and the turn ends with the cancel reply; the thread stays usable.
func TestTwoConfirmationsYesThenNo(t *testing.T) {
	o := startOps(t)
	host := strings.TrimPrefix(o.URL, "http://")
	e := newEnv(t, opsAgent(o, v1alpha1.AuthHeader))
	e.model.Push(calls(sc("drop", `{"name":"a"}`), sc("put", `{"name":"b"}`)))
	c := e.dial("/v1/ws/messages/yes-no", "tok-alice")
	c.Metadata()
	equalFrames(t, c.Ask(prompt("drop a, put b")), []string{"<message>", opsPlan(host, "drop", `{"name":"a"}`), "</message>"})
	equalFrames(t, c.Ask(yesFrame), []string{"<message>", opsPlan(host, "put", `{"name":"b"}`), "</message>"})
	equalFrames(t, c.Ask(noFrame), []string{"<message>", "Previous tool canceled by the user.", "</message>"})
	if got := o.calls(); !slices.Equal(got, []string{"drop a"}) {
		t.Fatalf("the MCP server ran %q, want only drop a", got)
	}
	e.model.Push(llm.TextEntry("Hello."))
	equalFrames(t, c.Ask(prompt("hi")), []string{"<message>", "Hello.", "</message>"})
	reqs := e.model.Requests()
	seen := msgs(reqs[len(reqs)-1].Messages)
	want := []string{"tool: drop done: a (for call_1)", "tool: tool execution cancelled by the user (for call_2)"}
	if got := seen[len(seen)-4 : len(seen)-2]; !slices.Equal(got, want) {
		t.Fatalf("the model saw %q, want %q", seen, want)
	}
}

// TestOAuth2TwoDestructiveCallsInOneReply: on an OAUTH2 agent (real
// authorization server, go-sdk MCP server checking the user's token) a
// reply with two calls of the destructiveHint tool asks for each in turn,
// a reload between them shows the second question again, and both
// confirmed run exactly once at the MCP server.
func TestOAuth2TwoDestructiveCallsInOneReply(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{})
	host := strings.TrimPrefix(strings.TrimSuffix(oe.mcp.URL, "/mcp"), "http://")
	plan := func(text string) string {
		return `<confirmation-response>[{"type":"create","resource":{"kind":"MCP tool call","name":"remove","namespace":"","cluster":"` + host +
			`"},"payload":{"tool":"remove","server":"` + host + `","agent":"gh","arguments":{"text":"` + text + `"}}}]</confirmation-response>`
	}
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/oauth-two")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read() // </message> of the sign-in at open

	oe.model.Push(calls(sc("remove", `{"text":"a"}`), sc("remove", `{"text":"b"}`)), llm.TextEntry("Removed both."))
	equalFrames(t, c.Ask(prompt("remove a and b")), []string{"<message>", plan("a"), "</message>"})
	equalFrames(t, c.Ask(yesFrame), []string{"<message>", plan("b"), "</message>"})
	if n := oe.mcp.ToolCalls("remove"); n != 1 {
		t.Fatalf("remove ran %d times after the first yes, want 1", n)
	}
	c.WS.CloseNow()

	// A reload between the two: the pending question is shown again.
	c = b.dial("/v1/ws/messages/oauth-two")
	c.Metadata()
	equalFrames(t, c.Turn(), []string{"<message>", plan("b"), "</message>"})
	equalFrames(t, c.Ask(yesFrame), []string{"<message>", "Removed both.", "</message>"})
	if n := oe.mcp.ToolCalls("remove"); n != 2 {
		t.Fatalf("remove ran %d times, want 2 (each call once)", n)
	}
	reqs := oe.model.Requests()
	seen := msgs(reqs[len(reqs)-1].Messages)
	want := []string{"tool: removed a (for call_1)", "tool: removed b (for call_2)"}
	if got := seen[len(seen)-2:]; !slices.Equal(got, want) {
		t.Fatalf("the model saw %q, want %q", got, want)
	}
}

// TestTwoConfirmationsThroughTheSupervisor: the supervisor hands a prompt
// to a BASIC agent whose reply has two calls that each ask; each question
// reaches the user in turn (the supervisor's pause follows the child's),
// a reload between them shows the second again, and each confirmed call
// runs once; "no" to the first still runs the second.
func TestTwoConfirmationsThroughTheSupervisor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first string
		ran   []string
	}{
		{"both yes", yesFrame, []string{"drop a", "drop b"}},
		{"no then yes", noFrame, []string{"drop b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startOps(t)
			host := strings.TrimPrefix(o.URL, "http://")
			ms := startMath(t)
			e := newEnv(t, opsAgent(o, v1alpha1.AuthBasic), newAgent("fleet", ms.url()))
			planA, planB := opsPlan(host, "drop", `{"name":"a"}`), opsPlan(host, "drop", `{"name":"b"}`)
			id := "sup-two-" + strings.ReplaceAll(tc.name, " ", "-")
			e.model.Push(call("ops", `{"query":"drop a and b"}`), calls(sc("drop", `{"name":"a"}`), sc("drop", `{"name":"b"}`)))
			c := e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			if got := c.Ask(prompt("drop a and b")); !slices.Contains(got, planA) || slices.Contains(got, planB) {
				t.Fatalf("first question: %q", got)
			}
			if got := c.Ask(tc.first); !slices.Contains(got, planB) {
				t.Fatalf("second question: %q", got)
			}
			c.WS.CloseNow()

			e.model.Push(llm.TextEntry("child: done"), llm.TextEntry("Done."))
			c = e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			equalFrames(t, c.Turn(), []string{"<message>", planB, "</message>"})
			equalFrames(t, c.Ask(yesFrame), []string{"<message>", "Done.", "</message>"})
			if got := o.calls(); !slices.Equal(got, tc.ran) {
				t.Fatalf("the MCP server ran %q, want %q", got, tc.ran)
			}
			// The thread stays usable.
			e.model.Push(llm.TextEntry("fleet"), llm.TextEntry("Hello."))
			if got := c.Ask(prompt("hi")); !slices.Contains(got, "Hello.") {
				t.Fatalf("next turn: %q", got)
			}
		})
	}
}
