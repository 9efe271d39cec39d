package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/demo"
)

// TestFaultWebSocketDroppedDuringSignIn: the OAUTH2 agent, picked by the
// user or handed the prompt by the supervisor, asks to sign in
// (<authentication>), and the socket drops before the callback. The turn
// ends (no goroutine waits for an answer that cannot come), the prompt is
// kept, and the pending sign-in stays resumable: the popup, still open,
// completes on the callback, and the chat reopened later uses the token at
// once.
func TestFaultWebSocketDroppedDuringSignIn(t *testing.T) {
	for _, tc := range []struct{ name, push, prompt string }{
		// The agent the user picked: the reopened turn scripts its tool call.
		{"picked", "", `{"prompt":"show my notes","context":{},"agent":"gh"}`},
		// The supervisor hands off to gh; its tool call and answer stay
		// queued for the reopened turn.
		{"handed-off", `{"agent":"gh","mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["You are alice."]}}`, `{"prompt":"show my notes","context":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDemoOAuth(t)
			cluster := httptest.NewServer(demo.Handler())
			t.Cleanup(cluster.Close)
			f := startFaultServe(t, ghConfig(t, d.mcpURL, cluster.URL+"/mcp"), nil)
			id := "ws-signin-" + tc.name
			c := f.dial(t, id)
			c.Read()
			if tc.push != "" {
				push(t, f.addr, tc.push)
			}
			c.Send(tc.prompt)
			frames := c.UntilPrefix("<authentication>")
			c.WS.CloseNow()

			if code, page := getPage(t, d.approve(t, authURL(t, frames[len(frames)-1]), "alice")); code != http.StatusOK || !strings.Contains(page, "oauth_success") {
				t.Fatalf("callback after the socket dropped: HTTP %d %s", code, page)
			}
			c = f.dial(t, id)
			c.Read()
			if tc.push == "" {
				push(t, f.addr, whoamiPush)
			}
			got := c.Ask(`{"prompt":"show my notes","context":{},"agent":"gh"}`)
			if strings.Join(got, "|") != "<message>|You are alice.|</message>" {
				t.Fatalf("reopened chat: %q, want the answer without a new sign-in", got)
			}
			// Read once serve stopped, which waits for every turn (the
			// dropped one too): both prompts and the answer are in the
			// chat's thread.
			var main []string
			for _, m := range f.thread(t, id) {
				main = append(main, m.Role+":"+m.Content)
			}
			slices.Sort(main)
			if !slices.Equal(main, []string{"assistant:You are alice.", "user:show my notes", "user:show my notes"}) {
				t.Errorf("chat thread %q", main)
			}
			if res := toolResults(f.thread(t, id+"::child::gh")); !slices.Equal(res, []string{whoamiResult}) {
				t.Errorf("tool results %q", res)
			}
		})
	}
}

// TestFaultWebSocketDroppedDuringConfirmation: the socket drops after the
// <confirmation-response> frame, before the user's answer. The pause is
// stored: the chat reopened later resumes it with "yes" (the tool runs, the
// turn answers) or, on another chat, cancels it cleanly with any other
// prompt. History shows the request, the decision and the answer; no tool
// call is left without a result.
func TestFaultWebSocketDroppedDuringConfirmation(t *testing.T) {
	for _, answer := range []string{"yes", "no, leave it"} {
		t.Run(answer, func(t *testing.T) {
			mcp := httptest.NewServer(demo.Handler())
			t.Cleanup(mcp.Close)
			cfg := writeConfig(t, fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: cluster}\nspec:\n  displayName: Cluster\n  mcpURL: %s/mcp\n  authenticationType: NONE\n  humanValidationTools: [scaleDeployment]\n", mcp.URL))
			f := startFaultServe(t, cfg, nil)
			c := f.dial(t, "ws-confirm")
			c.Read()
			// The text is the model's answer after the tool ran, if it runs.
			push(t, f.addr, `{"mcpTool":{"name":"scaleDeployment","args":{"name":"web","namespace":"default","replicas":3}},"text":{"chunks":["Scaled web to 3."]}}`)
			c.Send(`{"prompt":"scale web to 3","context":{}}`)
			frames := c.UntilPrefix("<confirmation-response>")
			plan := frames[len(frames)-1]
			c.WS.CloseNow()

			c = f.dial(t, "ws-confirm")
			c.Read()
			got := c.Ask(`{"prompt":"` + answer + `","context":{},"tags":["confirmation"]}`)
			// The scale tool's result carries a docLinks entry, sent as the
			// agent's own <mcp-doclink> frame before the answer.
			want, reply, result := "<message>|<mcp-doclink>https://kubernetes.io/docs/concepts/workloads/controllers/deployment/</mcp-doclink>|Scaled web to 3.|</message>",
				"Scaled web to 3.", "Scaled deployment default/web to 3 replicas."
			if answer != "yes" {
				reply, result = "Previous tool canceled by the user.", "tool execution cancelled by the user"
				want = "<message>|" + reply + "|</message>"
			}
			if strings.Join(got, "|") != want {
				t.Fatalf("after reopening: %q", got)
			}
			if h := f.history(t, "ws-confirm"); !slices.Equal(h, []string{"user:scale web to 3", "agent:" + plan, "agent:" + reply}) {
				t.Errorf("history %q", h)
			}
			if res := toolResults(f.thread(t, "ws-confirm")); !slices.Equal(res, []string{result}) {
				t.Errorf("tool results %q", res)
			}
		})
	}
}
