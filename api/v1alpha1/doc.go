// Package v1alpha1 holds the Go types of the ai.cattle.io/v1alpha1 API group:
// the AIAgentConfig custom resource that describes one agent (a system prompt
// plus the tools of one MCP server and the way to authenticate to it).
//
// The CRD YAML is generated from these types by controller-gen; the
// kubebuilder markers below are the source of truth for its schema.
//
// +kubebuilder:object:generate=true
// +groupName=ai.cattle.io
package v1alpha1
