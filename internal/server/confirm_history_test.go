package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// historyOf reads GET /v1/api/chats/{id}/messages as user tok.
func (e *env) historyOf(t *testing.T, id, tok string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/v1/api/chats/"+id+"/messages", nil)
	req.Header.Set("Cookie", "R_SESS="+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rows) != nil {
		t.Fatalf("history of %s: HTTP %d", id, resp.StatusCode)
	}
	return rows
}

// historyLine renders rows as role:message[:confirmation] for comparison.
func historyLine(rows []map[string]any) string {
	var out []string
	for _, r := range rows {
		s := r["role"].(string) + ":" + r["message"].(string)
		if c, ok := r["confirmation"]; ok {
			s += ":" + map[bool]string{true: "confirmed", false: "cancelled"}[c.(bool)]
		}
		out = append(out, s)
	}
	return strings.Join(out, " | ")
}

// TestHumanValidationHistoryOfAChildRun: a confirmation asked by an agent
// that the supervisor handed the prompt to (the demo's "scale web to 3"),
// or that the user picked, lives in the child's thread. A reopened chat's
// history shows the request, the decision and the answer all the same.
func TestHumanValidationHistoryOfAChildRun(t *testing.T) {
	plan := `<confirmation-response>[{"type":"create","resource":{"kind":"Sum","name":"s","namespace":"","cluster":"local"},"payload":{"a":4,"b":5}}]</confirmation-response>`
	for _, tc := range []struct {
		name, prompt, answer string
		script               []llm.Entry
		want                 string
	}{
		{"hand-off", prompt("what is 4+5?"), "yes",
			[]llm.Entry{llm.TextEntry("math"), call("add", `{"a":4,"b":5}`), llm.TextEntry("It is 9.")},
			"user:what is 4+5? | agent:" + plan + ":confirmed | agent:It is 9."},
		{"picked", prompt("what is 4+5?", `"context":{}`, `"agent":"math"`), "no",
			[]llm.Entry{call("add", `{"a":4,"b":5}`)},
			"user:what is 4+5? | agent:" + plan + ":cancelled | agent:Previous tool canceled by the user."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := startMath(t)
			a := newAgent("math", ms.url())
			a.Spec.HumanValidationTools = []string{"add"}
			e := newEnv(t, a, newAgent("fleet", ms.url()))
			e.model.Push(tc.script...)
			id := "hv-child-" + tc.name
			c := e.dial("/v1/ws/messages/"+id, "tok-alice")
			c.Metadata()
			c.Send(tc.prompt)
			if got := strings.Join(c.Turn(), ""); !strings.Contains(got, plan) {
				t.Fatalf("frames %q", got)
			}
			// While it waits, the question is not in history: the reopened
			// socket shows it, with its buttons.
			if got, want := historyLine(e.historyOf(t, id, "tok-alice")), "user:what is 4+5?"; got != want {
				t.Fatalf("history while waiting:\n got  %s\n want %s", got, want)
			}
			c.WS.CloseNow()
			c2 := e.dial("/v1/ws/messages/"+id, "tok-alice")
			c2.Metadata()
			if again := strings.Join(c2.Turn(), ""); again != "<message>"+plan+"</message>" {
				t.Fatalf("reopened chat shows %q", again)
			}
			c2.Send(`{"prompt":"` + tc.answer + `","context":{},"tags":["confirmation"]}`)
			c2.Turn()
			if got := historyLine(e.historyOf(t, id, "tok-alice")); got != tc.want {
				t.Fatalf("history after %q:\n got  %s\n want %s", tc.answer, got, tc.want)
			}
		})
	}
}
