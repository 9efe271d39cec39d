package leakcheck

import (
	"fmt"
	"os"
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

// Exit ends a TestMain that sets up and tears down around m.Run: called
// with m.Run's code after the tear-down, it fails the binary when a
// goroutine is left over, then exits.
func Exit(code int) {
	if code == 0 {
		if err := goleak.Find(ignored...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
