package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/demo"
)

// Faults proven through `serve`: a failing peer ends in one clear message
// to the user, inside the turn's <message> (or as the chat's first frame),
// and the connection goes on serving.

// faultUsers is a Rancher /v3/users stub: every request is user u-fault.
func faultUsers(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"u-fault"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// hijackClose drops the connection of w without an HTTP answer.
func hijackClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// TestFaultModel: an Ollama that answers 500 (before the first byte, after
// the retries) and one that drops the stream mid-answer. The user sees the
// partial text and an <error> naming the failure; the next turn works.
func TestFaultModel(t *testing.T) {
	var mode string
	ollama := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"model crashed"}`)
		case "midstream":
			w.Header().Set("Content-Type", "application/x-ndjson")
			fmt.Fprintln(w, `{"message":{"content":"Half an "},"done":false}`)
			w.(http.Flusher).Flush()
			hijackClose(t, w)
		default:
			fmt.Fprintln(w, `{"message":{"content":"Fine again."},"done":true,"prompt_eval_count":3,"eval_count":2}`)
		}
	}))
	defer ollama.Close()
	env := map[string]string{"RANCHER_URL": faultUsers(t), "RANCHER_API_TOKEN": "t", "STORAGE": "memory",
		"ACTIVE_LLM": "ollama", "OLLAMA_URL": ollama.URL, "OLLAMA_MODEL": "m"}
	mcp := httptest.NewServer(demo.Handler())
	defer mcp.Close()
	cfg := writeConfig(t, fmt.Sprintf("apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: c}\nspec:\n  displayName: C\n  mcpURL: %s/mcp\n  authenticationType: NONE\n", mcp.URL))
	addr, _, stop := runServe(t, []string{"--config", cfg}, func(k string) string { return env[k] })
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "")
	c.Read()

	mode = "500"
	frames := c.Ask(`{"prompt":"hello","context":{}}`)
	t.Logf("model 500 before the first byte: %q", frames)
	if len(frames) != 3 || !strings.HasPrefix(frames[1], `<error>{"message":"model: ollama: HTTP 500 Internal Server Error: model crashed"`) {
		t.Errorf("500: %q", frames)
	}
	mode = "midstream"
	frames = c.Ask(`{"prompt":"hello again","context":{}}`)
	t.Logf("model drops mid-stream: %q", frames)
	if len(frames) != 4 || frames[1] != "Half an " || !strings.HasPrefix(frames[2], `<error>{"message":"model: `) || !strings.Contains(frames[2], "LLM") {
		t.Errorf("mid-stream: %q", frames)
	}
	mode = ""
	if frames := c.Ask(`{"prompt":"and now?","context":{}}`); strings.Join(frames, "|") != "<message>|Fine again.|</message>" {
		t.Errorf("after the faults: %q", frames)
	}
	stop()
}

// fakeAS is an MCP server that answers 401 and an authorization server
// whose registration and token endpoints fail as fault says.
type fakeAS struct {
	*httptest.Server
	fault   string // "registration-500", "registration-html", "registration-slow"
	release chan struct{}
}

func startFakeAS(t *testing.T, fault string) *fakeAS {
	f := &fakeAS{fault: fault, release: make(chan struct{})}
	mux := http.NewServeMux()
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(f.release) }) // runs first: a slow handler never outlives the test
	base := f.URL
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": base + "/mcp", "authorization_servers": []string{base}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": base, "authorization_endpoint": base + "/authorize",
			"token_endpoint": base + "/token", "registration_endpoint": base + "/register",
			"code_challenge_methods_supported": []string{"S256"}, "response_types_supported": []string{"code"}})
	})
	fail := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(f.fault, "-500"):
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"server_error"}`)
		case strings.HasSuffix(f.fault, "-html"):
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in to the corporate proxy</body></html>")
		case strings.HasSuffix(f.fault, "-slow"):
			select { // until our client gives up
			case <-r.Context().Done():
			case <-f.release:
			}
		}
	}
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(f.fault, "registration") {
			fail(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"client_id":"fake-client","token_endpoint_auth_method":"none"}`)
	})
	mux.HandleFunc("/token", fail)
	return f
}

// oauthFaultServe runs serve with one OAUTH2 agent on mcpURL and returns
// the connection right after <chat-metadata>.
func oauthFaultServe(t *testing.T, mcpURL string) (*chattest.Client, string) {
	env := map[string]string{"RANCHER_URL": faultUsers(t), "RANCHER_API_TOKEN": "t", "STORAGE": "memory", "ACTIVE_LLM": "scripted",
		"OAUTH_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	addr, _, _ := runServe(t, []string{"--config", ghConfig(t, mcpURL, "")}, func(k string) string { return env[k] })
	c := dialWS(t, "ws://"+addr+"/v1/ws/messages", "")
	return c, addr
}

// TestFaultAuthorizationServerRegistration: the authorization server's
// registration endpoint answers 500, an HTML page, or nothing within the
// outbound timeout. The eager sign-in of the only agent ends in one
// <auth-error> that says what failed, and the chat stays open.
func TestFaultAuthorizationServerRegistration(t *testing.T) {
	for _, fault := range []string{"registration-500", "registration-html", "registration-slow"} {
		t.Run(fault, func(t *testing.T) {
			if fault == "registration-slow" && testing.Short() {
				t.Skip("waits for the 10s outbound timeout")
			}
			c, _ := oauthFaultServe(t, startFakeAS(t, fault).URL+"/mcp")
			if f := c.Read(); !strings.Contains(f, `{"name":"gh","status":"active"}`) {
				t.Fatalf("metadata %q", f)
			}
			var frames []string
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			for len(frames) == 0 || frames[len(frames)-1] != "</message>" {
				_, b, err := c.WS.Read(ctx)
				if err != nil {
					t.Fatalf("read after %q: %v", frames, err)
				}
				frames = append(frames, string(b))
			}
			t.Logf("%s: %q", fault, frames)
			if len(frames) != 3 || frames[0] != "<message>" || !strings.HasPrefix(frames[1], `<auth-error>{"message":"`) {
				t.Fatalf("frames %q", frames)
			}
			want := "registration failed"
			if !strings.Contains(strings.ToLower(frames[1]), want) {
				t.Errorf("message %q does not say %q", frames[1], want)
			}
		})
	}
}

// TestFaultAuthorizationServerDown: the authorization server named by the
// MCP server's metadata does not answer. The agent is reported in error in
// <chat-metadata>; with only that agent the chat answers <chat-error>
// naming it.
func TestFaultAuthorizationServerDown(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	// The MCP server's PRM names an authorization server on a closed port.
	mux := http.NewServeMux()
	mcp := httptest.NewServer(mux)
	defer mcp.Close()
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+mcp.URL+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": mcp.URL + "/mcp", "authorization_servers": []string{downURL}})
	})
	c, _ := oauthFaultServe(t, mcp.URL+"/mcp")
	f := c.Read()
	t.Logf("authorization server down: %q", f)
	if !strings.HasPrefix(f, `<chat-error>{"message":"`) && !strings.Contains(f, `"status":"error"`) {
		t.Fatalf("frame %q", f)
	}
	if !strings.Contains(f, "gh") {
		t.Errorf("message %q does not name the agent", f)
	}
}
