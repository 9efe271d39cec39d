package controller_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/mcp"
)

// chatTools does what a chat does on connect: read the agent from the
// source and list its tools with the agent's static credentials.
func chatTools(t *testing.T, r *running, name string) error {
	t.Helper()
	list, err := r.src.Agents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(a agentconfig.Agent) bool { return a.Name == name })
	if i < 0 {
		t.Fatalf("agent %q not in source", name)
	}
	cred, err := mcp.FixedHeaderCredentials(list[i], mcp.RancherIdentity{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.tools.Tools(t.Context(), list[i], cred)
	return err
}

func TestSecretEditReachesNextChat(t *testing.T) {
	r := start(t, time.Hour)
	srv := newMCPServer(t)
	srv.require("X-Api-Key", "one")
	createSecret(t, "header-secret", map[string]string{"X-Api-Key": "one"})
	createAgent(t, "header-agent", v1alpha1.AIAgentConfigSpec{
		DisplayName: "H", MCPURL: srv.URL, AuthenticationType: v1alpha1.AuthHeader, AuthenticationSecret: "header-secret",
	})
	waitStatus(t, "header-agent", v1alpha1.PhaseReady, controller.MessageReady)
	kubetest.Eventually(t, 5*time.Second, "agent in source", func() bool {
		list, _ := r.src.Agents(t.Context())
		return slices.ContainsFunc(list, func(a agentconfig.Agent) bool { return a.Name == "header-agent" })
	})
	if err := chatTools(t, r, "header-agent"); err != nil {
		t.Fatal(err)
	}

	// The server now wants "two"; the Secret still says "one": status fails.
	srv.require("X-Api-Key", "two")
	var sec corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "header-secret"}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"X-Api-Key": []byte("two")}
	if err := env.Client.Update(t.Context(), &sec); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 10*time.Second, "change notification", func() bool {
		for {
			select {
			case n := <-r.changed:
				if n == "header-agent" {
					return true
				}
			default:
				return false
			}
		}
	})
	if err := chatTools(t, r, "header-agent"); err != nil {
		t.Fatalf("next chat after the Secret edit: %v", err)
	}
	if got := srv.lastSeen(); got != "two" {
		t.Fatalf("next chat sent X-Api-Key %q, want two", got)
	}
	// The controller also re-checked with the new Secret (still Ready, new probe).
	waitStatus(t, "header-agent", v1alpha1.PhaseReady, controller.MessageReady)
}

func TestMissingSecretIsConfigError(t *testing.T) {
	start(t, time.Hour)
	createAgent(t, "basic-agent", v1alpha1.AIAgentConfigSpec{
		DisplayName: "B", MCPURL: "http://127.0.0.1:1/mcp", AuthenticationType: v1alpha1.AuthBasic, AuthenticationSecret: "nope",
	})
	obj := getAgentEventually(t, "basic-agent")
	if m := readyCondition(obj).Message; obj.Status.Phase != v1alpha1.PhaseFailed || !strings.Contains(m, `secret "nope" not found`) {
		t.Fatalf("phase %q message %q", obj.Status.Phase, m)
	}
	// Creating the Secret re-checks the agent (it now reaches the server's refusal).
	createSecret(t, "nope", map[string]string{"username": "u", "password": "p"})
	kubetest.Eventually(t, 20*time.Second, "re-check after Secret creation", func() bool {
		return !strings.Contains(readyCondition(getAgent(t, "basic-agent")).Message, "not found")
	})
}

func TestDeletedAgentDisappears(t *testing.T) {
	r := start(t, time.Hour)
	srv := newMCPServer(t)
	createAgent(t, "doomed", noneSpec(srv.URL))
	waitStatus(t, "doomed", v1alpha1.PhaseReady, controller.MessageReady)
	if err := env.Client.Delete(t.Context(), getAgent(t, "doomed")); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 10*time.Second, "doomed gone from the source", func() bool {
		list, err := r.src.Agents(t.Context())
		return err == nil && !slices.ContainsFunc(list, func(a agentconfig.Agent) bool { return a.Name == "doomed" })
	})
	kubetest.Eventually(t, 10*time.Second, "doomed forgotten", func() bool { return r.rec.count(r.rec.forgot, "doomed") > 0 })
}

