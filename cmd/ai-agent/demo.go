package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/web"
)

// demo runs the agent, a demo MCP server and the scripted model on
// loopback, with no flag and no outside service.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8000", "address of the chat page and the agent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := readEnv(getenv)
	if err != nil {
		return err
	}
	log := logging.NewLogger(stderr, logging.ParseLevel(e.LogLevel))

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

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w (another demo running? try --listen 127.0.0.1:0)", err)
	}
	if e.OAuthRedirectURI == "" {
		e.OAuthRedirectURI = "http://" + ln.Addr().String() + "/v1/api/oauth2/callback"
	}
	key := oauth.GenerateKey()
	log.Warn("demo: generated a throw-away OAuth encryption key; tokens last only while the demo runs", "issuer", issuer)
	model := llm.NewScripted()
	model.Fallback = demo.Script
	model.ChunkDelay = 40 * time.Millisecond
	a := &app{
		env: e, log: log, model: model, store: store.NewMemory(), oauthKeys: [][]byte{key},
		source: agents.StaticSource{demo.ClusterAgent(mcpURL + "/mcp"), demo.NotesAgent(notesURL + "/mcp")},
		users: server.UserResolverFunc(func(context.Context, *http.Request) (agent.User, error) {
			return agent.User{ID: "demo-user"}, nil
		}),
		extra: map[string]http.Handler{"/": web.Handler(), "/v1/control/": model.ControlHandler()},
	}
	err = a.run(ctx, ln, func(addr string) {
		fmt.Fprintf(stdout, "\nRancher AI agent demo is running.\n\n  Open http://%s/ in a browser and ask \"list the pods in default\",\n  then \"show my notes\" to sign in to the OAuth-protected notes agent.\n\n  WebSocket: ws://%s/v1/ws/messages   Stop: Ctrl-C\n\n", addr, addr)
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
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
