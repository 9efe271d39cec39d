package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/demo"
)

// TestConfirmationSurvivesRestart: a turn paused on a human decision is in
// the SQLite file; after the server restarts, "yes" on the same chat runs
// the tool and the conversation goes on.
func TestConfirmationSurvivesRestart(t *testing.T) {
	mcpSrv := httptest.NewServer(demo.Handler())
	defer mcpSrv.Close()
	rancher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"u-1"}]}`)
	}))
	defer rancher.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agents.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: cluster}
spec:
  displayName: Cluster
  mcpURL: %s/mcp
  humanValidationTools: [scaleDeployment]
`, mcpSrv.URL)), 0o600)
	vars := map[string]string{"RANCHER_URL": rancher.URL, "ACTIVE_LLM": "scripted", "STORAGE": "sqlite", "SQLITE_PATH": filepath.Join(dir, "chats.db")}
	start := func(push string) (string, func()) {
		addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return vars[k] })
		if resp, err := http.Post("http://"+addr+"/v1/control/push", "application/json", strings.NewReader(push)); err != nil || resp.StatusCode != 204 {
			t.Fatalf("push: %v %v", resp, err)
		}
		return addr, stop
	}
	addr, stop := start(`{"mcpTool":{"name":"scaleDeployment","args":{"name":"web","replicas":3}},"text":{"chunks":["unused"]}}`)
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages/restart-1", "R_SESS=tok")
	c.Read()
	frames := c.Ask(`{"prompt":"scale web to 3","context":{}}`)
	if len(frames) != 3 || !strings.HasPrefix(frames[1], `<confirmation-response>[{"payload":`) {
		t.Fatalf("frames %q", frames)
	}
	c.WS.CloseNow()
	stop()

	addr, stop = start(`{"text":{"chunks":["Scaled ","web."]}}`)
	defer stop()
	c = dialWS(t, "ws://"+addr+"/v1/ws/messages/restart-1", "R_SESS=tok")
	c.Read()
	frames = c.Ask(`{"prompt":"yes","context":{},"tags":["confirmation"]}`)
	if strings.Join(frames, "|") != "<message>|<mcp-doclink>https://kubernetes.io/docs/concepts/workloads/controllers/deployment/</mcp-doclink>|Scaled |web.|</message>" { // the scale tool's docLinks
		t.Fatalf("after restart: %q", frames)
	}
}
