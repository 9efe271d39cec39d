package mcp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/outbound"
)

// EndpointURL is the effective MCP URL of an agent. For RANCHER auth a bare
// host gets "http://" when InsecureSkipTLS else "https://", an existing scheme
// is kept, and a non-empty RancherMCPURL overrides spec.mcpURL. Other auth
// types use spec.mcpURL as-is.
func (m *Manager) EndpointURL(a agentconfig.Agent) (string, error) {
	raw := strings.TrimSpace(a.Spec.MCPURL)
	if a.Spec.AuthenticationType == v1alpha1.AuthRancher {
		if m.opts.RancherMCPURL != "" {
			raw = strings.TrimSpace(m.opts.RancherMCPURL)
		}
		if raw != "" && !strings.Contains(raw, "://") {
			if m.opts.InsecureSkipTLS {
				raw = "http://" + raw
			} else {
				raw = "https://" + raw
			}
		}
	}
	if raw == "" {
		return "", fmt.Errorf("agent %q: no MCP URL configured", a.Name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("agent %q: invalid MCP URL: %w", a.Name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("agent %q: invalid MCP URL %q: want an http(s) URL with a host", a.Name, u.Redacted())
	}
	return raw, nil
}

// maxIdleConnsPerHost is how many idle connections to an MCP server the
// shared transport of an agent keeps: the sessions of every user of the
// agent share it, each concurrent tools/call holds one connection, and Go's
// default of 2 makes a busy agent dial for most calls.
const maxIdleConnsPerHost = 1024

// newTransport builds the HTTP transport of one agent revision, shared by
// all its sessions (each session's credential is applied per request by
// authTransport). HTTP/2 is used where the server offers it over TLS.
func newTransport(a agentconfig.Agent, insecure bool, n outbound.Network) (*http.Transport, error) {
	tr := n.Transport()
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConnsPerHost, maxIdleConnsPerHost
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		cfg.InsecureSkipVerify = true //nolint:gosec // explicitly requested with INSECURE_SKIP_TLS
	}
	pool, err := a.RootCAs()
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = pool
	tr.TLSClientConfig = cfg
	return tr, nil
}

// authTransport applies a credential to every request and turns 401/403
// answers into *HTTPStatusError. One exists per session.
type authTransport struct {
	base *http.Transport
	cred Credentials
	// lastAuth keeps the last auth failure, in case a layer above drops the
	// error chain.
	lastAuth atomic.Pointer[HTTPStatusError]
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.send(req, req.Body)
	if err != nil {
		return nil, err
	}
	if a, ok := t.cred.(ChallengeAnswerer); ok && resp.StatusCode == http.StatusUnauthorized && req.GetBody != nil && a.Answer(resp) {
		body, err := req.GetBody()
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("authorize MCP request: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp, err = t.send(req, body); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		herr := &HTTPStatusError{StatusCode: resp.StatusCode, WWWAuthenticate: resp.Header.Values("WWW-Authenticate")}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t.lastAuth.Store(herr)
		return nil, herr
	}
	return resp, nil
}

// send authorizes a copy of req with body and sends it.
func (t *authTransport) send(req *http.Request, body io.ReadCloser) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = body
	if err := t.cred.Authorize(r); err != nil {
		if body != nil {
			body.Close()
		}
		return nil, fmt.Errorf("authorize MCP request: %w", err)
	}
	return t.base.RoundTrip(r)
}

// authError returns err so that it matches *HTTPStatusError when the
// transport saw a 401/403, even if the SDK lost the error chain.
func (t *authTransport) authError(err error) error {
	last := t.lastAuth.Swap(nil)
	var herr *HTTPStatusError
	if err == nil || errors.As(err, &herr) || last == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", last, err)
}

// resetConnections closes the pooled idle connections, which a restarted or
// failing server may have left dead, before a retry.
func (t *authTransport) resetConnections() { t.base.CloseIdleConnections() }

func isAuthError(err error) bool {
	var herr *HTTPStatusError
	return errors.As(err, &herr)
}
