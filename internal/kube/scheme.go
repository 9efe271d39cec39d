package kube

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// NewScheme returns a new scheme with the built-in Kubernetes kinds and
// AIAgentConfig. A fresh scheme per caller avoids client-go's global one.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("kube scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("kube scheme: %w", err)
	}
	return s, nil
}

// CacheOptions restricts an informer cache to namespace: the agent's
// ServiceAccount may read Secrets there and nowhere else. Managed fields are
// dropped from cached objects since nothing reads them.
func CacheOptions(scheme *runtime.Scheme, namespace string) cache.Options {
	return cache.Options{
		Scheme:            scheme,
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:          {},
			&v1alpha1.AIAgentConfig{}: {},
		},
	}
}
