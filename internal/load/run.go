package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config sizes a load run.
type Config struct {
	// Bin is the ai-agent executable; the run starts `Bin serve` itself so
	// that it can read the server's CPU time and RSS from /proc.
	Bin string
	// Dir holds the agents file and the SQLite database.
	Dir string
	// Chats run Turns turns each, concurrently, each chat a different user.
	Chats, Turns int
	// Idle are the numbers of idle chats at which RSS is measured, in
	// increasing order (empty: no idle phase).
	Idle []int
	// ModelLatency is the fake model's time to first byte; MCPLatency the
	// MCP tool's run time.
	ModelLatency, MCPLatency time.Duration
	// Think is each chat's pause between two measured turns, as a user
	// reads the answer; the chats' first turns are spread over one Think.
	// Zero runs the turns back to back, which saturates the machine's CPU
	// at a hundred chats and makes turn times a measure of CPU per turn.
	Think time.Duration
	// DirectBin is an ai-agent executable that has `load direct` (this
	// one): the direct phase runs in it, as a process of its own, so that
	// its CPU time is the calls' alone. Empty: the direct phase runs in this
	// process and its CPU is not measured.
	DirectBin string
	// DirectMCPClient is the MCP client of the direct phase (see
	// DirectConfig.MCPClient).
	DirectMCPClient string
	// Log receives progress lines.
	Log io.Writer
}

// Report is what a run measured.
type Report struct {
	Config Config
	// Turns is the number of measured turns through the agent (each chat's
	// first turn warms up and is not counted).
	Turns int
	// AgentP50 and AgentP99 are turn times through the agent (prompt sent
	// to </message> read); DirectP50 and DirectP99 the same calls made
	// directly by the load tool.
	AgentP50, AgentP99, DirectP50, DirectP99 time.Duration
	// CPUPerTurn is the server's user+system CPU time over the measured
	// turns divided by their number; RoundCPUPerTurn the same for each
	// round of RoundTurns turns per chat, in order.
	CPUPerTurn      time.Duration
	RoundCPUPerTurn []time.Duration
	// DirectCPUPerTurn is the direct phase's CPU time per turn (its own
	// process: Config.DirectBin), the client's cost of the same calls; zero
	// when not measured.
	DirectCPUPerTurn time.Duration
	// ModelConnsPerTurn and MCPConnsPerTurn are the connections the model
	// and MCP servers accepted during the measured turns, per turn;
	// ModelConns and MCPConns count them over the whole run.
	ModelConnsPerTurn, MCPConnsPerTurn float64
	ModelConns, MCPConns               int64
	// Metrics are the server's ai_agent_* series after the turns, without
	// histogram buckets.
	Metrics []string
	// IdleRSS is the server's RSS growth per idle chat at each Config.Idle
	// level (bytes), from BaseRSS with no chat open.
	IdleRSS []int64
	BaseRSS int64
}

// ErrServer is matched when the server could not be started or stopped.
var ErrServer = errors.New("ai-agent serve")

var (
	listeningRE = regexp.MustCompile(`"msg":"ai-agent listening","addr":"([0-9.:]+)"`)
	metricsRE   = regexp.MustCompile(`"msg":"metrics listening","addr":"([0-9.:]+)"`)
)

