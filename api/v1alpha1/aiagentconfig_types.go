package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, version and kind of the AIAgentConfig resource.
const (
	Group   = "ai.cattle.io"
	Version = "v1alpha1"
	Kind    = "AIAgentConfig"
)

// APIVersion is the apiVersion string of AIAgentConfig objects.
const APIVersion = Group + "/" + Version

// AuthenticationType says how the agent authenticates to its MCP server.
// +kubebuilder:validation:Enum=NONE;RANCHER;BASIC;HEADER;OAUTH2
type AuthenticationType string

// The authentication types of an agent's MCP server.
const (
	AuthNone    AuthenticationType = "NONE"
	AuthRancher AuthenticationType = "RANCHER"
	AuthBasic   AuthenticationType = "BASIC"
	AuthHeader  AuthenticationType = "HEADER"
	AuthOAuth2  AuthenticationType = "OAUTH2"
)

// CABundleRef points at a PEM CA certificate in a Secret of the agent's
// namespace. The CA is trusted, in addition to the system pool, for this
// agent's MCP connection only.
type CABundleRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret that holds the PEM data.
	// +kubebuilder:default=ca.crt
	// +optional
	Key string `json:"key,omitempty"`
}

// AIAgentConfigSpec is the desired state of an agent.
type AIAgentConfigSpec struct {
	// DisplayName is the name shown in the UI.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	DisplayName string `json:"displayName"`
	// LegacyName is spec.name, the display name in the Python agent's older
	// CRD (which required it and had no displayName). It is in the schema so
	// that the API server keeps it on agents written by that agent; an empty
	// DisplayName falls back to it.
	// +optional
	LegacyName string `json:"name,omitempty"`
	// Description tells the supervisor when to route to this agent.
	// +optional
	Description string `json:"description,omitempty"`
	// SystemPrompt is the agent's system prompt.
	// +optional
	SystemPrompt string `json:"systemPrompt,omitempty"`
	// MCPURL is the MCP server's streamable HTTP endpoint. For RANCHER
	// authentication a bare host is allowed; the scheme is then added.
	// +optional
	MCPURL string `json:"mcpURL,omitempty"`
	// AuthenticationType selects how requests to the MCP server authenticate.
	// +kubebuilder:default=NONE
	// +optional
	AuthenticationType AuthenticationType `json:"authenticationType,omitempty"`
	// AuthenticationSecret names a Secret in the same namespace with the
	// credentials the authentication type needs.
	// +optional
	AuthenticationSecret string `json:"authenticationSecret,omitempty"`
	// CABundleRef adds a CA for this agent's MCP connection.
	// +optional
	CABundleRef *CABundleRef `json:"caBundleRef,omitempty"`
	// BuiltIn marks the agents that the ai-agent manages itself.
	// +optional
	BuiltIn bool `json:"builtIn,omitempty"`
	// Enabled says whether users can chat with the agent. Missing means enabled.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// HumanValidationTools lists the MCP tools that need the user's
	// confirmation before they run.
	// +optional
	HumanValidationTools ToolNames `json:"humanValidationTools,omitempty"`
	// ToolSet keeps only the MCP tools whose _meta.toolset equals it.
	// +optional
	ToolSet string `json:"toolSet,omitempty"`
	// LLMModel overrides the active provider's model for this agent when
	// LLMModelEnabled is true.
	// +optional
	// +nullable
	LLMModel *string `json:"llmModel,omitempty"`
	// LLMModelEnabled turns the LLMModel override on.
	// +optional
	LLMModelEnabled bool `json:"llmModelEnabled,omitempty"`
}

// IsEnabled reports whether the agent is enabled; a missing field counts as enabled.
func (s *AIAgentConfigSpec) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// Phase values of AIAgentConfigStatus. Steve lower-cases the phase into the
// object's state, and the UI offers an agent only when that state is "ready".
const (
	PhaseReady  = "Ready"
	PhaseFailed = "Failed"
)

// The Ready condition and its reasons, as the Python controller wrote them.
const (
	ConditionReady               = "Ready"
	ReasonConfigurationSucceeded = "ConfigurationSucceeded"
	ReasonConfigurationFailed    = "ConfigurationFailed"
)

// AIAgentConfigStatus is the observed state of an agent.
type AIAgentConfigStatus struct {
	// Phase is Ready or Failed.
	// +kubebuilder:validation:Enum=Ready;Failed
	// +optional
	Phase string `json:"phase,omitempty"`
	// Conditions holds one Ready condition.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// AIAgentConfig describes one agent of the Rancher AI assistant.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=aiac
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Auth",type=string,JSONPath=`.spec.authenticationType`,priority=1
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.spec.enabled`,priority=1
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AIAgentConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AIAgentConfigSpec   `json:"spec,omitempty"`
	Status AIAgentConfigStatus `json:"status,omitempty"`
}

// AIAgentConfigList is a list of AIAgentConfig.
// +kubebuilder:object:root=true
type AIAgentConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AIAgentConfig `json:"items"`
}
