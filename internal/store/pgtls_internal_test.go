package store

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestExplainPGConnect: each refused-certificate cause becomes its
// sentence and keeps the chain; other errors pass unchanged.
func TestExplainPGConnect(t *testing.T) {
	plain := errors.New("connection refused")
	if got := explainPGConnect(plain); got != plain {
		t.Fatalf("plain error became %v", got)
	}
	for cause, want := range map[error]string{
		x509.UnknownAuthorityError{}:                                     "not signed by a trusted CA",
		x509.HostnameError{Certificate: &x509.Certificate{}, Host: "db"}: "does not name the host",
		x509.CertificateInvalidError{Reason: x509.Expired}:               "is not valid",
	} {
		err := explainPGConnect(fmt.Errorf("failed to connect: %w", cause))
		if !strings.HasPrefix(err.Error(), "PostgreSQL's TLS certificate") || !strings.Contains(err.Error(), want) {
			t.Errorf("%T: %q", cause, err)
		}
		if u := errors.Unwrap(err); u == nil || !strings.HasPrefix(u.Error(), "failed to connect") {
			t.Errorf("%T: chain lost", cause)
		}
	}
}
