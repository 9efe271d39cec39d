package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// pgTLSError is a refused PostgreSQL certificate, said as what to fix:
// Error is a sentence with the certificate check's own reason; Unwrap
// gives the whole chain for the log.
type pgTLSError struct {
	sentence string
	reason   error
	err      error
}

func (e *pgTLSError) Error() string { return e.sentence + " (" + e.reason.Error() + ")" }
func (e *pgTLSError) Unwrap() error { return e.err }

// explainPGConnect turns a failed certificate check of sslmode=verify-ca
// or verify-full into a sentence (RFC 5280 path validation, RFC 6125 name
// check); any other error is returned as it is.
func explainPGConnect(err error) error {
	var unknown x509.UnknownAuthorityError
	var name x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		return &pgTLSError{"PostgreSQL's TLS certificate is not signed by a trusted CA: give the CA's PEM file as sslrootcert in the connection string (or SSL_CERT_FILE for the system roots)", unknown, err}
	case errors.As(err, &name):
		return &pgTLSError{"PostgreSQL's TLS certificate does not name the host of the connection string (sslmode=verify-full checks it): connect by a name the certificate holds", name, err}
	case errors.As(err, &invalid):
		return &pgTLSError{"PostgreSQL's TLS certificate is not valid (expired, not yet valid, or not for a server)", invalid, err}
	case errors.As(err, &verify):
		return &pgTLSError{"PostgreSQL's TLS certificate was refused", verify.Err, err}
	}
	return err
}
