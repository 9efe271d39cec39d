package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/store/storetest"
)

// Helpers of the fault tests (faults_*_test.go): a serve with its SQLite
// file, the chat's history as the UI reads it, the stored thread checked
// for dangling tool calls. Frames are read with chattest.Client and the model is
// scripted with push (telemetry_test.go).

// faultServe runs serve with config, the scripted model and a SQLite file
// (so that the threads can be read once it stopped); extra adds to the
// environment.
type faultServe struct {
	addr string
	db   string
	stop func()
}

func startFaultServe(t *testing.T, config string, extra map[string]string) *faultServe {
	t.Helper()
	db := filepath.Join(t.TempDir(), "chats.db")
	listen := repFreeAddr(t)
	env := map[string]string{"LOG_LEVEL": "debug", "RANCHER_URL": faultUsers(t), "RANCHER_API_TOKEN": "t", "ACTIVE_LLM": "scripted",
		"STORAGE": "sqlite", "SQLITE_PATH": db, "OAUTH_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"OAUTH_REDIRECT_URI": "http://" + listen + "/v1/api/oauth2/callback"}
	for k, v := range extra {
		env[k] = v
	}
	addr, out, stop := runServe(t, []string{"--config", config, "--listen", listen}, func(k string) string { return env[k] })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve log:\n%s", out.String())
		}
	})
	return &faultServe{addr: addr, db: db, stop: stop}
}

func (f *faultServe) dial(t *testing.T, chatID string) *chattest.Client {
	return dialWS(t, "ws://"+f.addr+"/v1/ws/messages/"+chatID, "")
}

// history is GET /v1/api/chats/{id}/messages as role:message lines.
func (f *faultServe) history(t *testing.T, chatID string) []string {
	t.Helper()
	resp, err := http.Get("http://" + f.addr + "/v1/api/chats/" + chatID + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []struct{ Role, Message string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rows) != nil {
		t.Fatalf("history of %s: HTTP %d", chatID, resp.StatusCode)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Role + ":" + r.Message
	}
	return out
}

// thread stops serve and reads a stored thread, failing on a tool call
// without its result or a result without its call.
func (f *faultServe) thread(t *testing.T, thread string) []store.Message {
	t.Helper()
	f.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := store.OpenSQLite(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, err := st.Messages(ctx, thread)
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Paired(t, thread, msgs)
}

// toolResults are the data of a thread's tool results (without the
// untrusted-data envelope the model reads them in).
func toolResults(msgs []store.Message) []string {
	var out []string
	for _, m := range msgs {
		if m.Role == llm.RoleTool {
			out = append(out, modeltext.ToolResultData(m.Content))
		}
	}
	return out
}

// authURL decodes an <authentication> frame's URL.
func authURL(t *testing.T, frame string) string {
	t.Helper()
	body, ok := strings.CutPrefix(frame, "<authentication>")
	body, ok2 := strings.CutSuffix(body, "</authentication>")
	var v struct{ URL string }
	if !ok || !ok2 || json.Unmarshal([]byte(body), &v) != nil || v.URL == "" {
		t.Fatalf("frame %q, want <authentication>", frame)
	}
	return v.URL
}

// getPage loads a URL (the callback page in the popup) and returns status and body.
func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// noSecrets fails when any of the texts holds one of the secrets (a
// token, a code, a state).
func noSecrets(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, x := range texts {
			if strings.Contains(x, s) || strings.Contains(x, url.QueryEscape(s)) {
				t.Errorf("a secret appears in %q", x)
			}
		}
	}
}
