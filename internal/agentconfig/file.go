package agentconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/rancher/ai-agent/api/v1alpha1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// FileSource is a Source read from a YAML file of AIAgentConfig and Secret
// objects. It is safe for concurrent use.
type FileSource struct {
	path string

	mu     sync.RWMutex
	agents []Agent
}

// LoadFile reads and parses path (see ParseConfig).
func LoadFile(path string) (*FileSource, error) {
	s := &FileSource{path: path}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the file the source reads.
func (s *FileSource) Path() string { return s.path }

// Agents returns the enabled agents of the last good read. The caller must
// not modify the Secret data it references.
func (s *FileSource) Agents(ctx context.Context) ([]Agent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("file agents: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Agent(nil), s.agents...), nil
}

// Reload re-reads the file. On error the previous set is kept.
func (s *FileSource) Reload() error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("agents file: %w", err)
	}
	defer func() { _ = f.Close() }()
	agents, err := ParseConfig(f, s.path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.agents = agents
	s.mu.Unlock()
	return nil
}

// ParseConfig parses a multi-document YAML stream ("---" separated, as
// kubectl apply takes) of ai.cattle.io/v1alpha1 AIAgentConfig and v1 Secret
// objects in namespace cattle-ai-agent-system (or none). It returns the
// enabled agents in file order with their Secrets resolved. name prefixes
// error messages, which also give the 1-based document number and the field.
// A missing referenced Secret or CA key is not an error: that agent gets a
// ConfigError.
func ParseConfig(r io.Reader, name string) ([]Agent, error) {
	p, err := ParseAll(r, name)
	if err != nil {
		return nil, err
	}
	if len(p.Errors) > 0 {
		return nil, errors.Join(p.Errors...)
	}
	var out []Agent
	for _, a := range p.Agents {
		if a.Spec.IsEnabled() {
			out = append(out, a)
		}
	}
	return out, nil
}

// Parsed is everything a YAML stream says, for checking it (ai-agent
// validate): the documents that decode, and an error for each that does not.
type Parsed struct {
	// Agents are the AIAgentConfigs that decoded, enabled or not, in file
	// order, resolved as ParseConfig resolves them.
	Agents []Agent
	// Secrets are the data of the Secrets that decoded, by name.
	Secrets map[string]map[string][]byte
	// Errors has one entry per document that did not decode, worded as
	// ParseConfig words them (file, document number, kind and name, field).
	Errors []error
}

// ParseAll parses like ParseConfig but keeps going past bad documents; its
// error is only a failure to read r.
func ParseAll(r io.Reader, name string) (Parsed, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Parsed{}, fmt.Errorf("%s: %w", name, err)
	}
	var (
		errs    []error
		configs []parsedConfig
		secrets = map[string]parsedSecret{}
		firstAt = map[string]int{}
	)
	n := 0
	for _, doc := range splitDocuments(raw) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", name, n+1, err))
			n++
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue // empty or comment-only document
		}
		n++
		obj, err := decodeObject(js)
		label := obj.label()
		if err == nil {
			key := obj.Kind + "/" + obj.Metadata.Name
			if at, dup := firstAt[key]; dup {
				err = fmt.Errorf("duplicate name, first defined in document %d", at)
			} else {
				firstAt[key] = n
			}
		}
		if err == nil {
			switch obj.Kind {
			case v1alpha1.Kind:
				var c parsedConfig
				if c, err = decodeConfig(obj); err == nil {
					configs = append(configs, c)
				}
			case "Secret":
				var s parsedSecret
				if s, err = decodeSecret(obj); err == nil {
					secrets[obj.Metadata.Name] = s
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d%s: %w", name, n, label, err))
		}
	}
	p := Parsed{Secrets: map[string]map[string][]byte{}, Errors: errs}
	for k, s := range secrets {
		p.Secrets[k] = s.data
	}
	for _, c := range configs {
		p.Agents = append(p.Agents, resolve(c, secrets))
	}
	return p, nil
}

// splitDocuments splits a YAML stream at "---" lines.
func splitDocuments(raw []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for line := range bytes.Lines(raw) {
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

// object is the envelope every document shares.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	raw []byte
}

func (o object) label() string {
	if o.Kind == "" {
		return ""
	}
	if o.Metadata.Name == "" {
		return " (" + o.Kind + ")"
	}
	return fmt.Sprintf(" (%s %q)", o.Kind, o.Metadata.Name)
}

func decodeObject(js []byte) (object, error) {
	var o object
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &o); err != nil {
		return o, fieldError("", err)
	}
	o.raw = js
	switch {
	case o.Kind == "":
		return o, errors.New("kind is required")
	case o.Kind != v1alpha1.Kind && o.Kind != "Secret":
		return o, fmt.Errorf("kind: %q is not one of %s, Secret", o.Kind, v1alpha1.Kind)
	case o.Kind == v1alpha1.Kind && o.APIVersion != v1alpha1.APIVersion:
		return o, fmt.Errorf("apiVersion: %q is not %s", o.APIVersion, v1alpha1.APIVersion)
	case o.Kind == "Secret" && o.APIVersion != "v1":
		return o, fmt.Errorf("apiVersion: %q is not v1", o.APIVersion)
	case o.Metadata.Name == "":
		return o, errors.New("metadata.name is required")
	case o.Metadata.Namespace != "" && o.Metadata.Namespace != Namespace:
		return o, fmt.Errorf("metadata.namespace: %q is not %s", o.Metadata.Namespace, Namespace)
	}
	return o, nil
}

// strictDecode decodes js into v case-sensitively, rejecting unknown and
// duplicate fields; errors name the field under prefix.
func strictDecode(js []byte, v any, prefix string) error {
	strict, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return fieldError(prefix, err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s: %s", prefix, strings.Join(msgs, ", "))
	}
	return nil
}

// fieldError words a decoding error with the path of the offending field.
func fieldError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	path := strings.TrimPrefix(prefix+"."+te.Field, ".")
	if te.Field == "" {
		path = prefix
	}
	hint := ""
	if te.Value == "bool" || te.Value == "number" {
		hint = " (quote the value: YAML reads yes/no/on/off/y/n as booleans)"
	}
	return fmt.Errorf("%s: cannot use a JSON %s as %s%s", path, te.Value, te.Type, hint)
}
