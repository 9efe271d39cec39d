//go:build !unix

package store_test

import "time"

// cpuTime is 0 where getrusage is not available: the cpu-ns/op metric is
// then left out.
func cpuTime() time.Duration { return 0 }
