package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/demo"
	"github.com/rancher/ai-agent/internal/logging/logtest"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// ghConfig is an OAUTH2 agent for the protected MCP server at mcpURL, and
// a NONE agent for the demo MCP server at clusterURL when it is set.
func ghConfig(t *testing.T, mcpURL, clusterURL string) string {
	cfg := fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: gh, namespace: cattle-ai-agent-system}
spec:
  displayName: GH
  description: gh things
  systemPrompt: You are gh.
  mcpURL: %s
  authenticationType: OAUTH2
  authenticationSecret: gh-auth
---
apiVersion: v1
kind: Secret
metadata: {name: gh-auth, namespace: cattle-ai-agent-system}
type: Opaque
data: {}
`, mcpURL)
	if clusterURL != "" {
		cfg += fmt.Sprintf(`---
apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: cluster, namespace: cattle-ai-agent-system}
spec:
  displayName: Cluster
  description: The demo cluster
  systemPrompt: You answer about the cluster.
  mcpURL: %s
  authenticationType: NONE
`, clusterURL)
	}
	return writeConfig(t, cfg)
}

func agentStatus(md map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range md["agents"].([]any) {
		m := a.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// signInAndAsk opens a chat as alice on the single OAUTH2 agent gh: it signs
// in at as when asked to (reporting whether it was), then runs a whoami turn.
func signInAndAsk(t *testing.T, base string, as *oauthtest.AuthServer) (signedIn bool) {
	t.Helper()
	c := repDial(t, base, "/v1/ws/messages", "alice")
	if st := agentStatus(c.Metadata()); st["gh"]["status"] != "active" {
		t.Fatalf("gh = %v", st["gh"])
	}
	push := `{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["done"]}}`
	if resp, err := http.Post(base+"/v1/control/push", "application/json", strings.NewReader(push)); err != nil || resp.StatusCode != 204 {
		t.Fatalf("push: %v %v", resp, err)
	}
	c.Send(`{"prompt":"who am I?","context":{}}`)
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame %q", f)
	}
	var rest []string
	f := c.Read()
	if payload, ok := strings.CutPrefix(f, "<authentication>"); ok {
		// The eager sign-in of a single agent: its own message, then the
		// queued prompt's turn.
		var auth struct{ URL string }
		if json.Unmarshal([]byte(strings.TrimSuffix(payload, "</authentication>")), &auth) != nil {
			t.Fatalf("frame %q", f)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cb, err := as.Approve(ctx, auth.URL, "alice")
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		if code, page := repDo(t, "GET", cb.String(), "alice", ""); code != 200 || !strings.Contains(page, "oauth_success") {
			t.Fatalf("callback = %d %s", code, page)
		}
		c.Send("authentication_confirmed")
		signedIn = true
		if f := c.Read(); f != "</message>" {
			t.Fatalf("after sign-in %q", f)
		}
		rest = c.Until("</message>")
	} else {
		rest = append([]string{f}, c.Until("</message>")...)
	}
	if !slices.Contains(rest, "done") {
		t.Fatalf("turn frames %q", rest)
	}
	return signedIn
}

// TestServeKeepsOAuthWorkingAcrossKeys: without OAUTH_ENCRYPTION_KEY and
// outside a cluster, serve with SQLite creates a key once in its state
// directory, so a sign-in survives a restart; the key is then rotated
// (new key first, the generated one after) and finally the old key is
// dropped, and the stored token keeps working throughout.
func TestServeKeepsOAuthWorkingAcrossKeys(t *testing.T) {
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}})
	cfg := ghConfig(t, pm.URL, "")
	dir := t.TempDir()
	addr := repFreeAddr(t)
	vars := map[string]string{
		"RANCHER_URL": repRancher(t), "ACTIVE_LLM": "scripted", "XDG_STATE_HOME": filepath.Join(dir, "state"),
		"SQLITE_PATH": filepath.Join(dir, "chats.db"), "OAUTH_REDIRECT_URI": "http://" + addr + "/v1/api/oauth2/callback",
	}
	run := func() (*logtest.Buffer, func()) {
		_, out, stop := runServe(t, []string{"--config", cfg, "--listen", addr}, func(k string) string { return vars[k] })
		return out, stop
	}
	keyPath := filepath.Join(dir, "state", "ai-agent", "oauth-encryption-key")

	out, stop := run()
	if got := waitFor(t, out, regexp.MustCompile(`"msg":"OAUTH_ENCRYPTION_KEY is not set: created an OAuth encryption key","path":"([^"]+)"`)); got != keyPath {
		t.Fatalf("key created at %s, want %s", got, keyPath)
	}
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	generated, _ := os.ReadFile(keyPath)
	if _, err := oauth.ParseKey(string(generated)); err != nil {
		t.Fatal(err)
	}
	if !signInAndAsk(t, "http://"+addr, as) {
		t.Fatal("first run: no sign-in asked")
	}
	stop()

	// Restart: the same key is read, the stored token still opens.
	out, stop = run()
	waitFor(t, out, regexp.MustCompile(`"msg":"OAUTH_ENCRYPTION_KEY is not set: (using) the OAuth encryption key in the state directory"`))
	if again, _ := os.ReadFile(keyPath); string(again) != string(generated) {
		t.Fatal("the key file changed")
	}
	if signInAndAsk(t, "http://"+addr, as) {
		t.Fatal("after a restart the user had to sign in again")
	}
	stop()

	// Rotation: a new key first, the old one after. The token opens with
	// the old key and is sealed again with the new one.
	newKey := base64.StdEncoding.EncodeToString(oauth.GenerateKey())
	vars["OAUTH_ENCRYPTION_KEY"] = newKey + "," + strings.TrimSpace(string(generated))
	out, stop = run()
	waitFor(t, out, regexp.MustCompile(`"msg":"OAuth tokens and cookies are sealed","keyId":"[0-9a-f]{8}","keys":(2)`))
	if signInAndAsk(t, "http://"+addr, as) {
		t.Fatal("with the old key second the user had to sign in again")
	}
	stop()

	// The old key retired: what it sealed was sealed again.
	vars["OAUTH_ENCRYPTION_KEY"] = newKey
	_, stop = run()
	if signInAndAsk(t, "http://"+addr, as) {
		t.Fatal("after retiring the old key the user had to sign in again")
	}
	stop()
	if got := pm.Calls(); len(got) != 4 || got[0] != "alice" {
		t.Fatalf("MCP calls %v", got)
	}
}

