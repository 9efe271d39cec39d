package mcp

// This file is the contract between the agent loop and this package. The
// agent package depends only on what is declared here.

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Credentials decides the authentication of every HTTP request that one
// (agent, user) pair sends to the agent's MCP server. NONE, RANCHER, BASIC and
// HEADER are implemented here (see FixedHeaderCredentials); OAUTH2 is implemented
// by package oauth, which only has to satisfy this interface.
type Credentials interface {
	// CacheKey identifies the credential for session and tool-list caching.
	// It must change when the credential changes and must not reveal it
	// (hash secrets).
	CacheKey() string
	// Authorize adds the authentication headers to an outgoing request.
	Authorize(req *http.Request) error
}

// ChallengeAnswerer is implemented by Credentials that can answer some
// refusals by themselves, without the user: a DPoP server nonce (RFC 9449
// §9, "use_dpop_nonce"). Answer is given the MCP server's 401 response; when
// it reports true the request is authorized again and sent once more.
type ChallengeAnswerer interface {
	Answer(resp *http.Response) bool
}

// Tool is an MCP tool as offered to the model (after toolSet filtering and
// with *Plan tools removed).
type Tool struct {
	Name        string
	Description string
	InputSchema json.RawMessage
	// ReadOnlyHint and DestructiveHint are the tool's annotations
	// (ToolAnnotations in the MCP schema): hints the server gives, not
	// guarantees. ReadOnlyHint is false when the server said nothing;
	// DestructiveHint is true only when the server said so explicitly.
	ReadOnlyHint    bool
	DestructiveHint bool
}

// Result is the outcome of a tools/call.
type Result struct {
	// ForModel is what the model sees: the `llm` field of a JSON result when
	// there is one, else the text content.
	ForModel string
	// UIContext is the `uiContext` field of a JSON result (an object or an
	// array), sent to the browser as <mcp-response>; nil when absent.
	UIContext json.RawMessage
	// DocLinks are the `docLinks` of a JSON result, sent as <mcp-doclink>.
	DocLinks []string
	// Raw is the full text content.
	Raw string
	// IsError is the tool's own isError flag.
	IsError bool
}

// ErrUnauthorized is matched (errors.Is) by errors caused by an HTTP 401 from
// the MCP server; ErrForbidden by an HTTP 403. Use errors.As with
// *HTTPStatusError to read the WWW-Authenticate challenge.
var (
	ErrUnauthorized = errors.New("mcp server: unauthorized")
	ErrForbidden    = errors.New("mcp server: forbidden")
)

// HTTPStatusError reports an authentication failure status from the MCP server.
type HTTPStatusError struct {
	StatusCode      int
	WWWAuthenticate []string
}

func (e *HTTPStatusError) Error() string {
	return "mcp server answered HTTP " + http.StatusText(e.StatusCode)
}

// Is makes errors.Is(err, ErrUnauthorized/ErrForbidden) work.
func (e *HTTPStatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}
