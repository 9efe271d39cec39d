package leakcheck

import (
	"testing"

	"go.uber.org/goleak"
)

// ignored are goroutines that outlive a test binary through no fault of the
// code under test.
var ignored = []goleak.Option{
	// Started by an init of go.opencensus.io (pulled in by the genai SDK).
	goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	// The server half of a test's go-sdk MCP server: its streamable
	// sessions live in the handler until the process ends.
	goleak.IgnoreTopFunction("github.com/modelcontextprotocol/go-sdk/mcp.(*streamableServerConn).Read"),
}

// Main runs the tests and fails the binary when a goroutine is left over.
func Main(m *testing.M) { goleak.VerifyTestMain(m, ignored...) }
