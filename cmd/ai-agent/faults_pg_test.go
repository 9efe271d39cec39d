package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/store/pgtest"
)

// startPG starts a throwaway PostgreSQL (skipping loudly, or failing under
// CI=true, when it is not installed), which the test may halt and resume,
// and returns it with the DSN of a fresh database named db.
func startPG(t *testing.T, db string) (*pgtest.Server, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	t.Cleanup(func() { pg.Stop() })
	dsn, err := pg.CreateDB(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return pg, dsn
}

// pgEnv is what replicas on dsn share.
func pgEnv(t *testing.T, dsn string) map[string]string {
	return map[string]string{"DB_ENABLED": "true", "DB_CONNECTION_STRING": dsn, "ACTIVE_LLM": "scripted", "RANCHER_URL": repRancher(t),
		"OAUTH_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "SHUTDOWN_GRACE": "200ms"}
}

func servePG(t *testing.T, cfg, listen string, env map[string]string) (string, func()) {
	t.Helper()
	addr, out, stop := runServe(t, []string{"--config", cfg, "--listen", listen}, func(k string) string { return env[k] })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve %s log:\n%s", addr, out.String())
		}
	})
	return "http://" + addr, stop
}

// TestFaultPostgresRestartedUnderLoad: three chats run turns on
// PostgreSQL; the server is halted (every connection cut) in the middle of
// one chat's turn, which streams its answer and then says it could not be
// saved; while it is down, each chat's turn ends in a clear <error> and
// </message>, and the socket stays open. Once PostgreSQL is back, the same sockets go on:
// their next turns answer and are stored after the turns from before.
func TestFaultPostgresRestartedUnderLoad(t *testing.T) {
	pg, dsn := startPG(t, "faults")
	m := startFlakyMCP(t)
	base, _ := servePG(t, noneConfig(t, m.url()), "127.0.0.1:0", pgEnv(t, dsn))
	addr := strings.TrimPrefix(base, "http://")
	const chats = 3
	conns := make([]*chattest.Client, chats)
	for i := range conns {
		conns[i] = repDial(t, base, fmt.Sprintf("/v1/ws/messages/pg-%d", i), "alice")
		conns[i].Metadata()
	}
	// turns runs one turn on every chat at once and returns their frames.
	turns := func(prompt string) [][]string {
		out := make([][]string, chats)
		var wg sync.WaitGroup
		for i, c := range conns {
			c.Send(`{"prompt":"` + prompt + `","context":{}}`)
			wg.Go(func() { out[i] = c.Until("</message>") })
		}
		wg.Wait()
		return out
	}
	for range chats {
		push(t, addr, `{"text":{"chunks":["before"]}}`)
	}
	for i, got := range turns("first") {
		if strings.Join(got, "|") != "<message>|before|</message>" {
			t.Fatalf("chat %d before the outage: %q", i, got)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Halted in the middle of chat 0's turn, while its tool runs: the
	// answer is streamed, cannot be stored, and the user is told.
	arrived, release := m.hold()
	push(t, addr, `{"mcpTool":{"name":"add","args":{"a":1,"b":2}},"text":{"chunks":["mid"]}}`)
	conns[0].Send(`{"prompt":"mid-turn","context":{}}`)
	<-arrived
	if err := pg.Halt(ctx); err != nil {
		t.Fatal(err)
	}
	release()
	mid := conns[0].Until("</message>")
	t.Logf("chat 0 halted mid-turn: %q", mid)
	if strings.Join(mid, "|") != "<message>|mid|"+notSavedError+"|</message>" {
		t.Errorf("chat 0 halted mid-turn: %q", mid)
	}
	for i, got := range turns("during") {
		t.Logf("chat %d while PostgreSQL is down: %q", i, got)
		if len(got) != 3 || got[1] != storeDownError {
			t.Errorf("chat %d during the outage: %q", i, got)
		}
	}
	if err := pg.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	for range chats {
		push(t, addr, `{"text":{"chunks":["after"]}}`)
	}
	for i, got := range turns("second") {
		if strings.Join(got, "|") != "<message>|after|</message>" {
			t.Errorf("chat %d after the outage: %q", i, got)
		}
	}
	for i := range conns {
		code, body := repDo(t, "GET", fmt.Sprintf("%s/v1/api/chats/pg-%d/messages", base, i), "alice", "")
		if code != 200 || !strings.Contains(body, `"message":"first"`) || !strings.Contains(body, `"message":"before"`) ||
			!strings.Contains(body, `"message":"second"`) || !strings.Contains(body, `"message":"after"`) {
			t.Errorf("history of chat %d: %d %s", i, code, body)
		}
	}
}

const notSavedError = `<error>{"message":"This answer could not be saved in the chat history: it will be missing when the chat is reopened."}</error>`

const storeDownError = `<error>{"message":"The chat history is unavailable right now; try again in a moment."}</error>`

// TestFaultReplicaGoneBetweenAuthorizeAndCallback: two replicas share
// PostgreSQL and the sealing key. The user's sign-in starts on replica A
// (<authentication> sent, the pending sign-in stored); A goes away before
// the user approves (shut down, or killed with SIGKILL), and the
// authorization server's redirect lands on replica B, whose callback
// completes the sign-in from the shared store. The chat reopened on B uses
// the token at once: no new sign-in, and the MCP server sees the user.
func TestFaultReplicaGoneBetweenAuthorizeAndCallback(t *testing.T) {
	t.Run("shut down", func(t *testing.T) {
		replicaGone(t, func(t *testing.T, cfg, listen string, env map[string]string) (string, func()) {
			return servePG(t, cfg, listen, env)
		})
	})
	t.Run("killed", func(t *testing.T) {
		bin := repBuild(t)
		replicaGone(t, func(t *testing.T, cfg, listen string, env map[string]string) (string, func()) {
			if strings.HasSuffix(listen, ":0") {
				listen = repFreeAddr(t)
			}
			base, proc := repProcess(t, bin, listen, cfg, env)
			return base, func() {
				if err := proc.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}

// replicaGone runs the scenario with replicas made by start, which returns
// a replica's base URL and how it goes away.
func replicaGone(t *testing.T, start func(t *testing.T, cfg, listen string, env map[string]string) (string, func())) {
	_, dsn := startPG(t, "faults")
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}})
	cfg := ghConfig(t, pm.URL, "")
	env := pgEnv(t, dsn)
	addrB := repFreeAddr(t)
	env["OAUTH_REDIRECT_URI"] = "http://" + addrB + "/v1/api/oauth2/callback"
	a, goneA := start(t, cfg, "127.0.0.1:0", env)
	b, _ := start(t, cfg, addrB, env)

	c := repDial(t, a, "/v1/ws/messages/rep-gone", "alice")
	c.Metadata()
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame %q, want <message>", f)
	}
	signIn := c.Read()
	goneA() // the socket and its sign-in end with the replica
	var last []string
	for {
		_, frame, err := c.WS.Read(context.Background())
		if err != nil {
			break
		}
		last = append(last, string(frame))
	}
	t.Logf("A's last frames: %q", last)
	if len(last) > 1 || (len(last) == 1 && last[0] != "</message>") {
		t.Errorf("A's last frames %q, want at most </message>", last)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := as.Approve(ctx, authURL(t, signIn), "alice")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if !strings.HasPrefix(cb.String(), b) {
		t.Fatalf("callback %s is not on replica B", cb)
	}
	if code, page := repDo(t, "GET", cb.String(), "alice", ""); code != 200 || !strings.Contains(page, "oauth_success") {
		t.Fatalf("callback on B: %d %s", code, page)
	}

	c = repDial(t, b, "/v1/ws/messages/rep-gone", "alice")
	if md := c.Metadata(); !strings.Contains(fmt.Sprint(md["agents"]), "status:active") {
		t.Fatalf("metadata on B: %v", md)
	}
	push(t, strings.TrimPrefix(b, "http://"), `{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["You are alice."]}}`)
	c.Send(`{"prompt":"who am I?","context":{}}`)
	if got := strings.Join(c.Until("</message>"), "|"); got != "<message>|You are alice.|</message>" {
		t.Fatalf("turn on B: %q, want the answer without a new sign-in", got)
	}
	if calls := pm.Calls(); len(calls) != 1 || calls[0] != "alice" {
		t.Errorf("MCP calls %q", calls)
	}
}
