package agentconfig

import "github.com/rancher/ai-agent/api/v1alpha1"

// SecretData looks up the data of a Secret in the agents' namespace by name;
// ok is false when there is no such Secret.
type SecretData func(name string) (data map[string][]byte, ok bool)

// Resolve builds the Agent of one AIAgentConfig exactly as a file source
// does: it applies the CRD defaults, attaches the referenced Secret data,
// records a missing Secret or CA key in ConfigError and computes Revision.
// Other sources (the cluster informer cache) call it so that the same
// objects give identical Agent values whatever their origin.
func Resolve(name string, spec v1alpha1.AIAgentConfigSpec, secrets SecretData) Agent {
	spec = *spec.DeepCopy()
	if spec.DisplayName == "" { // written by the Python agent's older CRD
		spec.DisplayName = spec.LegacyName
	}
	if spec.AuthenticationType == "" {
		spec.AuthenticationType = v1alpha1.AuthNone
	}
	if spec.CABundleRef != nil && spec.CABundleRef.Key == "" {
		spec.CABundleRef.Key = defaultCAKey
	}
	refs := map[string]parsedSecret{}
	for _, n := range secretNames(spec) {
		if data, ok := secrets(n); ok {
			refs[n] = parsedSecret{data: data}
		}
	}
	return resolve(parsedConfig{name: name, spec: spec}, refs)
}

// ReferencedSecrets returns the names of the Secrets an agent spec refers to
// (authentication and CA bundle), so that a watcher can map a Secret change
// to the agents it affects.
func ReferencedSecrets(spec v1alpha1.AIAgentConfigSpec) []string { return secretNames(spec) }

func secretNames(spec v1alpha1.AIAgentConfigSpec) []string {
	var names []string
	if ref := spec.AuthenticationSecret; ref != "" {
		for i := len(ref) - 1; i >= 0; i-- { // the UI may write "namespace/name"
			if ref[i] == '/' {
				ref = ref[i+1:]
				break
			}
		}
		names = append(names, ref)
	}
	if spec.CABundleRef != nil && spec.CABundleRef.Name != "" {
		names = append(names, spec.CABundleRef.Name)
	}
	return names
}
