package main

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// A busy default port: the demo takes a free one and says how to choose.
// A busy address given with --listen: a clear error that names the flag.
func TestDemoListenOnABusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()

	ln, note, err := listenDemo(addr, false)
	if err != nil {
		t.Fatalf("default address busy: %v", err)
	}
	defer ln.Close()
	if ln.Addr().String() == addr || !strings.Contains(note, addr+" is in use") || !strings.Contains(note, "--listen ADDR") {
		t.Fatalf("fallback listener %s, note %q", ln.Addr(), note)
	}

	_, _, err = listenDemo(addr, true)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "--listen "+addr) || !strings.Contains(err.Error(), "--listen 127.0.0.1:0") {
		t.Fatalf("explicit busy address: %v", err)
	}

	// The command itself returns that error, before printing any URL.
	var stdout, stderr logtest.Buffer
	err = runDemo(context.Background(), []string{"--listen", addr}, func(string) string { return "" }, &stdout, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) || stdout.String() != "" {
		t.Fatalf("runDemo on a busy --listen: %v, stdout %q", err, stdout.String())
	}
}

// The first line the demo prints is the URL to open; the log lines it
// wrote while starting come after it, on stderr.
func TestDemoFirstLineIsTheURL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr logtest.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--listen", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr)
	}()
	addr := waitFor(t, &stdout, regexp.MustCompile(`Open http://([0-9.:]+)/`))
	first, _, _ := strings.Cut(stdout.String(), "\n")
	if first != "Open http://"+addr+"/ in a browser to chat with the Rancher AI agent demo." {
		t.Fatalf("first line %q", first)
	}
	// The start-up log, held until the URL was out, is then written.
	waitFor(t, &stderr, regexp.MustCompile(`("msg":"ai-agent listening")`))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop")
	}
}

func TestHeldWriterHoldsUntilRelease(t *testing.T) {
	var out logtest.Buffer
	h := &heldWriter{w: &out}
	_, _ = h.Write([]byte("early\n"))
	if out.String() != "" {
		t.Fatalf("written before release: %q", out.String())
	}
	h.release()
	_, _ = h.Write([]byte("late\n"))
	h.release() // twice is harmless
	if out.String() != "early\nlate\n" {
		t.Fatalf("out %q", out.String())
	}
}
