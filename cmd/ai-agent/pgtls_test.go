package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/store/pgtest"
)

// startTLSPG starts a PostgreSQL that takes only TLS connections, with a
// certificate from a private CA (skipping loudly, or failing under
// CI=true, when PostgreSQL is not installed), and creates database db.
func startTLSPG(t *testing.T, db string) (*pgtest.Server, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.StartTLS(ctx)
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	t.Cleanup(func() { pg.Stop() })
	if _, err := pg.CreateDB(ctx, db); err != nil {
		t.Fatal(err)
	}
	return pg, db
}

// TestServePostgresVerifyFull (upstream rancher-ai-agent #326: chats were
// not stored with a custom CA): serve with DB_CONNECTION_STRING
// sslmode=verify-full and sslrootcert the private CA stores a chat in a
// PostgreSQL that refuses connections without TLS; with another CA as
// sslrootcert, and with no CA at all (the system roots), serve refuses to
// start and says why in a sentence.
func TestServePostgresVerifyFull(t *testing.T) {
	pg, db := startTLSPG(t, "tlschats")
	mcpSrv := httptest.NewServer(demo.Handler())
	t.Cleanup(mcpSrv.Close)
	cfg := noneConfig(t, mcpSrv.URL+"/mcp")

	env := pgEnv(t, pg.DSN(db))
	if !strings.Contains(env["DB_CONNECTION_STRING"], "sslmode=verify-full") {
		t.Fatalf("DSN %q", env["DB_CONNECTION_STRING"])
	}
	base, stop := servePG(t, cfg, "127.0.0.1:0", env)
	c := repDial(t, base, "/v1/ws/messages/tls-chat", "alice")
	c.Metadata()
	push(t, strings.TrimPrefix(base, "http://"), `{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["It is 3."]}}`)
	if all := strings.Join(c.Ask(`{"prompt":"1+2?","context":{}}`), ""); !strings.Contains(all, "It is 3.") || strings.Contains(all, "<error>") {
		t.Fatalf("turn: %q", all)
	}
	code, body := repDo(t, "GET", base+"/v1/api/chats/tls-chat/messages", "alice", "")
	if code != 200 || !strings.Contains(body, "1+2?") || !strings.Contains(body, "It is 3.") {
		t.Fatalf("history = %d %s", code, body)
	}
	stop()

	// The chat is in the database (read back over TLS by a fresh store).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.OpenPostgres(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	chats, err := st.ListChats(ctx, "u-alice", false)
	st.Close()
	if err != nil || len(chats) != 1 || chats[0].ID != "tls-chat" {
		t.Fatalf("stored chats %+v, %v", chats, err)
	}

	// The server takes no connection without TLS.
	if st, err := store.OpenPostgres(ctx, pg.DSNWith(db, "sslmode=disable")); err == nil {
		st.Close()
		t.Fatal("the server accepted a connection without TLS")
	}

	otherCA, err := pgtest.NewCA(t.TempDir(), "other-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	for name, params := range map[string]string{
		"another CA":   "sslmode=verify-full&sslrootcert=" + url.QueryEscape(otherCA),
		"system roots": "sslmode=verify-full",
	} {
		t.Run(name, func(t *testing.T) {
			env := pgEnv(t, pg.DSNWith(db, params))
			var out bytes.Buffer
			err := serve(ctx, []string{"--config", cfg, "--listen", "127.0.0.1:0", "--metrics-listen", ""}, func(k string) string { return env[k] }, &out, &out)
			if err == nil {
				t.Fatal("serve started with an untrusted PostgreSQL certificate")
			}
			msg := err.Error()
			t.Logf("serve: %s", msg)
			if !strings.Contains(msg, "PostgreSQL's TLS certificate is not signed by a trusted CA") || !strings.Contains(msg, "sslrootcert") {
				t.Errorf("error %q does not say what to fix", msg)
			}
		})
	}
}

// TestServePostgresSSLCertFile: without sslrootcert, verify-full trusts
// the system roots, which SSL_CERT_FILE replaces (Go's crypto/x509 on
// Linux; the Python agent's truststore uses the same variable). The
// system pool is read once per process, so the check runs in a child
// process of this test binary with SSL_CERT_FILE set to the private CA.
func TestServePostgresSSLCertFile(t *testing.T) {
	if dsn := os.Getenv("AI_AGENT_TEST_PG_DSN"); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		st.Close()
		return
	}
	pg, db := startTLSPG(t, "sslcertfile")
	run := func(caFile string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestServePostgresSSLCertFile$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AI_AGENT_TEST_PG_DSN="+pg.DSNWith(db, "sslmode=verify-full"), "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(pg.TLS.CAFile); err != nil {
		t.Fatalf("with SSL_CERT_FILE=the private CA: %v\n%s", err, out)
	}
	otherCA, err := pgtest.NewCA(t.TempDir(), "other-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(otherCA)
	if err == nil || !strings.Contains(out, "not signed by a trusted CA") {
		t.Fatalf("with SSL_CERT_FILE=another CA: %v\n%s", err, out)
	}
}