// TestServeWithoutOAuthKey: where no key can be made (memory store, a pod)
// an OAUTH2 agent says why in <chat-metadata> while the others work; with
// PostgreSQL a missing key stops the start.
func TestServeWithoutOAuthKey(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	cfg := ghConfig(t, "http://127.0.0.1:1/mcp", mcpSrv.URL+"/mcp")
	dir := t.TempDir()
	base := map[string]string{"RANCHER_URL": repRancher(t), "ACTIVE_LLM": "scripted", "HOME": dir}
	for _, tc := range []struct {
		name string
		vars map[string]string
	}{
		{"memory", map[string]string{"STORAGE": "memory"}},
		{"in a pod", map[string]string{"SQLITE_PATH": filepath.Join(dir, "pod.db"), "KUBERNETES_SERVICE_HOST": "10.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tc.vars {
				vars[k] = v
			}
			addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return vars[k] })
			defer stop()
			c := repDial(t, "http://"+addr, "/v1/ws/messages", "alice")
			st := agentStatus(c.Metadata())
			if st["gh"]["status"] != "error" || st["gh"]["description"] != "OAuth2 sign-in is unavailable: this server has no encryption key for OAuth tokens. An administrator must set OAUTH_ENCRYPTION_KEY (e.g. openssl rand -base64 32) and restart the agent" {
				t.Fatalf("gh = %v", st["gh"])
			}
			if st["cluster"]["status"] != "active" {
				t.Fatalf("cluster = %v", st["cluster"])
			}
			push := `{"text":{"chunks":["still ","here"]}}`
			if resp, err := http.Post("http://"+addr+"/v1/control/push", "application/json", strings.NewReader(push)); err != nil || resp.StatusCode != 204 {
				t.Fatalf("push: %v %v", resp, err)
			}
			c.Send(`{"prompt":"hello","context":{},"agent":"cluster"}`)
			if got := strings.Join(c.Until("</message>"), "|"); got != "<message>|still |here|</message>" {
				t.Fatalf("turn %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, ".local", "state", "ai-agent", "oauth-encryption-key")); err == nil {
				t.Fatal("a key was generated")
			}
		})
	}
	t.Run("sqlite with HOME", func(t *testing.T) {
		vars := map[string]string{"RANCHER_URL": base["RANCHER_URL"], "ACTIVE_LLM": "scripted", "HOME": dir, "SQLITE_PATH": filepath.Join(dir, "home.db")}
		_, out, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return vars[k] })
		stop()
		want := filepath.Join(dir, ".local", "state", "ai-agent", "oauth-encryption-key")
		if !strings.Contains(out.String(), `"path":"`+want+`"`) {
			t.Fatalf("log does not name %s:\n%s", want, out.String())
		}
	})
	t.Run("postgres", func(t *testing.T) {
		vars := map[string]string{"RANCHER_URL": base["RANCHER_URL"], "ACTIVE_LLM": "scripted", "HOME": dir,
			"DB_ENABLED": "true", "DB_CONNECTION_STRING": "postgres://127.0.0.1:1/none"}
		var out logtest.Buffer
		err := serve(context.Background(), []string{"--config", cfg, "--listen", "127.0.0.1:0"}, func(k string) string { return vars[k] }, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "OAUTH_ENCRYPTION_KEY is required with PostgreSQL") {
			t.Fatalf("err = %v", err)
		}
	})
}
