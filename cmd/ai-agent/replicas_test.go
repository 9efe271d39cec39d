package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// replicaEnv is what two replicas share: one database, one sealing key,
// one Rancher.
func replicaEnv(t *testing.T) map[string]string {
	key := make([]byte, 32)
	rand.Read(key)
	return map[string]string{
		"DB_ENABLED": "true", "DB_CONNECTION_STRING": repDatabase(t),
		"OAUTH_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		"ACTIVE_LLM":           "scripted", "RANCHER_URL": repRancher(t), "LOG_LEVEL": "debug",
	}
}

func writeConfig(t *testing.T, yaml string) string {
	p := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clusterReplicas starts two replicas on one database with the demo MCP
// server as agent "cluster", and returns their base URLs.
func clusterReplicas(t *testing.T) (a, b string) {
	env := replicaEnv(t)
	mcp := httptest.NewServer(demo.Handler())
	t.Cleanup(mcp.Close)
	cfg := writeConfig(t, fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: cluster, namespace: cattle-ai-agent-system}
spec:
  displayName: Cluster
  description: The demo cluster
  systemPrompt: You answer about the cluster.
  mcpURL: %s/mcp
  authenticationType: NONE
`, mcp.URL))
	bin := repBuild(t)
	return repStart(t, bin, repFreeAddr(t), cfg, env), repStart(t, bin, repFreeAddr(t), cfg, env)
}

// TestReplicasShareChats: a chat started on replica A continues on B, with
// its history, and both serve the same chats API.
func TestReplicasShareChats(t *testing.T) {
	a, b := clusterReplicas(t)
	id := uuid.NewString()

	for i, tc := range []struct{ base, answer, prompt string }{
		{a, "hi", "first question"}, {b, "again", "second question"},
	} {
		if code, body := repDo(t, "POST", tc.base+"/v1/control/push", "", `{"text":{"chunks":["`+tc.answer+`"]}}`); code != 204 {
			t.Fatalf("push: %d %s", code, body)
		}
		c := repDial(t, tc.base, "/v1/ws/messages/"+id, "alice")
		if md := c.Metadata(); md["chatId"] != id || md["storageType"] != "postgres" {
			t.Fatalf("replica %d metadata = %v", i, md)
		}
		c.Send(`{"prompt":"` + tc.prompt + `","context":{}}`)
		if got := strings.Join(c.Until("</message>"), "|"); got != "<message>|"+tc.answer+"|</message>" {
			t.Fatalf("replica %d turn = %s", i, got)
		}
		c.WS.CloseNow()
	}

	code, body := repDo(t, "GET", b+"/v1/api/chats/"+id+"/messages", "alice", "")
	var rows []struct{ Role, Message string }
	if code != 200 || json.Unmarshal([]byte(body), &rows) != nil {
		t.Fatalf("messages on B = %d %s", code, body)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Role+":"+r.Message)
	}
	if want := "user:first question,agent:hi,user:second question,agent:again"; strings.Join(got, ",") != want {
		t.Fatalf("history on B = %v, want %s", got, want)
	}
	code, body = repDo(t, "GET", a+"/v1/api/chats", "alice", "")
	if code != 200 || !strings.Contains(body, `"id":"`+id+`"`) || !strings.Contains(body, `"name":"first question"`) {
		t.Fatalf("chats on A = %d %s", code, body)
	}
	if code, _ := repDo(t, "GET", a+"/v1/api/chats/"+id, "bob", ""); code != 404 {
		t.Fatalf("bob reads alice's chat: %d, want 404", code)
	}
	if code, body := repDo(t, "GET", b+"/v1/api/settings", "alice", ""); !strings.Contains(body, `"storageType":"postgres"`) {
		t.Fatalf("settings on B = %d %s", code, body)
	}
	if code, _ := repDo(t, "DELETE", b+"/v1/api/chats/"+id, "alice", ""); code != 204 {
		t.Fatalf("delete on B = %d", code)
	}
	if code, _ := repDo(t, "GET", a+"/v1/api/chats/"+id, "alice", ""); code != 404 {
		t.Fatalf("chat deleted on B still on A: %d", code)
	}
}

// TestReplicasShareOAuth: a sign-in started on A completes through B's
// callback; a refresh on B is what A refreshes from next; concurrent
// refreshes on both replicas make one token request.
func TestReplicasShareOAuth(t *testing.T) {
	env := replicaEnv(t)
	const accessTTL = time.Hour
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}, RotateRefreshTokens: true, AccessTokenTTL: accessTTL})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}})
	cfg := ghConfig(t, pm.URL, "")
	addrA, addrB := repFreeAddr(t), repFreeAddr(t)
	env["OAUTH_REDIRECT_URI"] = "http://" + addrB + "/v1/api/oauth2/callback"
	// The replicas run in this process, on one clock that the test moves
	// past the window in which a fresh token is shared (they share nothing
	// else but the database: the server keeps no package-level state).
	clock := &testClock{}
	getenv := func(k string) string { return env[k] }
	a, _, _ := runServeAt(t, clock.Now, []string{"--listen", addrA, "--config", cfg}, getenv)
	b, _, _ := runServeAt(t, clock.Now, []string{"--listen", addrB, "--config", cfg}, getenv)
	a, b = "http://"+a, "http://"+b

	// (b) Sign-in started on A, callback on B.
	c := repDial(t, a, "/v1/ws/messages", "alice")
	c.Metadata()
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame %q, want <message>", f)
	}
	f := c.Read()
	payload, ok := strings.CutPrefix(f, "<authentication>")
	payload, ok2 := strings.CutSuffix(payload, "</authentication>")
	var auth struct{ URL string }
	if !ok || !ok2 || json.Unmarshal([]byte(payload), &auth) != nil || auth.URL == "" {
		t.Fatalf("frame %q, want <authentication>", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := as.Approve(ctx, auth.URL, "alice")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if !strings.HasPrefix(cb.String(), b) {
		t.Fatalf("callback %s is not on replica B", cb)
	}
	if code, page := repDo(t, "GET", cb.String(), "alice", ""); code != 200 || !strings.Contains(page, "oauth_success") {
		t.Fatalf("callback on B = %d %s", code, page)
	}
	c.Send("authentication_confirmed")
	if got := c.Until("</message>"); len(got) != 1 {
		t.Fatalf("after confirmation on A: %q, want only </message>", got)
	}

	// (c) A refresh on B rotates the refresh token; A's next refresh works
	// only if A reads the rotated one from the shared store.
	refresh := func(base string) {
		if code, body := repDo(t, "POST", base+"/v1/api/oauth2/refresh", "alice", `{"agent":"gh"}`); code != 200 {
			t.Errorf("refresh on %s = %d %s", base, code, body)
		}
	}
	// Each refresh comes after the window in which a fresh token is shared.
	before := as.TokenRequests().RefreshToken
	clock.Advance(2500 * time.Millisecond)
	refresh(b)
	clock.Advance(2500 * time.Millisecond)
	refresh(a)
	if n := as.TokenRequests().RefreshToken - before; n != 2 {
		t.Fatalf("refreshes on B then A made %d token requests, want 2", n)
	}

	// (d) Single flight across replicas: concurrent refreshes on both
	// replicas take the shared lock in turn; the first refreshes, the
	// others find the token it just obtained and reuse it.
	clock.Advance(2500 * time.Millisecond)
	before = as.TokenRequests().RefreshToken
	var wg sync.WaitGroup
	for range 3 {
		for _, base := range []string{a, b} {
			wg.Go(func() { refresh(base) })
		}
	}
	wg.Wait()
	if n := as.TokenRequests().RefreshToken - before; n != 1 {
		t.Fatalf("6 concurrent refreshes on 2 replicas made %d token requests, want 1", n)
	}
}
