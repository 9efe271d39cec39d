package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

// SecretIndex is the field index of AIAgentConfigs by the names of the
// Secrets they reference; register it with IndexSecretRefs before the cache
// starts.
const SecretIndex = "ai.cattle.io/secretRefs"

// ErrAgentNotFound is matched (errors.Is) when no AIAgentConfig has the name.
var ErrAgentNotFound = errors.New("agent not found")

// IndexSecretRefs registers SecretIndex, so that a Secret change finds the
// agents it affects without listing them all.
func IndexSecretRefs(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &v1alpha1.AIAgentConfig{}, SecretIndex, func(o client.Object) []string {
		return agentconfig.ReferencedSecrets(o.(*v1alpha1.AIAgentConfig).Spec)
	})
	if err != nil {
		return fmt.Errorf("index AIAgentConfig secrets: %w", err)
	}
	return nil
}

// Source is an agentconfig.Source over a cache reader. It is safe for concurrent
// use; every call reads the cache only.
type Source struct {
	reader    client.Reader
	namespace string
}

// NewSource returns a Source reading AIAgentConfigs and Secrets of
// namespace from r, which should be an informer cache.
func NewSource(r client.Reader, namespace string) *Source {
	return &Source{reader: r, namespace: namespace}
}

// Agents returns the enabled agents, sorted by name, with Secrets resolved.
func (s *Source) Agents(ctx context.Context) ([]agentconfig.Agent, error) {
	all, err := s.All(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(a agentconfig.Agent) bool { return !a.Spec.IsEnabled() }), nil
}

// All returns every agent, enabled or not, sorted by name.
func (s *Source) All(ctx context.Context) ([]agentconfig.Agent, error) {
	var list v1alpha1.AIAgentConfigList
	if err := s.reader.List(ctx, &list, client.InNamespace(s.namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	out := make([]agentconfig.Agent, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, s.resolve(ctx, &list.Items[i]))
	}
	slices.SortFunc(out, func(a, b agentconfig.Agent) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Agent returns the named agent, enabled or not; the error wraps
// ErrAgentNotFound when there is none.
func (s *Source) Agent(ctx context.Context, name string) (agentconfig.Agent, error) {
	var c v1alpha1.AIAgentConfig
	err := s.reader.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &c)
	if apierrors.IsNotFound(err) {
		return agentconfig.Agent{}, fmt.Errorf("agent %q: %w", name, ErrAgentNotFound)
	}
	if err != nil {
		return agentconfig.Agent{}, fmt.Errorf("get agent %q: %w", name, err)
	}
	return s.resolve(ctx, &c), nil
}

// Referencing returns the names of the agents that reference the Secret.
func (s *Source) Referencing(ctx context.Context, secret string) ([]string, error) {
	var list v1alpha1.AIAgentConfigList
	err := s.reader.List(ctx, &list, client.InNamespace(s.namespace),
		client.MatchingFields{SecretIndex: secret}, client.UnsafeDisableDeepCopy)
	if err != nil {
		return nil, fmt.Errorf("agents referencing secret %q: %w", secret, err)
	}
	names := make([]string, len(list.Items))
	for i := range list.Items {
		names[i] = list.Items[i].Name
	}
	return names, nil
}

// resolve turns an AIAgentConfig into an Agent exactly as the file source
// does. A Secret that cannot be read is a ConfigError of that agent only.
func (s *Source) resolve(ctx context.Context, c *v1alpha1.AIAgentConfig) agentconfig.Agent {
	return agentconfig.Resolve(c.Name, c.Spec, func(name string) (map[string][]byte, bool) {
		var sec corev1.Secret
		if err := s.reader.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &sec); err != nil {
			return nil, false
		}
		data := make(map[string][]byte, len(sec.Data)+len(sec.StringData))
		for k, v := range sec.Data {
			data[k] = v
		}
		for k, v := range sec.StringData {
			data[k] = []byte(v)
		}
		return data, true
	})
}
