package controller

import (
	"errors"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// Status messages; the UI shows them to administrators.
const (
	MessageReady      = "AI Agent configuration successful"
	MessageNeedsOAuth = "Needs OAuth2 authentication"
	prefixFailed      = "Failed to load MCP tools: "
	prefixConfig      = "Invalid configuration: "
	prefixRetrying    = "MCP server not reachable yet, retrying with backoff: "
)

// ReasonUnreachable is the Ready condition's reason while the MCP server
// cannot be reached (condition Unknown, no phase): the controller retries
// with backoff and the agent becomes Ready by itself when the server
// answers (upstream rancher-ai-agent #205: a passing outage must not
// leave the agent Failed).
const ReasonUnreachable = "MCPServerUnreachable"

// verdict is the outcome of one check of an agent.
type verdict struct {
	ready     bool
	message   string
	transient bool // retry with backoff
}

// judge turns a probe result into a verdict, as the Python controller did:
// an OAUTH2 agent whose server answers 401 is ready (users sign in per chat).
func judge(a agentconfig.Agent, err error) verdict {
	switch {
	case err == nil:
		return verdict{ready: true, message: MessageReady}
	case a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 && errors.Is(err, mcp.ErrUnauthorized):
		return verdict{ready: true, message: MessageNeedsOAuth}
	case mcp.Unreachable(err):
		return verdict{message: prefixRetrying + err.Error(), transient: true}
	default:
		return verdict{message: prefixFailed + err.Error()}
	}
}

// apply writes the verdict into status and reports whether anything changed;
// lastTransitionTime moves only when the condition's status flips. A
// transient verdict is Ready=Unknown with no phase (Steve shows the agent
// as not ready, not as an error), never Failed.
func apply(st *v1alpha1.AIAgentConfigStatus, v verdict, generation int64) bool {
	phase, cond, reason := v1alpha1.PhaseFailed, metav1.ConditionFalse, v1alpha1.ReasonConfigurationFailed
	switch {
	case v.ready:
		phase, cond, reason = v1alpha1.PhaseReady, metav1.ConditionTrue, v1alpha1.ReasonConfigurationSucceeded
	case v.transient:
		phase, cond, reason = "", metav1.ConditionUnknown, ReasonUnreachable
	}
	changed := st.Phase != phase
	st.Phase = phase
	return apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: cond, Reason: reason,
		Message: v.message, ObservedGeneration: generation,
	}) || changed
}
