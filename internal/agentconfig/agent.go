package agentconfig

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// Namespace is where AIAgentConfig objects and their Secrets live.
const Namespace = "cattle-ai-agent-system"

// Agent is one configured agent with its referenced Secret data resolved.
type Agent struct {
	// Name is metadata.name; it is the agent's identity everywhere.
	Name string
	// Spec is the AIAgentConfig spec as configured.
	Spec v1alpha1.AIAgentConfigSpec
	// AuthSecret holds the data of Spec.AuthenticationSecret, nil when none.
	AuthSecret map[string][]byte
	// CABundle is the PEM of Spec.CABundleRef, nil when none.
	CABundle []byte
	// ConfigError is set when the agent is misconfigured (a missing or
	// malformed Secret, say). Such an agent shows as "error" with this text
	// and is never called; the others keep working.
	ConfigError string
	// Revision changes whenever anything above changes; caches of MCP
	// sessions and tool lists key on it so that an edit drops them.
	Revision string
}

// Source yields the enabled agents. Implementations are safe for concurrent use
// and cheap to call: a chat connection calls Agents on every connect.
type Source interface {
	Agents(ctx context.Context) ([]Agent, error)
}

// StaticSource is a Source with a fixed set of agents.
type StaticSource []Agent

// Agents returns the fixed set.
func (s StaticSource) Agents(context.Context) ([]Agent, error) { return []Agent(s), nil }

// ErrBadCABundle is matched when an agent's CA bundle holds no certificate.
var ErrBadCABundle = errors.New("CA bundle contains no valid PEM certificate")

// RootCAs is the trust pool of the agent's connections: the system pool
// plus the agent's CA bundle (added, never replacing the system pool). It
// is nil, meaning the system pool, when the agent has no CA bundle.
func (a Agent) RootCAs() (*x509.CertPool, error) {
	if len(a.CABundle) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(a.CABundle) {
		return nil, fmt.Errorf("agent %q: %w", a.Name, ErrBadCABundle)
	}
	return pool, nil
}
