//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/web"
)

// defaultDemoAddr is where the demo listens unless --listen says otherwise.
const defaultDemoAddr = "127.0.0.1:8000"

// demo runs the agent, a demo MCP server and the scripted model on
// loopback, with no flag and no outside service. The first line it prints
// is the URL to open: logs written before it are held back until then.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultDemoAddr, "address of the chat page and the agent (host:port; port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "listen" })
	e, err := readEnv(getenv)
	if err != nil {
		return err
	}
	logOut := &heldWriter{w: stderr}
	defer logOut.release()
	log := logging.New(logOut, e.LogLevel, e.LogFormat)

	// The demo's outside world, on loopback: a cluster MCP server, an
	// authorization server, and a notes MCP server that it protects.
	mcpURL, stop1, err := serveLoopback(func(string) http.Handler { return demo.Handler() })
	if err != nil {
		return err
	}
	defer stop1()
	var as *demo.AuthServer
	issuer, stop2, err := serveLoopback(func(base string) http.Handler {
		as = demo.NewAuthServer(base, 10*time.Minute)
		return as.Handler()
	})
	if err != nil {
		return err
	}
	defer stop2()
	notesURL, stop3, err := serveLoopback(func(base string) http.Handler { return demo.NotesHandler(as, base) })
	if err != nil {
		return err
	}
	defer stop3()

	ln, note, err := listenDemo(*listen, explicit)
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if e.OAuthRedirectURI == "" {
		e.OAuthRedirectURI = "http://" + ln.Addr().String() + "/v1/api/oauth2/callback"
	}
	key := oauth.GenerateKey()
	log.Warn("demo: generated a throw-away OAuth encryption key; tokens last only while the demo runs", "issuer", issuer)
	model := llm.NewScripted()
	model.Fallback = demo.Script
	model.ChunkDelay = 40 * time.Millisecond
	list := agentconfig.StaticSource{demo.ClusterAgent(mcpURL + "/mcp"), demo.NotesAgent(notesURL + "/mcp")}
	a := &app{
		env: e, log: log, model: model, store: store.NewMemory(), oauthKeys: [][]byte{key}, source: list,
		users: server.UserResolverFunc(func(_ context.Context, r *http.Request) (agent.User, error) {
			id, err := demo.User(r)
			return agent.User{ID: id}, err
		}),
		extra: map[string]http.Handler{
			"/": web.Handler(e.MediaHosts...), "/v1/control/": model.ControlHandler(), "GET /demo/agents": demo.AgentsHandler(list...),
		},
		engine: "memory",
		// The page's own origin, also by the name localhost.
		selfOrigins: []string{"http://" + ln.Addr().String(), "http://localhost:" + port},
		// One local user, who runs the demo: they may discover and register.
		mayConfigure: server.AllowEveryone,
	}
	err = a.run(ctx, ln, func(addr string) {
		fmt.Fprintf(stdout, "Open http://%s/ in a browser to chat with the Rancher AI agent demo.\n%s\n"+
			"  Ask \"list the pods in default\", then \"show my notes\" to sign in to the OAuth-protected notes agent.\n"+
			"  WebSocket: ws://%s/v1/ws/messages   Stop: Ctrl-C\n\n", addr, note, addr)
		logOut.release()
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// listenDemo listens on addr. When addr is the default (explicit is
// false) and that port is taken, say by another demo, it takes a free
// loopback port instead and says so in note; an address the user gave
// must be free, and the error names --listen.
func listenDemo(addr string, explicit bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, "", nil
	}
	if explicit || !errors.Is(err, syscall.EADDRINUSE) {
		return nil, "", fmt.Errorf("--listen %s: %w (give another address, e.g. --listen 127.0.0.1:0 for a free port)", addr, err)
	}
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return nil, "", fmt.Errorf("--listen %s: %w; a free port: %w", addr, err, err2)
	}
	return ln, fmt.Sprintf("  (%s is in use, so the demo took a free port; choose one with --listen ADDR)\n", addr), nil
}

// heldWriter holds what is written to it until release, then passes
// everything through; it keeps start-up log lines below the URL.
type heldWriter struct {
	mu       sync.Mutex
	w        io.Writer
	buf      bytes.Buffer
	released bool
}

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return h.w.Write(p)
	}
	return h.buf.Write(p)
}

// release writes what was held and lets later writes through.
func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.released {
		h.released = true
		_, _ = h.w.Write(h.buf.Bytes())
		h.buf.Reset()
	}
}

// serveLoopback serves the handler that mk builds for its base URL on a
// free loopback port.
func serveLoopback(mk func(base string) http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo server: %w", err)
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: mk(base), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return base, func() { _ = srv.Close() }, nil
}
