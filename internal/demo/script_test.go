package demo

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

func tools(names ...string) []llm.Tool {
	out := make([]llm.Tool, len(names))
	for i, n := range names {
		out[i] = llm.Tool{Name: n}
	}
	return out
}

func TestScriptAnswersAListInMarkdownWithThoughts(t *testing.T) {
	res := "3 Pod in cluster local:\ndefault/web-a: Running\ndefault/web-b: Running\ndefault/db-0: CrashLoopBackOff"
	e := Script(llm.Request{Purpose: "agent", Messages: []llm.Message{{Role: llm.RoleUser, Content: "list the pods"}, {Role: llm.RoleTool, Content: res}}})
	if len(e.Text) < 6 || e.Text[0] != "<think>" || !slices.Contains(e.Text, "</think>") {
		t.Fatalf("no think section as frames of their own: %q", e.Text)
	}
	for _, f := range e.Text {
		if strings.Contains(f, "mcp-doclink") {
			t.Fatalf("a doc link in the model's text (the MCP server's docLinks carry it): %q", f)
		}
	}
	end := slices.Index(e.Text, "</think>")
	answer := strings.Join(e.Text[end+1:], "")
	want := "Here are the 3 Pod resources of cluster `local`:\n\n" +
		"- `web-a` in `default`: Running\n- `web-b` in `default`: Running\n- `db-0` in `default`: **CrashLoopBackOff**\n\n" +
		"`db-0` is in CrashLoopBackOff; ask me for its logs."
	if answer != want {
		t.Fatalf("answer\n%q\nwant\n%q", answer, want)
	}
}

func TestScriptAnswersOtherKindsWithATable(t *testing.T) {
	text, doc := summary("2 Deployment in cluster local:\ndefault/web: 2/2 ready\nkube-system/coredns: 0/1 ready")
	want := "Here are the 2 Deployment resources of cluster `local`:\n\n| Name | Namespace | Ready |\n|---|---|---|\n" +
		"| `web` | default | 2/2 ready |\n| `coredns` | kube-system | **0/1 ready** |\n\n`coredns` has no ready replica."
	if text != want || doc != docs["Deployment"] {
		t.Fatalf("summary %q %q", text, doc)
	}
}

func TestScriptSupervisorDelegatesLogsAndHandsOffTheRest(t *testing.T) {
	sup := func(prompt string) llm.Entry {
		return Script(llm.Request{Purpose: "supervisor", Tools: tools("cluster", "notes"), Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}})
	}
	e := sup("Show the logs of db-0")
	if len(e.ToolCalls) != 1 || e.ToolCalls[0].Name != "cluster" {
		t.Fatalf("logs: %+v", e)
	}
	var args struct{ Query string }
	if err := json.Unmarshal(e.ToolCalls[0].Args, &args); err != nil || args.Query != "Show the logs of db-0" {
		t.Fatalf("delegated query %s: %v", e.ToolCalls[0].Args, err)
	}
	if e := sup("show my notes"); !slices.Equal(e.Text, []string{"notes"}) {
		t.Fatalf("notes: %+v", e)
	}
	if e := sup("list the pods in default"); !slices.Equal(e.Text, []string{"cluster"}) {
		t.Fatalf("pods: %+v", e)
	}
	// The child's answer comes back whole; the supervisor streams it again
	// with each tag a frame of its own.
	child := "<think>A thought. </think>The logs show `x`.<mcp-doclink>https://k8s.io/a</mcp-doclink>"
	e = Script(llm.Request{Purpose: "supervisor", Messages: []llm.Message{{Role: llm.RoleUser, Content: "logs"}, {Role: llm.RoleTool, Content: child}}})
	if strings.Join(e.Text, "") != child {
		t.Fatalf("bytes changed: %q", e.Text)
	}
	for _, tag := range []string{"<think>", "</think>", "<mcp-doclink>https://k8s.io/a</mcp-doclink>"} {
		if !slices.Contains(e.Text, tag) {
			t.Fatalf("%s is not a frame of its own in %q", tag, e.Text)
		}
	}
}

func TestReframeKeepsTextWithAngleBrackets(t *testing.T) {
	for _, s := range []string{"", "a < b and c <d", "<mcp-doclink>unterminated", "x<think>y</think>z<", "plain words only here"} {
		if got := strings.Join(reframe(s), ""); got != s {
			t.Errorf("reframe(%q) joined is %q", s, got)
		}
	}
}
