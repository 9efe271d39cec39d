package llm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// drain pops every queued entry and renders each as a short string.
func drain(t *testing.T, s *llm.Scripted) []string {
	t.Helper()
	var out []string
	for s.Len() > 0 {
		evs, err := collect(t, context.Background(), s, llm.Request{})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range evs {
			switch {
			case e.Text != "":
				parts = append(parts, e.Text)
			case e.ToolCall != nil:
				parts = append(parts, e.ToolCall.Name+string(e.ToolCall.Arguments))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func push(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec
}

func TestControlPushOldShape(t *testing.T) {
	s := llm.NewScripted()
	h := s.ControlHandler()
	rec := push(t, h, "/v1/control/push", `{"agent":"rancher","text":{"chunks":["<think>","x","</think>","ok"]},
		"mcpTool":{"name":"listKubernetesResources","args":[{"kind":"Pod"},{"kind":"Node"}]},
		"uiTools":[{"name":"nav","args":{"to":"/"}},{"name":"open","args":{}}]}`)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := []string{
		"rancher",
		`listKubernetesResources{"kind":"Pod"}|listKubernetesResources{"kind":"Node"}`,
		"<think>|x|</think>|ok",
		`nav{"to":"/"}|open{}`,
	}
	if got := drain(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("queue = %q\nwant    %q", got, want)
	}
}

func TestControlPushNewShape(t *testing.T) {
	s := llm.NewScripted()
	rec := push(t, s.ControlHandler(), "/v1/control/push", `{"agentResponses":[
		{"agent":"rancher","mcpTool":{"name":"getKubernetesResource","args":{"name":"a"}}},
		{"agent":null,"mcpTool":{"name":"createKubernetesResource","args":{"name":"b"}}},
		{"agent":"fleet"}],
		"text":{"chunks":["done"]},"uiTools":[{"name":"nav","args":{"to":"x"}}]}`)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := []string{
		"rancher", `getKubernetesResource{"name":"a"}`,
		`createKubernetesResource{"name":"b"}`,
		"fleet",
		"done",
		`nav{"to":"x"}`,
	}
	if got := drain(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("queue = %q\nwant    %q", got, want)
	}
}

func TestControlPushRejects(t *testing.T) {
	s := llm.NewScripted()
	for _, body := range []string{
		`{"agent":"rancher"}`,
		`{"text":{"chunks":[]}}`,
		`{"mcpTool":{"args":{}}}`,
		`{"agentResponses":[{"agent":"x"}]}`,
		`not json`,
	} {
		rec := push(t, s.ControlHandler(), "/v1/control/push", body)
		var resp struct{ Detail string }
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp.Detail == "" {
			t.Errorf("%s: status %d body %s", body, rec.Code, rec.Body)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("rejected pushes queued %d entries", s.Len())
	}
}

func TestControlClear(t *testing.T) {
	s := llm.NewScripted(llm.TextEntry("a"), llm.TextEntry("b"))
	rec := push(t, s.ControlHandler(), "/v1/control/clear", "")
	if rec.Code != http.StatusNoContent || s.Len() != 0 {
		t.Fatalf("status %d, %d left", rec.Code, s.Len())
	}
	rec = httptest.NewRecorder()
	s.ControlHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/control/clear", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET clear: status %d", rec.Code)
	}
}

func TestParseScript(t *testing.T) {
	script := `
- agent: rancher
  mcpTool: {name: listKubernetesResources, args: {kind: Pod}}
  text: {chunks: ["two ", "pods"]}
- agentResponses:
    - mcpTool: {name: getKubernetesResource, args: {name: a}}
  text:
    chunks: [done]
`
	entries, err := llm.ParseScript(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	s := llm.NewScripted(entries...)
	want := []string{"rancher", `listKubernetesResources{"kind":"Pod"}`, "two |pods", `getKubernetesResource{"name":"a"}`, "done"}
	if got := drain(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("queue = %q\nwant    %q", got, want)
	}
	if _, err := llm.ParseScript(strings.NewReader(`[{"agent":"x"}]`)); err == nil || !strings.Contains(err.Error(), "item 1") {
		t.Fatalf("err = %v, want item 1 error", err)
	}
	if _, err := llm.ParseScript(strings.NewReader(`{"text":{"chunks":["a"]}}`)); err == nil {
		t.Fatal("a non-list script was accepted")
	}
}
