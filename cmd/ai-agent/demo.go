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

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/logging"
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

	mcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo MCP server: %w", err)
	}
	mcpSrv := &http.Server{Handler: demo.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = mcpSrv.Serve(mcpLn) }()
	defer mcpSrv.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w (another demo running? try --listen 127.0.0.1:0)", err)
	}
	model := llm.NewScripted()
	model.Fallback = demo.Script
	model.ChunkDelay = 40 * time.Millisecond
	a := &app{
		env: e, log: log, model: model, store: store.NewMemory(),
		source: agents.StaticSource{demoAgent("http://" + mcpLn.Addr().String() + "/mcp")},
		users: server.UserResolverFunc(func(context.Context, *http.Request) (agent.User, error) {
			return agent.User{ID: "demo-user"}, nil
		}),
		extra: map[string]http.Handler{"/": web.Handler(), "/v1/control/": model.ControlHandler()},
	}
	err = a.run(ctx, ln, func(addr string) {
		fmt.Fprintf(stdout, "\nRancher AI agent demo is running.\n\n  Open http://%s/ in a browser and ask \"list the pods in default\".\n\n  WebSocket: ws://%s/v1/ws/messages   Stop: Ctrl-C\n\n", addr, addr)
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func demoAgent(url string) agents.Agent {
	return agents.Agent{
		Name: "demo",
		Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName:        "Demo cluster",
			Description:        "Answers questions about the demo cluster's pods, deployments and logs.",
			SystemPrompt:       "You are the Rancher AI assistant for a small demo cluster. Use the tools to answer.",
			MCPURL:             url,
			AuthenticationType: v1alpha1.AuthNone,
		},
		Revision: "demo-1",
	}
}
