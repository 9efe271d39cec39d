package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is ai.cattle.io/v1alpha1. It is a function, not the usual
// package variable, so that no caller can change it for everyone else.
func GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: Group, Version: Version}
}

// Resource is the plural resource name of AIAgentConfig.
const Resource = "aiagentconfigs"

// AddToScheme registers AIAgentConfig and AIAgentConfigList in s. It is a
// plain function rather than kubebuilder's package-level SchemeBuilder, which
// would be mutable global state filled in by init.
func AddToScheme(s *runtime.Scheme) error {
	gv := GroupVersion()
	s.AddKnownTypes(gv, &AIAgentConfig{}, &AIAgentConfigList{})
	metav1.AddToGroupVersion(s, gv)
	return nil
}
