package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
)

// api calls the REST API as the user of token and returns status and body.
func (e *env) api(method, path, token, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Cookie", "R_SESS="+token)
	}
	if method == http.MethodPost || method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json") // as the UI sends
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// apiJSON calls api, wants code, and decodes the body into v.
func (e *env) apiJSON(method, path, token, body string, code int, v any) {
	e.t.Helper()
	got, b := e.api(method, path, token, body)
	if got != code {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, got, b, code)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(b), v); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// chatTurns runs prompts on chat id, one connection per prompt, so every
// turn after the first is a resumed chat.
func (e *env) chatTurns(id string, prompts ...string) {
	e.t.Helper()
	for _, p := range prompts {
		c := e.dial("/v1/ws/messages/"+id, "tok-alice")
		if md := c.Metadata(); md["chatId"] != id {
			e.t.Fatalf("chatId = %v, want %s", md["chatId"], id)
		}
		c.Send(prompt(p))
		c.Turn()
		c.WS.CloseNow()
	}
}

func TestChatsAPI(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	e.model.Push(call("listPods", `{}`), llm.TextEntry("Two pods."), llm.TextEntry("Still two."))
	e.chatTurns("c-1", "list pods", "and now?")

	// Resuming: the second turn's model request carried the first turn.
	reqs := e.model.Requests()
	last := strings.Join(msgs(reqs[len(reqs)-1].Messages), "\n")
	if !strings.Contains(last, "user: list pods") || !strings.Contains(last, "assistant: Two pods.") {
		t.Fatalf("resumed turn lacks the history:\n%s", last)
	}

	var list []map[string]any
	e.apiJSON("GET", "/v1/api/chats", "tok-alice", "", 200, &list)
	if len(list) != 1 || list[0]["id"] != "c-1" || list[0]["name"] != "list pods" || list[0]["userId"] != "u-alice" {
		t.Fatalf("chats = %v", list)
	}
	if _, err := time.Parse(time.RFC3339, list[0]["createdAt"].(string)); err != nil {
		t.Fatalf("createdAt: %v", err)
	}
	e.apiJSON("GET", "/v1/api/chats", "tok-bob", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("bob sees %v", list)
	}

	var rows []map[string]any
	e.apiJSON("GET", "/v1/api/chats/c-1/messages", "tok-alice", "", 200, &rows)
	var got []string
	for _, r := range rows {
		got = append(got, r["role"].(string)+"|"+r["agent"].(string)+"|"+r["message"].(string))
		if r["chatId"] != "c-1" || r["createdAt"] == nil {
			t.Fatalf("row %v", r)
		}
	}
	equalFrames(t, got, []string{
		"user|math|list pods",
		`agent|math|<mcp-response>[{"kind":"Pod","type":"pod","name":["a","b"],"namespace":"default","cluster":"local"}]</mcp-response>Two pods.`,
		"user|math|and now?",
		"agent|math|Still two.",
	})
	if _, ok := rows[0]["context"].(map[string]any); !ok {
		t.Fatalf("user row without context: %v", rows[0])
	}

	var chat struct {
		Name  string
		Usage struct {
			TotalTokens, InputTokens, OutputTokens int
			ByAgent                                map[string]struct{ TotalTokens int }
		}
	}
	e.apiJSON("GET", "/v1/api/chats/c-1", "tok-alice", "", 200, &chat)
	u := chat.Usage
	if u.TotalTokens == 0 || u.TotalTokens != u.InputTokens+u.OutputTokens || u.ByAgent["math"].TotalTokens != u.TotalTokens {
		t.Fatalf("usage = %+v", u)
	}

	e.apiJSON("PUT", "/v1/api/chats/c-1", "tok-alice", `{"name":"Renamed","other":1}`, 200, &chat)
	if chat.Name != "Renamed" {
		t.Fatalf("PUT returned %q", chat.Name)
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if code, b := e.api(m, "/v1/api/chats/c-1", "tok-bob", `{"name":"x"}`); code != 404 || !strings.Contains(b, `"detail"`) {
			t.Fatalf("bob %s = %d %s, want 404 {detail}", m, code, b)
		}
	}
	if code, _ := e.api("GET", "/v1/api/chats/c-1/messages", "tok-bob", ""); code != 404 {
		t.Fatalf("bob's messages = %d, want 404", code)
	}
	e.apiJSON("DELETE", "/v1/api/chats/c-1", "tok-alice", "", 204, nil)
	if code, _ := e.api("GET", "/v1/api/chats/c-1", "tok-alice", ""); code != 404 {
		t.Fatalf("deleted chat = %d, want 404", code)
	}
	if code, _ := e.api("GET", "/v1/api/chats", "", ""); code != 401 {
		t.Fatalf("no user = %d, want 401", code)
	}
}