// Run starts the fakes and `serve`, runs the phases and stops everything.
// ctx bounds the whole run.
func Run(ctx context.Context, cfg Config) (Report, error) {
	rep := Report{Config: cfg}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	model, err := Serve(OllamaHandler(cfg.ModelLatency))
	if err != nil {
		return rep, err
	}
	defer model.Close()
	mcpSrv, err := Serve(MCPHandler(cfg.MCPLatency))
	if err != nil {
		return rep, err
	}
	defer mcpSrv.Close()
	users, err := Serve(RancherHandler())
	if err != nil {
		return rep, err
	}
	defer users.Close()

	agentsFile := filepath.Join(cfg.Dir, "agents.yaml")
	if err := os.WriteFile(agentsFile, []byte(AgentConfig(mcpSrv.URL)), 0o600); err != nil {
		return rep, fmt.Errorf("write agents file: %w", err)
	}
	srv, err := startServer(ctx, cfg.Bin, agentsFile, []string{
		"RANCHER_URL=" + users.URL, "ACTIVE_LLM=ollama", "OLLAMA_URL=" + model.URL, "OLLAMA_MODEL=load",
		"STORAGE=sqlite", "SQLITE_PATH=" + filepath.Join(cfg.Dir, "ai-agent.db"), "LOG_LEVEL=info",
		"PATH=" + os.Getenv("PATH"), "HOME=" + cfg.Dir, "TMPDIR=" + cfg.Dir,
	})
	if err != nil {
		return rep, err
	}
	defer srv.stop()
	logf("serve: pid %d at %s (model %s, MCP %s, Rancher %s)", srv.pid(), srv.addr, model.URL, mcpSrv.URL, users.URL)
	wsURL := "ws://" + srv.addr + "/v1/ws/messages"
	user := 0
	nextUsers := func(n int) int { first := user; user += n; return first }

	// One chat warms the MCP session and the caches, then RSS is read with
	// no chat open.
	c, err := Dial(ctx, wsURL, nextUsers(1))
	if err != nil {
		return rep, err
	}
	if err := c.Turn(ctx); err != nil {
		return rep, err
	}
	c.Close()
	quiesce(ctx, srv.pid())

	if len(cfg.Idle) > 0 {
		if rep.BaseRSS, err = RSS(srv.pid()); err != nil {
			return rep, err
		}
		var open []*Chat
		for _, level := range cfg.Idle {
			more, err := dialMany(ctx, wsURL, nextUsers(level-len(open)), level-len(open))
			open = append(open, more...)
			if err != nil {
				closeAll(open)
				return rep, fmt.Errorf("%d idle chats: %w", level, err)
			}
			quiesce(ctx, srv.pid())
			rss, err := RSS(srv.pid())
			if err != nil {
				closeAll(open)
				return rep, err
			}
			rep.IdleRSS = append(rep.IdleRSS, (rss-rep.BaseRSS)/int64(level))
			logf("idle: %d chats, RSS %d MiB, %.1f KiB per chat", level, rss>>20, float64(rss-rep.BaseRSS)/float64(level)/1024)
		}
		closeAll(open)
		quiesce(ctx, srv.pid())
	}

	if cfg.Chats > 0 && cfg.Turns > 0 {
		if err := runTurns(ctx, cfg, &rep, srv.pid(), wsURL, nextUsers(cfg.Chats), model, mcpSrv); err != nil {
			return rep, err
		}
		logf("agent: %d turns, p50 %v, p99 %v, CPU %v per turn", rep.Turns, rep.AgentP50, rep.AgentP99, rep.CPUPerTurn)
		if err := runDirect(ctx, cfg, &rep, model.URL, mcpSrv.URL+"/mcp"); err != nil {
			return rep, err
		}
		logf("direct: p50 %v, p99 %v, CPU %v per turn", rep.DirectP50, rep.DirectP99, rep.DirectCPUPerTurn)
		if rep.Metrics, err = srv.scrape(ctx); err != nil {
			return rep, err
		}
	}
	rep.ModelConns, rep.MCPConns = model.Accepted(), mcpSrv.Accepted()
	return rep, srv.stop()
}

// RoundTurns is the number of turns per chat in one round of the measured
// turns.
const RoundTurns = 20

// runTurns opens cfg.Chats chats, warms each with one turn, then runs
// cfg.Turns turns in each at once.
func runTurns(ctx context.Context, cfg Config, rep *Report, pid int, wsURL string, firstUser int, model, mcpSrv *Server) error {
	chats, err := dialMany(ctx, wsURL, firstUser, cfg.Chats)
	defer closeAll(chats)
	if err != nil {
		return err
	}
	if _, err := each(ctx, chats, 1, 0, func(c *Chat) error { return c.Turn(ctx) }); err != nil {
		return fmt.Errorf("warm-up turn: %w", err)
	}
	quiesce(ctx, pid)
	cpu0, err := CPUTime(pid)
	if err != nil {
		return err
	}
	m0, p0 := model.Accepted(), mcpSrv.Accepted()
	// The turns run in rounds (every chat's next RoundTurns turns), so that
	// the CPU per turn of a chat's first and last turns can be told apart.
	var times []time.Duration
	last := cpu0
	for done := 0; done < cfg.Turns; done += RoundTurns {
		t, err := each(ctx, chats, min(RoundTurns, cfg.Turns-done), cfg.Think, func(c *Chat) error { return c.Turn(ctx) })
		if err != nil {
			return err
		}
		now, err := CPUTime(pid)
		if err != nil {
			return err
		}
		rep.RoundCPUPerTurn = append(rep.RoundCPUPerTurn, (now-last)/time.Duration(len(t)))
		last = now
		times = append(times, t...)
	}
	cpu1 := last
	rep.Turns = len(times)
	rep.AgentP50, rep.AgentP99 = percentile(times, 50), percentile(times, 99)
	rep.CPUPerTurn = (cpu1 - cpu0) / time.Duration(len(times))
	rep.ModelConnsPerTurn = float64(model.Accepted()-m0) / float64(len(times))
	rep.MCPConnsPerTurn = float64(mcpSrv.Accepted()-p0) / float64(len(times))
	return nil
}

