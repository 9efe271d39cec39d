package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// TLS is the trust material of a server started with StartTLS.
type TLS struct {
	// CAFile is the PEM file of the private CA that signed the server's
	// certificate (for sslrootcert, or SSL_CERT_FILE).
	CAFile string
	// CA is that CA's certificate.
	CA *x509.Certificate
}

// StartTLS is Start with ssl=on: a private CA made here (crypto/x509)
// signs the server's certificate, valid for 127.0.0.1 and localhost, and
// pg_hba.conf admits only TLS connections (hostssl), so that a client
// that does not use TLS is refused. Server.DSN then asks for
// sslmode=verify-full with the CA as sslrootcert.
func StartTLS(ctx context.Context) (*Server, error) { return start(ctx, true) }

// NewCA writes a fresh self-signed CA certificate (PEM) to dir/name and
// returns its path: a CA that signed nothing, for tests of a refused
// server.
func NewCA(dir, name string) (string, error) {
	_, _, pemCert, err := newCA("pgtest unrelated CA")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pemCert, 0o644); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return path, nil
}

func newCA(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pgtest: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pgtest: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pgtest: %w", err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// enableTLS writes the CA, the server's certificate and key into the data
// directory, turns ssl on and restricts pg_hba.conf to hostssl.
func (s *Server) enableTLS(data string) error {
	ca, caKey, caPEM, err := newCA("pgtest private CA")
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	caFile := filepath.Join(s.dir, "ca.crt")
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{caFile, caPEM, 0o644},
		{filepath.Join(data, "server.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644},
		// PostgreSQL refuses a key readable by others.
		{filepath.Join(data, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600},
		{filepath.Join(data, "pg_hba.conf"), []byte("local all all trust\nhostssl all all 127.0.0.1/32 trust\n"), 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := s.own(f.path); err != nil {
			return err
		}
	}
	s.opts += " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
	s.TLS = &TLS{CAFile: caFile, CA: ca}
	return nil
}

// own gives path to the postgres user when the binaries run as it.
func (s *Server) own(path string) error {
	if !s.asPG {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}
