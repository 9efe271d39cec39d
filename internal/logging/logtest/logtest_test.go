package logtest_test

import (
	"testing"

	"github.com/rancher/ai-agent/internal/leakcheck"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestNextIsClosedByTheNextWrite(t *testing.T) {
	var b logtest.Buffer
	_, _ = b.Write([]byte("a"))
	text, grew := b.Next()
	if text != "a" {
		t.Fatalf("text %q", text)
	}
	select {
	case <-grew:
		t.Fatal("closed before a write")
	default:
	}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = b.Write([]byte("b")) }()
	<-grew
	<-done
	if b.String() != "ab" {
		t.Fatalf("text %q", b.String())
	}
}
