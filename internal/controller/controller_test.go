package controller_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
)

func noneSpec(url string) v1alpha1.AIAgentConfigSpec {
	return v1alpha1.AIAgentConfigSpec{DisplayName: "T", MCPURL: url, AuthenticationType: v1alpha1.AuthNone}
}

// touch changes the agent's description so the controller checks it again.
func touch(t *testing.T, name, desc string) {
	t.Helper()
	obj := getAgent(t, name)
	orig := obj.DeepCopy()
	obj.Spec.Description = desc
	if err := env.Client.Patch(t.Context(), obj, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
}

func TestStatusFollowsMCPServer(t *testing.T) {
	r := start(t, time.Hour)
	srv := newMCPServer(t)
	createAgent(t, "status-agent", noneSpec(srv.URL))

	obj := waitStatus(t, "status-agent", v1alpha1.PhaseReady, controller.MessageReady)
	c := readyCondition(obj)
	if c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonConfigurationSucceeded || c.ObservedGeneration != obj.Generation {
		t.Fatalf("Ready condition = %+v", c)
	}
	if len(obj.Status.Conditions) != 1 {
		t.Fatalf("want exactly one condition, got %+v", obj.Status.Conditions)
	}

	srv.status.Store(http.StatusInternalServerError)
	touch(t, "status-agent", "now broken")
	kubetest.Eventually(t, 20*time.Second, "Failed", func() bool { return getAgent(t, "status-agent").Status.Phase == v1alpha1.PhaseFailed })
	c = readyCondition(getAgent(t, "status-agent"))
	if c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonConfigurationFailed || !strings.HasPrefix(c.Message, "Failed to load MCP tools: ") {
		t.Fatalf("Failed condition = %+v", c)
	}
	if r.rec.count(r.rec.registered, "status-agent") != 0 {
		t.Fatal("a NONE agent must not be registered with OAuth")
	}
}

func TestOAuth2UnauthorizedIsReadyAndRegistered(t *testing.T) {
	r := start(t, time.Hour)
	srv := newMCPServer(t)
	srv.status.Store(http.StatusUnauthorized)
	createSecret(t, "oauth-secret", map[string]string{"metadataEndpoint": srv.URL + "/.well-known/oauth-authorization-server"})
	createAgent(t, "oauth-agent", v1alpha1.AIAgentConfigSpec{
		DisplayName: "O", MCPURL: srv.URL, AuthenticationType: v1alpha1.AuthOAuth2, AuthenticationSecret: "oauth-secret",
	})
	waitStatus(t, "oauth-agent", v1alpha1.PhaseReady, controller.MessageNeedsOAuth)
	kubetest.Eventually(t, 5*time.Second, "OAuth registration", func() bool { return r.rec.count(r.rec.registered, "oauth-agent") > 0 })

	// A non-OAuth agent answered 401 is a failure.
	createAgent(t, "none-401", noneSpec(srv.URL))
	obj := waitStatus(t, "none-401", v1alpha1.PhaseFailed, readyCondition(getAgentEventually(t, "none-401")).Message)
	if !strings.Contains(readyCondition(obj).Message, "Unauthorized") {
		t.Fatalf("message = %q", readyCondition(obj).Message)
	}
}

// getAgentEventually waits until the agent has a Ready condition.
func getAgentEventually(t *testing.T, name string) *v1alpha1.AIAgentConfig {
	var obj *v1alpha1.AIAgentConfig
	kubetest.Eventually(t, 20*time.Second, name+" has a status", func() bool {
		obj = getAgent(t, name)
		return readyCondition(obj) != nil
	})
	return obj
}

func TestUnreachableBacksOff(t *testing.T) {
	r := start(t, time.Hour)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/mcp"
	_ = ln.Close() // nothing listens: connection refused
	createAgent(t, "down-agent", noneSpec(url))
	obj := getAgentEventually(t, "down-agent")
	if c := readyCondition(obj); obj.Status.Phase != "" || c.Status != metav1.ConditionUnknown || c.Reason != controller.ReasonUnreachable {
		t.Fatalf("status = %q %+v, want Ready=Unknown while retrying", obj.Status.Phase, c)
	}
	rv := obj.ResourceVersion
	// The window is what is measured: how many checks a backoff makes in
	// 6s. The requeue delays run on controller-runtime's workqueue, whose
	// clock the controller does not take as an option, so the window is
	// wall-clock time (not a stand-in for an event that could be awaited).
	time.Sleep(6 * time.Second)
	// 1 s doubling: checks at about 0, 1, 3 and 7 s.
	if n := r.rec.count(r.rec.probes, "down-agent"); n < 2 || n > 4 {
		t.Fatalf("%d checks in 6s, want 2..4 (exponential backoff from 1s)", n)
	}
	if got := getAgent(t, "down-agent").ResourceVersion; got != rv {
		t.Fatalf("status rewritten without a change: resourceVersion %s -> %s", rv, got)
	}
}

func TestQuietAtRest(t *testing.T) {
	r := start(t, 500*time.Millisecond)
	srv := newMCPServer(t)
	createAgent(t, "quiet-agent", noneSpec(srv.URL))
	obj := waitStatus(t, "quiet-agent", v1alpha1.PhaseReady, controller.MessageReady)
	settled(t) // the built-ins too
	before, probes := r.calls.Load(), r.rec.count(r.rec.probes, "quiet-agent")
	const rest = 5 * time.Second
	// The window is what is measured: API calls and checks at rest over 5s
	// of the workqueue's wall clock (see TestUnreachableBacksOff).
	time.Sleep(rest)
	calls := r.calls.Load() - before
	if n := r.rec.count(r.rec.probes, "quiet-agent") - probes; n < 3 {
		t.Fatalf("only %d periodic checks in %s with a 500ms interval", n, rest)
	}
	if got := getAgent(t, "quiet-agent").ResourceVersion; got != obj.ResourceVersion {
		t.Fatalf("status rewritten at rest: resourceVersion %s -> %s", obj.ResourceVersion, got)
	}
	t.Logf("API calls at rest: %d in %s (%.1f/min), with checks every %s", calls, rest, float64(calls)*float64(time.Minute)/float64(rest), r.interval)
	if calls > 2 {
		t.Fatalf("%d API calls at rest in %s", calls, rest)
	}
}
