package mcp

import (
	"context"
	"encoding/json"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// caller runs tools/call on one open session. There are two: leanSession
// (call.go), the package's own request on the session's *http.Client, and
// sdkCaller, go-sdk's CallTool, for the sessions the lean call does not
// serve. Manager.Call is the one place that calls either; the errors it
// classifies (retryable, protocol, auth) are the same from both.
type caller interface {
	call(ctx context.Context, m *Manager, name string, args json.RawMessage) (Result, error)
}

// sdkCaller calls through go-sdk's ClientSession.CallTool.
type sdkCaller struct{ cs *sdk.ClientSession }

func (c sdkCaller) call(ctx context.Context, _ *Manager, name string, args json.RawMessage) (Result, error) {
	var arguments any = args
	if len(args) == 0 {
		arguments = map[string]any{}
	}
	res, err := c.cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: arguments})
	if err != nil {
		return Result{}, err
	}
	return parseResult(res), nil
}

// newCaller returns the caller of a new session: the lean call, or go-sdk's
// when the session needs it (newLeanSession says when) or the Manager was
// told to (viaSDK, which the tests use to run every case through both).
func newCaller(m *Manager, endpoint string, hc *http.Client, cs *sdk.ClientSession) caller {
	if !m.viaSDK {
		if s := newLeanSession(m, endpoint, hc, cs); s != nil {
			return s
		}
	}
	return sdkCaller{cs: cs}
}
