package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/load"
)

// The direct phase of `ai-agent load` runs as `ai-agent load direct` in a
// process of its own, so that its CPU time is the direct calls' alone.
func TestLoadDirectRunsInAProcessOfItsOwn(t *testing.T) {
	model, err := load.Serve(load.OllamaHandler(0))
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	mcpSrv, err := load.Serve(load.MCPHandler(0))
	if err != nil {
		t.Fatal(err)
	}
	defer mcpSrv.Close()
	dc := load.DirectConfig{ModelURL: model.URL, MCPURL: mcpSrv.URL + "/mcp", Chats: 2, Turns: 3}
	res, err := load.RunDirectProcess(t.Context(), repBuild(t), dc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Turns != 6 || res.P50 <= 0 || res.P99 < res.P50 {
		t.Fatalf("result %+v", res)
	}
	// The fakes in this process served every call the child made.
	if model.Accepted() == 0 || mcpSrv.Accepted() == 0 {
		t.Fatalf("accepted model %d, MCP %d", model.Accepted(), mcpSrv.Accepted())
	}

	// In process, the command prints the same JSON and refuses what is
	// not loopback.
	var out bytes.Buffer
	if err := runLoad(t.Context(), []string{"direct", "--model", dc.ModelURL, "--mcp", dc.MCPURL, "--chats", "1", "--turns", "2"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var got load.DirectResult
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Turns != 2 {
		t.Fatalf("output %q: %+v, %v", out.String(), got, err)
	}
	out.Reset()
	if err := runLoad(t.Context(), []string{"direct", "--model", dc.ModelURL, "--mcp", dc.MCPURL, "--chats", "1", "--turns", "2", "--mcp-client", "agent"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Turns != 2 {
		t.Fatalf("agent's MCP client: output %q: %+v, %v", out.String(), got, err)
	}
	if err := runLoad(t.Context(), []string{"--direct-mcp", "python"}, &out, &bytes.Buffer{}); !errors.Is(err, load.ErrMCPClient) {
		t.Fatalf("--direct-mcp python: %v", err)
	}
	err = runLoad(t.Context(), []string{"direct", "--model", "http://192.0.2.1:80", "--mcp", dc.MCPURL}, &out, &bytes.Buffer{})
	if !errors.Is(err, load.ErrNotLoopback) || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Fatalf("non-loopback model URL: %v", err)
	}
}
