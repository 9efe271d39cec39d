package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/server"
)

// TestAgentsListForAdministrators: GET /v1/api/agents lists every agent
// with its status and reason for a user who may configure agents, 403 for
// the others and 401 without a session; readiness stays 200 with a broken
// agent.
func TestAgentsListForAdministrators(t *testing.T) {
	ms := startMath(t)
	broken := newAgent("broken", "")
	broken.ConfigError = `secret "missing" not found`
	e := newEnvOpts(t, func(o *server.Options) {
		o.AgentStatus = func(a agentconfig.Agent) (string, string) {
			if a.ConfigError != "" {
				return "error", "spec.authenticationSecret: " + a.ConfigError
			}
			return "active", ""
		}
	}, newAgent("math", ms.url()), broken)
	get := func(path, cookie string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := get("/v1/api/agents", "R_SESS=tok-alice")
	if code != http.StatusOK {
		t.Fatalf("admin: %d %s", code, body)
	}
	var got struct{ Agents []server.AgentInfo }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Agents) != 2 || got.Agents[0].Name != "math" || got.Agents[0].Status != "active" || got.Agents[0].Reason != "" ||
		got.Agents[1].Name != "broken" || got.Agents[1].Status != "error" || got.Agents[1].Reason != `spec.authenticationSecret: secret "missing" not found` {
		t.Fatalf("agents: %s", body)
	}
	if code, body := get("/v1/api/agents", "R_SESS=tok-bob"); code != http.StatusForbidden {
		t.Fatalf("non-admin: %d %s", code, body)
	}
	if code, body := get("/v1/api/agents", ""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d %s", code, body)
	}
	if code, body := get("/v1/api/readiness", ""); code != http.StatusOK {
		t.Fatalf("readiness with a broken agent: %d %s", code, body)
	}
}
