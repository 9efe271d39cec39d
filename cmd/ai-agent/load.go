//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rancher/ai-agent/internal/load"
)

// runLoad is `ai-agent load`: it starts a fake Ollama, a go-sdk MCP server
// and a fake Rancher on loopback, then `ai-agent serve` against them as a
// child process, and measures turns and idle chats (internal/load).
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "direct" {
		return runLoadDirect(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chats := fs.Int("chats", 100, "concurrent chats, each a different user")
	turns := fs.Int("turns", 20, "measured turns per chat (after one warm-up turn)")
	idle := fs.String("idle", "1000", "comma-separated numbers of idle chats at which to read the server's RSS (empty: none)")
	modelLatency := fs.Duration("model-latency", 20*time.Millisecond, "fake model's time to first byte")
	mcpLatency := fs.Duration("mcp-latency", 5*time.Millisecond, "fake MCP tool's run time")
	think := fs.Duration("think", 0, "each chat's pause between two turns (0: back to back, which saturates the CPU)")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound of the whole run")
	bin := fs.String("bin", "", "ai-agent executable to run `serve` with (default: this one)")
	directMCP := fs.String("direct-mcp", load.MCPClientSDK, "MCP client of the direct calls: go-sdk (its ClientSession) or agent (the agent's own, internal/mcp)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *directMCP != load.MCPClientSDK && *directMCP != load.MCPClientAgent {
		return fmt.Errorf("--direct-mcp %q: %w (want %s or %s)", *directMCP, load.ErrMCPClient, load.MCPClientSDK, load.MCPClientAgent)
	}
	levels, err := parseLevels(*idle)
	if err != nil {
		return err
	}
	if *chats < 0 || *turns < 0 || *chats > 5000 || *turns > 10000 {
		return fmt.Errorf("--chats must be 0…5000 and --turns 0…10000")
	}
	need := 2*(*chats) + 256
	if len(levels) > 0 {
		need = max(need, levels[len(levels)-1]+256)
	}
	if err := raiseFileLimit(uint64(need)); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find ai-agent: %w", err)
	}
	if *bin == "" {
		*bin = self
	}
	dir, err := os.MkdirTemp("", "ai-agent-load-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rep, err := load.Run(ctx, load.Config{
		Bin: *bin, DirectBin: self, DirectMCPClient: *directMCP, Dir: dir, Chats: *chats, Turns: *turns, Idle: levels, Think: *think,
		ModelLatency: *modelLatency, MCPLatency: *mcpLatency, Log: stderr,
	})
	if err != nil {
		return err
	}
	load.WriteReport(stdout, rep)
	return nil
}

// runLoadDirect is `ai-agent load direct`: the load run's direct phase in
// a process of its own (load.RunDirectProcess starts it), so that its CPU
// time is the direct calls' alone. It prints load.DirectResult as JSON.
func runLoadDirect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load direct", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dc load.DirectConfig
	fs.StringVar(&dc.ModelURL, "model", "", "fake Ollama's base URL (loopback)")
	fs.StringVar(&dc.MCPURL, "mcp", "", "MCP endpoint URL (loopback)")
	fs.IntVar(&dc.Chats, "chats", 100, "concurrent workers")
	fs.IntVar(&dc.Turns, "turns", 20, "measured turns per worker (after one warm-up turn)")
	fs.DurationVar(&dc.Think, "think", 0, "each worker's pause between two turns")
	fs.StringVar(&dc.MCPClient, "mcp-client", load.MCPClientSDK, "MCP client: go-sdk or agent")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound of the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if dc.Chats > 5000 || dc.Turns > 10000 {
		return fmt.Errorf("--chats must be 1…5000 and --turns 1…10000")
	}
	if err := raiseFileLimit(uint64(dc.Chats + 256)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := load.RunDirect(ctx, dc)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > 100000 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("--idle %q: want increasing numbers 1…100000", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// raiseFileLimit raises RLIMIT_NOFILE to at least need (up to the hard
// limit): every chat is a socket here and one in the server, which inherits
// the limit.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur >= need {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("RLIMIT_NOFILE: %d files needed, hard limit %d: use fewer chats", need, lim.Max)
	}
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	return nil
}