// runDirect makes the same calls as the turns, from cfg.Chats workers: in
// a process of its own when cfg.DirectBin is set (so its CPU time is
// measured), else in this one (CPU time not measured).
func runDirect(ctx context.Context, cfg Config, rep *Report, modelURL, mcpURL string) error {
	dc := DirectConfig{ModelURL: modelURL, MCPURL: mcpURL, Chats: cfg.Chats, Turns: cfg.Turns, Think: cfg.Think, MCPClient: cfg.DirectMCPClient}
	if cfg.DirectBin != "" {
		res, err := RunDirectProcess(ctx, cfg.DirectBin, dc)
		if err != nil {
			return err
		}
		rep.DirectP50, rep.DirectP99, rep.DirectCPUPerTurn = res.P50, res.P99, res.CPUPerTurn
		return nil
	}
	res, err := RunDirect(ctx, dc)
	if err != nil {
		return err
	}
	rep.DirectP50, rep.DirectP99 = res.P50, res.P99
	return nil
}

// each runs turn n times on every item concurrently (one goroutine per
// item, its turns in sequence) and returns every turn's duration.
func each[T any](ctx context.Context, items []T, n int, think time.Duration, turn func(T) error) ([]time.Duration, error) {
	var mu sync.Mutex
	var times []time.Duration
	var first error
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() {
			local := make([]time.Duration, 0, n)
			for k := range n {
				pause := think
				if k == 0 {
					pause = think * time.Duration(i) / time.Duration(len(items))
				}
				if !wait(ctx, pause) {
					break
				}
				start := time.Now()
				if err := turn(it); err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			times = append(times, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("load run: %w", context.Cause(ctx))
	}
	return times, first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// dialMany opens n chats for users first…first+n-1, 32 at a time.
func dialMany(ctx context.Context, wsURL string, first, n int) ([]*Chat, error) {
	const parallel = 32
	out := make([]*Chat, n)
	errs := make(chan error, parallel)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := Dial(ctx, wsURL, first+i)
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			out[i] = c
		})
	}
	wg.Wait()
	open := slices.DeleteFunc(out, func(c *Chat) bool { return c == nil })
	select {
	case err := <-errs:
		return open, err
	default:
		return open, nil
	}
}

func closeAll(chats []*Chat) {
	for _, c := range chats {
		c.Close()
	}
}

// quiesce waits (up to 5 s) until the server's CPU time stops growing for
// 200 ms: connections it is still setting up or closing would count in
// the next measurement.
func quiesce(ctx context.Context, pid int) {
	last, _ := CPUTime(pid)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !wait(ctx, 200*time.Millisecond) {
			return
		}
		now, err := CPUTime(pid)
		if err != nil || now == last {
			return
		}
		last = now
	}
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// server is the `serve` child process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	mu      sync.Mutex
	metrics string // address of its metrics listener, once logged
	done    chan error
	once    sync.Once
	err     error
	tail    *tail
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// scrape reads the server's ai_agent_* series (histogram buckets left out)
// from its metrics listener.
func (s *server) scrape(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	addr := s.metrics
	s.mu.Unlock()
	if addr == "" {
		return nil, fmt.Errorf("%w: no metrics listener in its log", ErrServer)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "ai_agent_") && !strings.Contains(l, "_bucket{") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	return out, nil
}

func startServer(ctx context.Context, bin, agentsFile string, env []string) (*server, error) {
	cmd := exec.Command(bin, "serve", "--config", agentsFile, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	t := &tail{}
	cmd.Stderr = t
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", ErrServer, bin, err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1), tail: t}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				s.mu.Lock()
				s.metrics = m[1]
				s.mu.Unlock()
			}
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			_, _ = t.Write([]byte(line + "\n"))
		}
		s.done <- cmd.Wait()
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case s.addr = <-addr:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("%w: exited before listening: %v\n%s", ErrServer, err, t)
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	<-s.done
	return nil, fmt.Errorf("%w: not listening after 30s\n%s", ErrServer, t)
}

// stop sends SIGTERM and waits (up to 30 s) for the server to finish.
func (s *server) stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(30 * time.Second)
		defer timer.Stop()
		select {
		case err := <-s.done:
			if err != nil {
				s.err = fmt.Errorf("%w: %w\n%s", ErrServer, err, s.tail)
			}
		case <-timer.C:
			_ = s.cmd.Process.Kill()
			<-s.done
			s.err = fmt.Errorf("%w: did not stop within 30s of SIGTERM\n%s", ErrServer, s.tail)
		}
	})
	return s.err
}

// tail keeps the last lines the server wrote, for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for l := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		t.lines = append(t.lines, l)
		if len(t.lines) > 20 {
			t.lines = t.lines[1:]
		}
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
