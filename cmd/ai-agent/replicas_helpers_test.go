package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// repDatabase returns the DSN of a fresh database on a throwaway
// PostgreSQL (startPG).
func repDatabase(t *testing.T) string {
	t.Helper()
	_, dsn := startPG(t, "replicas")
	return dsn
}

// repBuild builds the ai-agent binary once per test.
func repBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ai-agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func repFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// repRancher is a fake Rancher: cookie R_SESS=tok-<user> is user u-<user>.
func repRancher(t *testing.T) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("R_SESS")
		if err != nil || !strings.HasPrefix(c.Value, "tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"data":[{"id":"u-%s"}]}`, strings.TrimPrefix(c.Value, "tok-"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// repStart runs `ai-agent serve` on addr until the test ends and returns
// its base URL once it is ready.
func repStart(t *testing.T, bin, addr, config string, env map[string]string) string {
	t.Helper()
	base, _ := repProcess(t, bin, addr, config, env)
	return base
}

// repProcess is repStart that also returns the replica's process (a test
// may kill it).
func repProcess(t *testing.T, bin, addr, config string, env map[string]string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--metrics-listen", "127.0.0.1:0", "--config", config)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log logtest.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("replica %s log:\n%s", addr, log.String())
		}
	})
	// Ready when it logs that it listens (it has opened the store by then).
	waitFor(t, &log, regexp.MustCompile(`"msg":"ai-(agent) listening"`))
	select {
	case <-exited:
		t.Fatalf("replica %s exited:\n%s", addr, log.String())
	default:
	}
	return "http://" + addr, cmd.Process
}

// repDo sends a request as user (R_SESS=tok-<user>; none when "") and
// returns status and body.
func repDo(t *testing.T, method, url, user, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Cookie", "R_SESS=tok-"+user)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// repDial opens a chat WebSocket on a replica as user.
func repDial(t *testing.T, base, path, user string) *chattest.Client {
	t.Helper()
	return chattest.Dial(t, base+path, chattest.Cookie("R_SESS=tok-"+user))
}
