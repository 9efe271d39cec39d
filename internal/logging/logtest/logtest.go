// Package logtest is test support for reading what the code under test
// logs or prints while its goroutines (or a child process) still write:
// Buffer is a concurrency-safe output sink that also tells a waiter when it
// grows, so a test can wait on a log line instead of polling.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// grew is closed (and forgotten) by the next Write.
	grew chan struct{}
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grew != nil {
		close(s.grew)
		s.grew = nil
	}
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Next is the text so far and a channel closed by the next Write.
func (s *Buffer) Next() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grew == nil {
		s.grew = make(chan struct{})
	}
	return s.b.String(), s.grew
}
