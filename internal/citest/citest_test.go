package citest

import (
	"fmt"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "TRUE": true, "false": false, "0": false, "yes": false} {
		t.Setenv("CI", v)
		if got := Required(); got != want {
			t.Errorf("CI=%q: Required() = %v, want %v", v, got, want)
		}
	}
}

// recorder is a testing.TB whose Fatalf and Skipf only record.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestSkipOrFail(t *testing.T) {
	for _, c := range []struct {
		ci   string
		fail bool
	}{{"", false}, {"false", false}, {"true", true}} {
		t.Setenv("CI", c.ci)
		r := &recorder{TB: t}
		SkipOrFail(r, "no %s here", "chromium")
		got := r.skip
		if c.fail {
			got = r.fatal
		}
		if (r.fatal != "") != c.fail || (r.skip != "") == c.fail || !strings.Contains(got, "no chromium here") {
			t.Errorf("CI=%q: fatal %q, skip %q", c.ci, r.fatal, r.skip)
		}
	}
}
