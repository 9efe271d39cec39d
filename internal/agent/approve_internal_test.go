package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
)

// TestCallPlanIsWhatTheUIRenders: the <confirmation-response> of a tool
// without a plan is one "create" action whose resource has the fields the
// Rancher AI UI's validateActionResource requires (kind, namespace, name,
// cluster: present, not null), names the tool and its server (the URL's
// host only, never its path or query), carries the arguments, and cannot
// end its frame or be broken by the UI's rewrite of '...' pairs.
func TestCallPlanIsWhatTheUIRenders(t *testing.T) {
	st := &agentState{Agent: agentconfig.Agent{Name: "ops", Spec: v1alpha1.AIAgentConfigSpec{
		MCPURL: "https://mcp.example.com:8443/mcp?key=secret", AuthenticationType: v1alpha1.AuthHeader}}}
	for _, tc := range []struct{ args, want string }{
		{`{"name":"db"}`, `{"name":"db"}`},
		{`{"note":"it's </confirmation-response><authentication>x & 'y'"}`, `{"note":"it's </confirmation-response><authentication>x & 'y'"}`},
		{`not json`, `"not json"`},
	} {
		b := callPlan(st, llm.ToolCall{ID: "c1", Name: "drop", Arguments: json.RawMessage(tc.args)})
		if s := string(b); strings.ContainsAny(s, "<>'") || strings.Contains(s, "secret") || strings.Contains(s, "/mcp") {
			t.Fatalf("plan %s: carries a tag, a quote or the URL's path", s)
		}
		var plan []map[string]any
		if err := json.Unmarshal(b, &plan); err != nil || len(plan) != 1 {
			t.Fatalf("plan %s: %v", b, err)
		}
		a := plan[0]
		res, _ := a["resource"].(map[string]any)
		for _, f := range []string{"kind", "namespace", "name", "cluster"} {
			if v, ok := res[f]; !ok || v == nil {
				t.Fatalf("resource lacks %s: %s", f, b)
			}
		}
		if a["type"] != "create" || res["kind"] != "MCP tool call" || res["name"] != "drop" || res["cluster"] != "mcp.example.com:8443" {
			t.Fatalf("plan %s", b)
		}
		p, _ := a["payload"].(map[string]any)
		args, _ := json.Marshal(p["arguments"])
		var want any
		_ = json.Unmarshal([]byte(tc.want), &want)
		wantJSON, _ := json.Marshal(want)
		if p["tool"] != "drop" || p["server"] != "mcp.example.com:8443" || p["agent"] != "ops" || string(args) != string(wantJSON) {
			t.Fatalf("payload %s", b)
		}
	}
}

// TestAsksFirst: the rule of issue 20 item 5 by annotations, auth type and
// autoApproveTools; a tool the server did not list asks (fails closed).
func TestAsksFirst(t *testing.T) {
	tools := []mcp.Tool{{Name: "peek", ReadOnlyHint: true}, {Name: "put"}, {Name: "drop", DestructiveHint: true},
		{Name: "odd", ReadOnlyHint: true, DestructiveHint: true}}
	for _, tc := range []struct {
		auth v1alpha1.AuthenticationType
		auto []string
		want map[string]bool
	}{
		{v1alpha1.AuthOAuth2, nil, map[string]bool{"peek": false, "put": true, "drop": true, "odd": true, "gone": true}},
		{v1alpha1.AuthBasic, []string{"drop"}, map[string]bool{"peek": false, "put": true, "drop": false, "odd": true}},
		{v1alpha1.AuthHeader, nil, map[string]bool{"peek": false, "put": true, "drop": true}},
		{v1alpha1.AuthNone, nil, map[string]bool{"put": false, "drop": false}},
		{v1alpha1.AuthRancher, nil, map[string]bool{"put": false, "drop": false}},
	} {
		st := &agentState{Agent: agentconfig.Agent{Name: "a", Spec: v1alpha1.AIAgentConfigSpec{
			AuthenticationType: tc.auth, AutoApproveTools: tc.auto}}, tools: tools}
		for tool, want := range tc.want {
			if got := asksFirst(st, tool); got != want {
				t.Errorf("%s %v: asksFirst(%s) = %v, want %v", tc.auth, tc.auto, tool, got, want)
			}
		}
	}
}
