package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

func TestHumanValidationPausesAndResumes(t *testing.T) {
	ms := startMath(t)
	a := newAgent("math", ms.url())
	a.Spec.HumanValidationTools = []string{"add"}
	e := newEnv(t, a)
	e.model.Push(call("add", `{"a":4,"b":5}`))
	c := e.dial("/v1/ws/messages/hv-1", "tok-alice")
	c.Metadata()
	c.Send(prompt("add 4 and 5"))
	plan := `[{"type":"create","resource":{"kind":"Sum","name":"s","namespace":"","cluster":"local"},"payload":{"a":4,"b":5}}]`
	equalFrames(t, c.Turn(), []string{"<message>", "<confirmation-response>" + plan + "</confirmation-response>", "</message>"})
	// The model never saw the hidden plan tool, and add did not run yet.
	for _, tl := range e.model.Requests()[0].Tools {
		if tl.Name == "addPlan" {
			t.Fatal("plan tool offered to the model")
		}
	}
	c.WS.CloseNow()

	// A new connection (as after a restart) finds the pause in the store;
	// "yes" runs the tool and the conversation goes on.
	e.model.Push(llm.TextEntry("It is 9."))
	c2 := e.dial("/v1/ws/messages/hv-1", "tok-alice")
	c2.Metadata()
	// The reopened chat shows the question again, with its buttons.
	equalFrames(t, c2.Turn(), []string{"<message>", "<confirmation-response>" + plan + "</confirmation-response>", "</message>"})
	c2.Send(`{"prompt":"yes","context":{},"tags":["confirmation"]}`)
	equalFrames(t, c2.Turn(), []string{"<message>", "It is 9.", "</message>"})
	reqs := e.model.Requests()
	equalFrames(t, msgs(reqs[1].Messages), []string{
		"system: You are the math agent.", "user: add 4 and 5",
		`assistant:  [call call_1 add {"a":4,"b":5}]`, "tool: sum is 9 (for call_1)",
	})
	thread, _ := e.store.Messages(context.Background(), "hv-1")
	var answered bool
	for _, m := range thread {
		if m.Role == store.RoleConfirmation && m.Confirmation.Answered && m.Confirmation.Confirmed {
			answered = true
		}
	}
	if !answered {
		t.Fatal("the decision is not recorded")
	}

	// History shows the request, answered.
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/v1/api/chats/hv-1/messages", nil)
	req.Header.Set("Cookie", "R_SESS=tok-alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&rows)
	resp.Body.Close()
	if len(rows) != 3 || rows[1]["message"] != "<confirmation-response>"+plan+"</confirmation-response>" || rows[1]["confirmation"] != true || rows[2]["message"] != "It is 9." {
		t.Fatalf("history %v", rows)
	}

	// Anything else cancels, without a model call.
	e.model.Push(call("add", `{"a":1,"b":1}`))
	c2.Send(prompt("add 1 and 1"))
	c2.Turn()
	n := len(e.model.Requests())
	c2.Send(`{"prompt":"no","context":{},"tags":["confirmation"]}`)
	equalFrames(t, c2.Turn(), []string{"<message>", "Previous tool canceled by the user.", "</message>"})
	if len(e.model.Requests()) != n {
		t.Fatal("the model was called after a cancel")
	}
	thread, _ = e.store.Messages(context.Background(), "hv-1")
	if last := thread[len(thread)-2]; last.Role != "tool" || last.Content != "tool execution cancelled by the user" {
		t.Fatalf("cancel result %+v", last)
	}
}

func TestHumanValidationThroughTheSupervisor(t *testing.T) {
	ms := startMath(t)
	a := newAgent("math", ms.url())
	a.Spec.HumanValidationTools = []string{"add"}
	e := newEnv(t, a, newAgent("fleet", ms.url()))
	// The supervisor delegates; the child wants add, which waits for the user.
	e.model.Push(call("math", `{"query":"add 4 and 5"}`), call("add", `{"a":4,"b":5}`))
	c := e.dial("/v1/ws/messages/hv-sup", "tok-alice")
	c.Metadata()
	c.Send(prompt("what is 4+5?"))
	got := c.Turn()
	if len(got) != 6 || got[3] != "<confirmation-response>"+`[{"type":"create","resource":{"kind":"Sum","name":"s","namespace":"","cluster":"local"},"payload":{"a":4,"b":5}}]`+"</confirmation-response>" {
		t.Fatalf("frames %q", got)
	}
	c.WS.CloseNow()
	// After a reconnect (as after a restart): yes runs add in the child, the
	// child answers (not streamed), and the supervisor goes on from it.
	e.model.Push(llm.TextEntry("child: 9"), llm.TextEntry("The answer ", "is 9."))
	c2 := e.dial("/v1/ws/messages/hv-sup", "tok-alice")
	c2.Metadata()
	if again := c2.Turn(); len(again) != 3 || again[1] != got[3] {
		t.Fatalf("reopened chat shows %q, want the question again", again)
	}
	c2.Send(`{"prompt":"yes","context":{},"tags":["confirmation"]}`)
	equalFrames(t, c2.Turn(), []string{"<message>", "The answer ", "is 9.", "</message>"})
	reqs := e.model.Requests()
	child, sup := msgs(reqs[2].Messages), msgs(reqs[3].Messages)
	if child[len(child)-1] != "tool: sum is 9 (for call_2)" || sup[len(sup)-1] != "tool: child: 9 (for call_1)" {
		t.Fatalf("child saw %q\nsupervisor saw %q", child, sup)
	}
}
