package load

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// DirectConfig sizes the direct phase: a turn's calls (model, MCP
// tools/call, model) made by the load tool's own client, without the agent.
type DirectConfig struct {
	// ModelURL is the fake Ollama's base URL; MCPURL the MCP endpoint
	// (…/mcp). Both must be on loopback.
	ModelURL, MCPURL string
	// Chats workers run Turns measured turns each (after one warm-up turn),
	// pausing Think between two.
	Chats, Turns int
	Think        time.Duration
	// MCPClient is the client of the tools/call: MCPClientSDK (empty) or
	// MCPClientAgent.
	MCPClient string
}

// DirectResult is what the direct phase measured.
type DirectResult struct {
	Turns int `json:"turns"`
	// P50 and P99 are the turn times.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	// CPUPerTurn is this process's user+system CPU time over the measured
	// turns divided by their number: the calls' own cost when the process
	// does nothing else (RunDirectProcess), the floor under the agent's.
	CPUPerTurn time.Duration `json:"cpuPerTurn"`
}

// ErrNotLoopback is matched when a URL given to the direct phase is not on
// loopback: the load tool sends traffic to this machine only.
var ErrNotLoopback = errors.New("not a loopback URL")

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotLoopback, raw, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q (want http://127.0.0.1:port)", ErrNotLoopback, raw)
	}
	return nil
}

// RunDirect makes the calls from dc.Chats workers sharing one MCP session,
// as runDirect did in process, and measures this process's CPU time.
func RunDirect(ctx context.Context, dc DirectConfig) (DirectResult, error) {
	for _, u := range []string{dc.ModelURL, dc.MCPURL} {
		if err := checkLoopback(u); err != nil {
			return DirectResult{}, err
		}
	}
	if dc.Chats <= 0 || dc.Turns <= 0 {
		return DirectResult{}, fmt.Errorf("direct phase: %d chats × %d turns: both must be positive", dc.Chats, dc.Turns)
	}
	d, err := NewDirect(ctx, Client(dc.Chats), dc.ModelURL, dc.MCPURL, dc.MCPClient)
	if err != nil {
		return DirectResult{}, err
	}
	defer d.Close()
	workers := make([]*Direct, dc.Chats)
	for i := range workers {
		workers[i] = d
	}
	if _, err := each(ctx, workers, 1, 0, func(d *Direct) error { return d.Turn(ctx) }); err != nil {
		return DirectResult{}, fmt.Errorf("direct warm-up: %w", err)
	}
	cpu0, err := CPUTime(os.Getpid())
	if err != nil {
		return DirectResult{}, err
	}
	times, err := each(ctx, workers, dc.Turns, dc.Think, func(d *Direct) error { return d.Turn(ctx) })
	if err != nil {
		return DirectResult{}, err
	}
	cpu1, err := CPUTime(os.Getpid())
	if err != nil {
		return DirectResult{}, err
	}
	return DirectResult{
		Turns: len(times), P50: percentile(times, 50), P99: percentile(times, 99),
		CPUPerTurn: (cpu1 - cpu0) / time.Duration(len(times)),
	}, nil
}

// RunDirectProcess runs the direct phase in a process of its own, `bin load
// direct …` (the command that calls RunDirect and prints its result as
// JSON), so that its CPU time is the calls' alone and not the fakes' or the
// chat clients' of this process. ctx bounds it.
func RunDirectProcess(ctx context.Context, bin string, dc DirectConfig) (DirectResult, error) {
	cmd := exec.CommandContext(ctx, bin, "load", "direct",
		"--model", dc.ModelURL, "--mcp", dc.MCPURL,
		"--chats", strconv.Itoa(dc.Chats), "--turns", strconv.Itoa(dc.Turns), "--think", dc.Think.String(),
		"--mcp-client", cmp.Or(dc.MCPClient, MCPClientSDK))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return DirectResult{}, fmt.Errorf("direct phase (%s load direct): %w\n%s", bin, err, tailOf(stderr.Bytes()))
	}
	var res DirectResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return DirectResult{}, fmt.Errorf("direct phase: its output: %w", err)
	}
	if res.Turns != dc.Chats*dc.Turns {
		return DirectResult{}, fmt.Errorf("direct phase: %d turns measured, want %d", res.Turns, dc.Chats*dc.Turns)
	}
	return res, nil
}

// tailOf is the last KiB of b, for error messages.
func tailOf(b []byte) []byte {
	if len(b) > 1024 {
		return b[len(b)-1024:]
	}
	return b
}
