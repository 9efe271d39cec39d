// Package pgtest runs a throwaway PostgreSQL server for tests, from
// Debian's postgresql package (/usr/lib/postgresql/<v>/bin). The server
// listens on a free loopback port with its socket in a temp dir, trusts
// local connections, and runs with fsync off: it is for tests only. A
// test can halt it (every connection cut, as in a crash or a failover) and
// resume it on the same port with its data. StartTLS runs it with ssl=on,
// a certificate from a private CA generated in the test (crypto/x509) and
// only TLS connections admitted (tls.go); NewCA makes an unrelated CA for
// tests of a refused certificate.
//
// PostgreSQL refuses to run as root, so as root the binaries run as the
// "postgres" user (runuser), which owns the data dir.
package pgtest
