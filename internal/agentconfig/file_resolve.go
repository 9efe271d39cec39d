package agentconfig

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// defaultCAKey is the caBundleRef key used when none is given.
const defaultCAKey = "ca.crt"

type parsedConfig struct {
	name string
	spec v1alpha1.AIAgentConfigSpec
}

type parsedSecret struct {
	data map[string][]byte
}

// decodeConfig decodes and validates an AIAgentConfig, applying the CRD defaults.
func decodeConfig(o object) (parsedConfig, error) {
	var top struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       json.RawMessage `json:"spec"`
		Status     json.RawMessage `json:"status"`
	}
	if err := strictDecode(o.raw, &top, v1alpha1.Kind); err != nil {
		return parsedConfig{}, err
	}
	c := parsedConfig{name: o.Metadata.Name}
	if len(top.Spec) == 0 || string(top.Spec) == "null" {
		return c, errors.New("spec is required")
	}
	if err := strictDecode(top.Spec, &c.spec, "spec"); err != nil {
		return c, err
	}
	s := &c.spec
	if strings.TrimSpace(s.DisplayName) == "" {
		return c, errors.New("spec.displayName is required")
	}
	switch s.AuthenticationType {
	case "":
		s.AuthenticationType = v1alpha1.AuthNone
	case v1alpha1.AuthNone, v1alpha1.AuthRancher, v1alpha1.AuthBasic, v1alpha1.AuthHeader, v1alpha1.AuthOAuth2:
	default:
		return c, fmt.Errorf("spec.authenticationType: %q is not one of NONE, RANCHER, BASIC, HEADER, OAUTH2", s.AuthenticationType)
	}
	for i, t := range s.AutoApproveTools {
		if strings.TrimSpace(t) == "" {
			return c, fmt.Errorf("spec.autoApproveTools[%d]: a tool name is required", i)
		}
	}
	if s.CABundleRef != nil {
		if s.CABundleRef.Name == "" {
			return c, errors.New("spec.caBundleRef.name is required")
		}
		if s.CABundleRef.Key == "" {
			s.CABundleRef.Key = defaultCAKey
		}
	}
	return c, nil
}

// decodeSecret decodes a v1 Secret; stringData wins over data, as in Kubernetes.
func decodeSecret(o object) (parsedSecret, error) {
	var sec struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   json.RawMessage   `json:"metadata"`
		Type       string            `json:"type"`
		Immutable  *bool             `json:"immutable"`
		Data       map[string]string `json:"data"`
		StringData map[string]string `json:"stringData"`
	}
	if err := strictDecode(o.raw, &sec, "Secret"); err != nil {
		return parsedSecret{}, err
	}
	s := parsedSecret{data: map[string][]byte{}}
	for _, k := range sortedKeys(sec.Data) {
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sec.Data[k]))
		if err != nil {
			return s, fmt.Errorf("data.%s: invalid base64: %w", k, err)
		}
		s.data[k] = v
	}
	for k, v := range sec.StringData {
		s.data[k] = []byte(v)
	}
	return s, nil
}

// resolve attaches the referenced Secret data to c.
func resolve(c parsedConfig, secrets map[string]parsedSecret) Agent {
	a := Agent{Name: c.name, Spec: c.spec}
	var problems []string
	if ref := a.Spec.AuthenticationSecret; ref != "" {
		name := ref[strings.LastIndex(ref, "/")+1:]
		if s, ok := secrets[name]; ok {
			a.AuthSecret = s.data
		} else {
			problems = append(problems, fmt.Sprintf("secret %q not found", name))
		}
	} else if needsSecret(a.Spec.AuthenticationType) {
		problems = append(problems, fmt.Sprintf("authenticationType %s needs spec.authenticationSecret", a.Spec.AuthenticationType))
	}
	if ref := a.Spec.CABundleRef; ref != nil {
		if s, ok := secrets[ref.Name]; !ok {
			problems = append(problems, fmt.Sprintf("secret %q not found", ref.Name))
		} else if ca, ok := s.data[ref.Key]; !ok || len(ca) == 0 {
			problems = append(problems, fmt.Sprintf("secret %q has no key %q", ref.Name, ref.Key))
		} else {
			a.CABundle = ca
		}
	}
	a.ConfigError = strings.Join(problems, "; ")
	a.Revision = revision(a)
	return a
}

func needsSecret(t v1alpha1.AuthenticationType) bool {
	return t == v1alpha1.AuthBasic || t == v1alpha1.AuthHeader || t == v1alpha1.AuthOAuth2
}

// revision hashes everything that defines the agent's behaviour.
func revision(a Agent) string {
	h := sha256.New()
	field := func(b []byte) {
		_ = binary.Write(h, binary.BigEndian, uint64(len(b)))
		h.Write(b)
	}
	spec, _ := json.Marshal(a.Spec) // a plain struct: cannot fail
	field([]byte(a.Name))
	field(spec)
	for _, k := range sortedKeys(a.AuthSecret) {
		field([]byte(k))
		field(a.AuthSecret[k])
	}
	field(a.CABundle)
	field([]byte(a.ConfigError))
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
