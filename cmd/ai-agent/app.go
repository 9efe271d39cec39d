package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
)

// app is everything one server process runs.
type app struct {
	env    env
	log    *slog.Logger
	model  llm.Model
	source agents.Source
	users  server.UserResolver
	store  store.Store
	extra  map[string]http.Handler
}

// run serves on ln until ctx ends, then drains open chats.
func (a *app) run(ctx context.Context, ln net.Listener, onReady func(addr string)) error {
	tools := mcp.NewManager(mcp.Options{
		Logger: a.log, InsecureSkipTLS: a.env.InsecureSkipTLS, RancherMCPURL: a.env.MCPURL,
	})
	defer tools.Close()
	runner := agent.New(agent.Options{
		Model: a.model, Tools: tools, Store: a.store, Logger: a.log,
		Credentials: agent.StaticCredentials{RancherURL: a.env.RancherURL},
	})
	srv := server.New(server.Options{
		Users: a.users, Agents: a.source, Runner: runner, Store: a.store, Logger: a.log,
		Extra: a.extra, Conn: chat.Options{ShutdownGrace: a.env.ShutdownGrace},
	})
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	srv.SetReady(true)
	a.log.Info("ai-agent listening", "addr", ln.Addr().String(), "storage", a.store.StorageType())
	if onReady != nil {
		onReady(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing open turns")
	dctx, cancel := context.WithTimeout(context.Background(), a.env.ShutdownGrace+5*time.Second)
	defer cancel()
	if err := srv.Drain(dctx); err != nil {
		a.log.Warn("some chats did not close in time", "error", err)
	}
	if err := hs.Shutdown(dctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
