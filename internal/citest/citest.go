package citest

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Required reports whether CI is set to a true value (strconv.ParseBool:
// 1, t, true, TRUE, ...): then every suite must run.
func Required() bool {
	ok, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ok
}

// SkipOrFail ends t because something it needs is missing: a skip on a
// developer's machine, a failure under CI. why says what is missing and
// how to install it.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (required under CI=true)", why)
		return
	}
	t.Skipf("SKIPPED: %s (CI=true makes this a failure)", why)
}
