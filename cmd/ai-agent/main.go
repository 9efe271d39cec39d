package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: ai-agent <command> [flags]

commands:
  serve   run the agent server (agents from --config FILE or the cluster)
  demo    run the agent, a demo MCP server and a scripted model on loopback
  load    measure turns and idle chats of serve against fakes on loopback

run "ai-agent <command> -h" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	case "demo":
		err = runDemo(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	case "load":
		err = runLoad(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "ai-agent: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "ai-agent %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
