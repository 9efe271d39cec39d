package load

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestProcReadsThisProcess(t *testing.T) {
	pid := os.Getpid()
	rss, err := RSS(pid)
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	before, err := CPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged at least one tick.
	for after := before; after == before; {
		if after, err = CPUTime(pid); err != nil {
			t.Fatal(err)
		}
		if after < before {
			t.Fatalf("CPU time went from %v to %v", before, after)
		}
	}
	if _, err := CPUTime(-1); err == nil {
		t.Fatal("no error for a missing process")
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	if p := percentile(ds, 50); p != 50 {
		t.Errorf("p50 = %d", p)
	}
	if p := percentile(ds, 99); p != 99 {
		t.Errorf("p99 = %d", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("empty p50 = %d", p)
	}
}

func TestRunDirectMeasuresEveryTurn(t *testing.T) {
	model, err := Serve(OllamaHandler(0))
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	mcpSrv, err := Serve(MCPHandler(0))
	if err != nil {
		t.Fatal(err)
	}
	defer mcpSrv.Close()
	for _, client := range []string{"", MCPClientSDK, MCPClientAgent} {
		res, err := RunDirect(t.Context(), DirectConfig{ModelURL: model.URL, MCPURL: mcpSrv.URL + "/mcp", Chats: 3, Turns: 4, MCPClient: client})
		if err != nil {
			t.Fatalf("%q: %v", client, err)
		}
		if res.Turns != 12 || res.P50 <= 0 || res.P99 < res.P50 || res.CPUPerTurn < 0 {
			t.Fatalf("%q: result %+v", client, res)
		}
	}
	// 3 workers, each with at most one model call in flight, per run.
	if n := model.Accepted(); n < 1 || n > 9 {
		t.Errorf("the model accepted %d connections for 3 runs of 3 workers", n)
	}
	_, err = RunDirect(t.Context(), DirectConfig{ModelURL: model.URL, MCPURL: mcpSrv.URL + "/mcp", Chats: 1, Turns: 1, MCPClient: "python"})
	if !errors.Is(err, ErrMCPClient) {
		t.Fatalf("unknown MCP client: %v", err)
	}
}

func TestRunDirectRefusesWhatIsNotLoopback(t *testing.T) {
	for _, u := range []string{"http://example.com", "https://127.0.0.1:1", "http://10.0.0.1:80", "127.0.0.1:80", "http://[::ffff:8.8.8.8]:1"} {
		_, err := RunDirect(t.Context(), DirectConfig{ModelURL: u, MCPURL: "http://127.0.0.1:1/mcp", Chats: 1, Turns: 1})
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v, want ErrNotLoopback", u, err)
		}
	}
	if _, err := RunDirect(t.Context(), DirectConfig{ModelURL: "http://127.0.0.1:1", MCPURL: "http://127.0.0.1:1/mcp", Chats: 0, Turns: 1}); err == nil {
		t.Error("no error for 0 chats")
	}
}