func TestDisabledAgentHidden(t *testing.T) {
	r := start(t, time.Hour)
	off := false
	spec := noneSpec("http://127.0.0.1:1/mcp")
	spec.Enabled = &off
	createAgent(t, "disabled-agent", spec)
	getAgentEventually(t, "disabled-agent") // cached and checked
	list, err := r.src.Agents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(list, func(a agentconfig.Agent) bool { return a.Name == "disabled-agent" }) {
		t.Fatal("a disabled agent is offered to chats")
	}
	if _, err := r.src.Agent(t.Context(), "disabled-agent"); err != nil {
		t.Fatalf("Agent(disabled) = %v", err)
	}
}

// TestSourceLatencyWith20Agents measures what a chat connect pays to get
// its agents: a read of 20 agents and their Secrets from the cache.
func TestSourceLatencyWith20Agents(t *testing.T) {
	r := start(t, time.Hour)
	createSecret(t, "bench-secret", map[string]string{"X-Api-Key": "k"})
	for i := range 20 {
		createAgent(t, fmt.Sprintf("bench-%02d", i), v1alpha1.AIAgentConfigSpec{DisplayName: "B", MCPURL: "http://127.0.0.1:1/mcp",
			AuthenticationType: v1alpha1.AuthHeader, AuthenticationSecret: "bench-secret"})
	}
	count := func() int {
		list, _ := r.src.Agents(t.Context())
		return len(slices.DeleteFunc(list, func(a agentconfig.Agent) bool { return !strings.HasPrefix(a.Name, "bench-") }))
	}
	kubetest.Eventually(t, 10*time.Second, "20 agents cached", func() bool { return count() == 20 })
	settled(t) // no status write of the controller's lands in the measurement
	before := r.calls.Load()
	const n = 200
	start := time.Now()
	for range n {
		if _, err := r.src.Agents(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	per := time.Since(start) / n
	t.Logf("Source.Agents with 20+ agents: %s per call (race detector on: %v)", per, raceEnabled)
	if calls := r.calls.Load() - before; calls > 2 {
		t.Fatalf("reading agents made %d API calls; it must read the cache", calls)
	}
}

// TestSourceMatchesFileSource: the same objects give identical Agent values
// (including Revision) from the cluster and from a file.
func TestSourceMatchesFileSource(t *testing.T) {
	r := start(t, time.Hour)
	createSecret(t, "eq-ca", map[string]string{"ca.crt": "PEM"})
	createSecret(t, "eq-auth", map[string]string{"username": "u", "password": "p"})
	createAgent(t, "eq-agent", v1alpha1.AIAgentConfigSpec{DisplayName: "E", MCPURL: "http://127.0.0.1:1/mcp",
		AuthenticationType: v1alpha1.AuthBasic, AuthenticationSecret: agentconfig.Namespace + "/eq-auth",
		CABundleRef: &v1alpha1.CABundleRef{Name: "eq-ca"}, ToolSet: "x"})
	file, err := agentconfig.ParseConfig(strings.NewReader(`
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: eq-agent}
spec: {displayName: E, mcpURL: "http://127.0.0.1:1/mcp", authenticationType: BASIC, authenticationSecret: `+agentconfig.Namespace+`/eq-auth, caBundleRef: {name: eq-ca}, toolSet: x}
---
apiVersion: v1
kind: Secret
metadata: {name: eq-ca}
stringData: {ca.crt: PEM}
---
apiVersion: v1
kind: Secret
metadata: {name: eq-auth}
stringData: {username: u, password: p}
`), "test")
	if err != nil || len(file) != 1 {
		t.Fatalf("ParseConfig = %v, %v", file, err)
	}
	var got agentconfig.Agent
	kubetest.Eventually(t, 10*time.Second, "eq-agent cached", func() bool {
		got, err = r.src.Agent(t.Context(), "eq-agent")
		return err == nil
	})
	if !reflect.DeepEqual(got, file[0]) {
		t.Fatalf("cluster agent differs from file agent:\n%+v\n%+v", got, file[0])
	}
	if _, err := r.src.Agent(t.Context(), "no-such"); !errors.Is(err, kube.ErrAgentNotFound) {
		t.Fatalf("Agent(no-such) = %v", err)
	}
}
