package kubetest

import (
	"testing"
	"time"
)

// Eventually waits until cond holds, checking it every 50ms for up to d,
// and fails tb with what otherwise. It is for a state that the API server
// or an informer cache reaches on its own time, where the test has no
// event to wait on; never for "enough time has passed".
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			tb.Fatalf("timed out after %s waiting for %s", d, what)
			return
		case <-tick.C:
		}
	}
}