func TestChatsListOrderAndDeleteAll(t *testing.T) {
	e := newEnv(t, newAgent("math", startMath(t).url()))
	e.model.Push(llm.TextEntry("a"), llm.TextEntry("b"))
	e.chatTurns("first", "one")
	e.chatTurns("second", "two")
	c := e.dial("/v1/ws/messages/empty", "tok-alice") // opened, never used
	c.Metadata()
	ids := func(q string) string {
		var list []struct{ ID string }
		e.apiJSON("GET", "/v1/api/chats"+q, "tok-alice", "", 200, &list)
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(""); got != "second,first" {
		t.Fatalf("default order = %s, want newest first without the empty chat", got)
	}
	if got := ids("?sort=createdAt:asc"); got != "first,second" {
		t.Fatalf("asc = %s", got)
	}
	if code, _ := e.api("GET", "/v1/api/chats?sort=name", "tok-alice", ""); code != 400 {
		t.Fatalf("bad sort = %d, want 400", code)
	}
	e.apiJSON("DELETE", "/v1/api/chats", "tok-alice", "", 204, nil)
	if got := ids(""); got != "" {
		t.Fatalf("after DELETE /chats: %s", got)
	}
}

func TestChatsBadInput(t *testing.T) {
	e := newEnv(t, newAgent("math", startMath(t).url()))
	e.model.Push(llm.TextEntry("a"))
	e.chatTurns("c-1", "keep me")
	long := strings.Repeat("n", 501)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/api/chats/-leading-dash", ""},
		{"GET", "/v1/api/chats/" + strings.Repeat("x", 129), ""},
		{"DELETE", "/v1/api/chats/bad%20id", ""},
		{"GET", "/v1/api/chats/a%2Fb/messages", ""},
		{"PUT", "/v1/api/chats/c-1", ""},
		{"PUT", "/v1/api/chats/c-1", "not json"},
		{"PUT", "/v1/api/chats/c-1", `["name"]`},
		{"PUT", "/v1/api/chats/c-1", `{"title":"x"}`},
		{"PUT", "/v1/api/chats/c-1", `{"name":42}`},
		{"PUT", "/v1/api/chats/c-1", `{"name":"  "}`},
		{"PUT", "/v1/api/chats/c-1", `{"name":"` + long + `"}`},
		{"PUT", "/v1/api/chats/c-1", `null`},
	} {
		code, b := e.api(tc.method, tc.path, "tok-alice", tc.body)
		var d struct{ Detail string }
		if code != 400 || json.Unmarshal([]byte(b), &d) != nil || d.Detail == "" {
			t.Errorf("%s %s %.20q = %d %s, want 400 {detail}", tc.method, tc.path, tc.body, code, b)
		}
	}
	var chat struct{ Name string }
	e.apiJSON("GET", "/v1/api/chats/c-1", "tok-alice", "", 200, &chat)
	if chat.Name != "keep me" {
		t.Fatalf("bad input changed the name to %q", chat.Name)
	}
	name := strings.Repeat("é", 500)
	e.apiJSON("PUT", "/v1/api/chats/c-1", "tok-alice", `{"name":"`+name+`"}`, 200, &chat)
	if chat.Name != name {
		t.Fatal("a 500-character name was not kept")
	}
	if code, _ := e.api("PUT", "/v1/api/chats/c-1", "tok-alice", `{"name":"`+strings.Repeat("x", 70000)+`"}`); code != 413 {
		t.Fatalf("huge body = %d, want 413", code)
	}
}
