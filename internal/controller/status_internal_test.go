package controller

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

func TestJudge(t *testing.T) {
	oauth := agentconfig.Agent{Spec: v1alpha1.AIAgentConfigSpec{AuthenticationType: v1alpha1.AuthOAuth2}}
	none := agentconfig.Agent{Spec: v1alpha1.AIAgentConfigSpec{AuthenticationType: v1alpha1.AuthNone}}
	unauth := fmt.Errorf("list: %w", &mcp.HTTPStatusError{StatusCode: 401})
	refused := fmt.Errorf("connect: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})
	for _, tc := range []struct {
		name      string
		a         agentconfig.Agent
		err       error
		ready     bool
		message   string
		transient bool
	}{
		{"ok", none, nil, true, MessageReady, false},
		{"oauth 401", oauth, unauth, true, MessageNeedsOAuth, false},
		{"none 401", none, unauth, false, prefixFailed + unauth.Error(), false},
		{"refused", none, refused, false, prefixRetrying + refused.Error(), true},
		{"503", none, &mcp.HTTPStatusError{StatusCode: 503}, false, prefixRetrying + "mcp server answered HTTP Service Unavailable", true},
		{"500", none, &mcp.HTTPStatusError{StatusCode: 500}, false, prefixFailed + "mcp server answered HTTP Internal Server Error", false},
		{"other", none, errors.New("bad json"), false, prefixFailed + "bad json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judge(tc.a, tc.err)
			if v.ready != tc.ready || v.message != tc.message || v.transient != tc.transient {
				t.Fatalf("judge = %+v", v)
			}
		})
	}
}

func TestApplyWritesOnlyChanges(t *testing.T) {
	var st v1alpha1.AIAgentConfigStatus
	if !apply(&st, verdict{ready: true, message: MessageReady}, 1) {
		t.Fatal("first status not a change")
	}
	first := st.Conditions[0].LastTransitionTime
	if apply(&st, verdict{ready: true, message: MessageReady}, 1) {
		t.Fatal("same verdict counted as a change")
	}
	if !apply(&st, verdict{ready: true, message: MessageReady}, 2) {
		t.Fatal("new generation not a change")
	}
	if st.Conditions[0].LastTransitionTime != first {
		t.Fatal("lastTransitionTime moved without a status flip")
	}
	if !apply(&st, verdict{message: "x"}, 2) || st.Phase != v1alpha1.PhaseFailed || st.Conditions[0].Reason != v1alpha1.ReasonConfigurationFailed {
		t.Fatalf("failure not applied: %+v", st)
	}
	if !apply(&st, verdict{message: "down", transient: true}, 2) || st.Phase != "" || st.Conditions[0].Status != "Unknown" || st.Conditions[0].Reason != ReasonUnreachable {
		t.Fatalf("transient not applied as Unknown: %+v", st)
	}
	if len(st.Conditions) != 1 {
		t.Fatalf("conditions = %+v", st.Conditions)
	}
}
