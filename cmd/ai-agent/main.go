package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: ai-agent <command> [flags]

commands:
  serve     run the agent server (agents from --config FILE or the cluster)
  validate  check a file of agents and Secrets (or a cluster's) and say how to fix each problem
  demo      run the agent, a demo MCP server and a scripted model on loopback
  load      measure turns and idle chats of serve against fakes on loopback
  version   print the version (also: ai-agent --version)

run "ai-agent <command> -h" for the flags of a command; "ai-agent serve -h"
also lists every environment variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command line: it returns the exit status (0 done, 1 failed,
// 2 a usage error).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], getenv, stdout, stderr)
	case "validate":
		err = runValidate(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], getenv, stdout, stderr)
	case "load":
		err = runLoad(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		printVersion(stdout)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ai-agent: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var u usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errProblemsFound): // validate printed them
		return 1
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "ai-agent %s: %v\nrun \"ai-agent %s -h\" for the flags.\n", args[0], err, args[0])
		return 2
	default:
		fmt.Fprintf(stderr, "ai-agent %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is a command line the command cannot take (a stray argument,
// flags that exclude each other); it exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// noArgs refuses positional arguments left after the flags: Go's flag
// package stops at the first one, silently dropping the flags after it.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	return usageError{fmt.Sprintf("unexpected argument %q: flags start with - (e.g. --config FILE), and every flag must come before any other word", fs.Arg(0))}
}
