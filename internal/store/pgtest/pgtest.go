package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rancher/ai-agent/internal/citest"
)

// ErrNotInstalled means no PostgreSQL binaries were found.
var ErrNotInstalled = errors.New("postgresql is not installed (apt-get install postgresql, or run .ci/postgres.sh)")

// Server is a running test cluster.
type Server struct {
	dir  string
	bin  string
	Port int
	asPG bool
	opts string // the postgres options of pg_ctl start
	// TLS is set by StartTLS: the server then takes only TLS connections.
	TLS *TLS
}

// binDir finds the newest /usr/lib/postgresql/*/bin with initdb.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", ErrNotInstalled
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start initialises and starts a cluster. Call Stop when done.
func Start(ctx context.Context) (*Server, error) { return start(ctx, false) }

func start(ctx context.Context, withTLS bool) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, bin: bin, asPG: os.Geteuid() == 0}
	if s.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if s.Port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := s.run(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", s.Port, dir)
	if withTLS {
		if err := s.enableTLS(data); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	if err := s.run(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-o", s.opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("%w\n%s", err, log)
	}
	return nil
}

// Halt stops the server as a crash or a failover would (immediate
// shutdown: every connection is cut) and keeps its data; Resume starts it
// again on the same port.
func (s *Server) Halt(ctx context.Context) error {
	return s.run(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
}

// Resume starts a halted server again, with its data, on the same port.
func (s *Server) Resume(ctx context.Context) error { return s.start(ctx) }

// Stop stops the cluster and removes its files.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.run(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

// DSN is the URL of database db: sslmode=disable, or with StartTLS
// sslmode=verify-full with sslrootcert the CA's file.
func (s *Server) DSN(db string) string {
	if s.TLS != nil {
		return s.DSNWith(db, "sslmode=verify-full&sslrootcert="+url.QueryEscape(s.TLS.CAFile))
	}
	return s.DSNWith(db, "sslmode=disable")
}

// DSNWith is the URL of database db with the query params (libpq
// parameters such as sslmode, already escaped).
func (s *Server) DSNWith(db, params string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?%s", s.Port, db, params)
}

// CreateDB creates an empty database and returns its DSN (see DSN).
func (s *Server) CreateDB(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

func (s *Server) run(ctx context.Context, tool string, args ...string) error {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.asPG {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: %s: %w\n%s", tool, err, out)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Unavailable skips t with a loud message, or fails it when CI=true: CI
// must run the PostgreSQL suite (.ci/postgres.sh installs it).
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if citest.Required() {
		t.Fatalf("PostgreSQL is required under CI=true: %v", err)
	}
	t.Skipf("\n*** SKIPPING POSTGRESQL TESTS: %v ***\n*** run .ci/postgres.sh to install it; CI=true makes this a failure ***", err)
}
