package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// CountingListener counts the TCP connections it accepts.
type CountingListener struct {
	net.Listener
	accepted atomic.Int64
}

// Listen listens on a free loopback port.
func Listen() (*CountingListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &CountingListener{Listener: ln}, nil
}

// Accept implements net.Listener.
func (l *CountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// Accepted is the number of connections accepted so far.
func (l *CountingListener) Accepted() int64 { return l.accepted.Load() }

// Server is an HTTP server on a CountingListener.
type Server struct {
	*CountingListener
	URL string
	hs  *http.Server
}

// Serve starts h on a new loopback listener.
func Serve(h http.Handler) (*Server, error) {
	ln, err := Listen()
	if err != nil {
		return nil, err
	}
	s := &Server{CountingListener: ln, URL: "http://" + ln.Addr().String(), hs: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.hs.Close() }

// wait waits d or until ctx ends; it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ToolName is the tool the fake model asks for and the MCP server serves.
const ToolName = "add"

// Answer is the text the fake model streams after the tool result.
var Answer = []string{"The sum ", "is 9."}

// Summary is the fake model's answer to a request without tools: the
// agent's summarization call, made once a chat's thread is long.
const Summary = "The user asked several times to add 4 and 5; each time the sum was 9."

// OllamaHandler is a fake Ollama /api/chat: it waits latency, then streams
// a call of ToolName when the last message is not a tool result, else the
// chunks of Answer, as NDJSON, each line flushed. A request without tools
// (summarization) gets Summary.
func OllamaHandler(latency time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role string `json:"role"`
			} `json:"messages"`
			Tools []json.RawMessage `json:"tools"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		if !wait(r.Context(), latency) {
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		fl, _ := w.(http.Flusher)
		line := func(s string) {
			_, _ = fmt.Fprintln(w, s)
			if fl != nil {
				fl.Flush()
			}
		}
		switch {
		case len(req.Tools) == 0:
			// A request without tools is the agent's summarization call.
			line(`{"message":{"role":"assistant","content":"` + Summary + `"},"done":false}`)
		case req.Messages[len(req.Messages)-1].Role != "tool":
			line(`{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"` + ToolName + `","arguments":{"a":4,"b":5}}}]},"done":false}`)
		default:
			for _, c := range Answer {
				b, _ := json.Marshal(c)
				line(`{"message":{"role":"assistant","content":` + string(b) + `},"done":false}`)
			}
		}
		line(`{"message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":10,"eval_count":5}`)
	})
	return mux
}

// MCPHandler is a go-sdk streamable-HTTP MCP server whose ToolName tool
// adds a and b after latency.
func MCPHandler(latency time.Duration) http.Handler {
	s := sdk.NewServer(&sdk.Implementation{Name: "load", Version: "v1"}, nil)
	type ab struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	sdk.AddTool(s, &sdk.Tool{Name: ToolName, Description: "Add two numbers."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in ab) (*sdk.CallToolResult, any, error) {
			if !wait(ctx, latency) {
				return nil, nil, ctx.Err()
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: fmt.Sprintf("sum is %g", in.A+in.B)}}}, nil, nil
		})
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
}

// UserToken is the R_SESS cookie of load user i; RancherHandler knows it.
func UserToken(i int) string { return fmt.Sprintf("tok-%d", i) }

// RancherHandler is a fake Rancher /v3/users?me=true: R_SESS "tok-<x>" is
// user "u-<x>"; anything else is 401.
func RancherHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("R_SESS")
		if r.URL.Path != "/v3/users" || err != nil || !strings.HasPrefix(c.Value, "tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"data":[{"id":"u-%s"}]}`, strings.TrimPrefix(c.Value, "tok-"))
	})
}

// AgentConfig is the `serve --config` document of one NONE-auth agent
// whose MCP server is mcpURL.
func AgentConfig(mcpURL string) string {
	return fmt.Sprintf(`apiVersion: ai.cattle.io/v1alpha1
kind: AIAgentConfig
metadata: {name: load, namespace: cattle-ai-agent-system}
spec:
  displayName: Load
  description: Adds numbers
  systemPrompt: You add numbers with the add tool.
  mcpURL: %s/mcp
  authenticationType: NONE
`, mcpURL)
}
