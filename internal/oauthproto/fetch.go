package oauthproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rancher/ai-agent/internal/outbound"
)

// ProtocolVersion is sent as MCP-Protocol-Version on discovery requests.
const ProtocolVersion = "2025-11-25"

// errNotFound marks a metadata candidate that does not exist (any 4xx), so
// discovery moves on to the next candidate.
var errNotFound = errors.New("not found")

// classifyTransport wraps a client.Do error: policy refusals and cancellation
// pass through unchanged, anything else (DNS, connect, TLS, timeout) is
// additionally marked ErrTransient.
func classifyTransport(err error) error {
	switch {
	case errors.Is(err, outbound.ErrBlockedAddress), errors.Is(err, outbound.ErrCrossOriginRedirect),
		errors.Is(err, outbound.ErrBodyTooLarge), errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", ErrTransient, err)
}

// getMetadata GETs a metadata document. A 4xx answer yields errNotFound.
func getMetadata(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, classifyTransport(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		body, err := outbound.ReadBody(ctx, resp.Body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		return body, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		io.Copy(io.Discard, resp.Body)
		return nil, errNotFound
	default:
		io.Copy(io.Discard, resp.Body)
		return nil, &HTTPError{URL: u, StatusCode: resp.StatusCode}
	}
}

// probeChallenge sends an unauthenticated MCP initialize request (falling back
// to GET when POST is not allowed) and returns the WWW-Authenticate values of
// a 401 answer, or nil.
func probeChallenge(ctx context.Context, hc *http.Client, mcpURL string) ([]string, error) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + ProtocolVersion +
		`","capabilities":{},"clientInfo":{"name":"rancher-ai-agent","version":"1.0.0"}}}`)
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var rd io.Reader
		if method == http.MethodPost {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, mcpURL, rd)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
		}
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("probe %s: %w", mcpURL, classifyTransport(err))
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return resp.Header.Values("WWW-Authenticate"), nil
		}
		if resp.StatusCode != http.StatusMethodNotAllowed {
			return nil, nil
		}
	}
	return nil, nil
}
