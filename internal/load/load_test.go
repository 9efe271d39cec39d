package load

import (
	"os"
	"testing"
	"time"
)

func TestProcReadsThisProcess(t *testing.T) {
	pid := os.Getpid()
	rss, err := RSS(pid)
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	before, err := CPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged at least one tick.
	for after := before; after == before; {
		if after, err = CPUTime(pid); err != nil {
			t.Fatal(err)
		}
		if after < before {
			t.Fatalf("CPU time went from %v to %v", before, after)
		}
	}
	if _, err := CPUTime(-1); err == nil {
		t.Fatal("no error for a missing process")
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	if p := percentile(ds, 50); p != 50 {
		t.Errorf("p50 = %d", p)
	}
	if p := percentile(ds, 99); p != 99 {
		t.Errorf("p99 = %d", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("empty p50 = %d", p)
	}
}
