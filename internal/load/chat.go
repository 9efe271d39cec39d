package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
)

// Prompt is the prompt every load turn sends.
const Prompt = `{"prompt":"add 4 and 5","context":{}}`

// ErrBadTurn is matched by a turn whose frames are not the expected answer.
var ErrBadTurn = errors.New("unexpected turn")

// Chat is one browser-side chat connection.
type Chat struct {
	ws *websocket.Conn
	// Metadata is the first frame, <chat-metadata>.
	Metadata string
}

// Dial opens a chat at wsURL (ws://host/v1/ws/messages) as user i and
// reads its <chat-metadata>.
func Dial(ctx context.Context, wsURL string, user int) (*Chat, error) {
	h := http.Header{}
	h.Set("Cookie", "R_SESS="+UserToken(user))
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, fmt.Errorf("dial chat: %w", err)
	}
	ws.SetReadLimit(4 << 20)
	c := &Chat{ws: ws}
	if c.Metadata, err = c.read(ctx); err != nil {
		ws.CloseNow()
		return nil, err
	}
	if !strings.HasPrefix(c.Metadata, "<chat-metadata>") || !strings.Contains(c.Metadata, `"status":"active"`) {
		ws.CloseNow()
		return nil, fmt.Errorf("%w: first frame %.200q", ErrBadTurn, c.Metadata)
	}
	return c, nil
}

func (c *Chat) read(ctx context.Context) (string, error) {
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return "", fmt.Errorf("read frame: %w", err)
	}
	return string(b), nil
}

// Turn sends Prompt and reads frames up to </message>; the text must be
// Answer.
func (c *Chat) Turn(ctx context.Context) error {
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(Prompt)); err != nil {
		return fmt.Errorf("send prompt: %w", err)
	}
	var frames []string
	for {
		f, err := c.read(ctx)
		if err != nil {
			return err
		}
		frames = append(frames, f)
		if f == "</message>" {
			break
		}
	}
	if got := strings.Join(frames, ""); !strings.HasPrefix(got, "<message>") || !strings.Contains(got, strings.Join(Answer, "")) {
		return fmt.Errorf("%w: frames %.300q", ErrBadTurn, frames)
	}
	return nil
}

// Close closes the chat.
func (c *Chat) Close() { c.ws.CloseNow() }

// Direct makes a turn's calls without the agent: the model call that asks
// for the tool, the MCP tools/call, the model call that answers.
type Direct struct {
	hc       *http.Client
	modelURL string
	// call makes the tools/call and checks its result; close ends the MCP
	// client.
	call  func(ctx context.Context) error
	close func() error
}

// The MCP clients a Direct can make its tools/call with.
const (
	// MCPClientSDK is go-sdk's client (ClientSession.CallTool), what a
	// program calling an MCP server would use.
	MCPClientSDK = "go-sdk"
	// MCPClientAgent is the agent's own client (internal/mcp's Manager, whose
	// tools/call is its own over a go-sdk session), without the rest of the
	// agent: the calls' cost with the agent's clients.
	MCPClientAgent = "agent"
)

// ErrMCPClient is matched by an MCP client name that is neither
// MCPClientSDK nor MCPClientAgent.
var ErrMCPClient = errors.New("unknown MCP client")

// NewDirect connects to the MCP server at mcpURL (…/mcp) with client
// (MCPClientSDK, the default when empty, or MCPClientAgent); hc makes the
// model calls, and go-sdk's MCP calls too.
func NewDirect(ctx context.Context, hc *http.Client, modelURL, mcpURL, client string) (*Direct, error) {
	d := &Direct{hc: hc, modelURL: modelURL}
	args := map[string]any{"a": 4, "b": 5}
	switch client {
	case "", MCPClientSDK:
		cl := sdk.NewClient(&sdk.Implementation{Name: "load-direct", Version: "v1"}, nil)
		cs, err := cl.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: mcpURL, HTTPClient: hc, DisableStandaloneSSE: true}, nil)
		if err != nil {
			return nil, fmt.Errorf("connect to MCP server: %w", err)
		}
		d.close = cs.Close
		d.call = func(ctx context.Context) error {
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: ToolName, Arguments: args})
			if err != nil {
				return err
			}
			if res.IsError || len(res.Content) == 0 {
				return fmt.Errorf("%w: tool result %+v", ErrBadTurn, res)
			}
			return nil
		}
	case MCPClientAgent:
		a := agentconfig.Agent{Name: "load", Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName: "Load", MCPURL: mcpURL, AuthenticationType: v1alpha1.AuthNone,
		}}
		cred, err := mcp.FixedHeaderCredentials(a, mcp.RancherIdentity{})
		if err != nil {
			return nil, fmt.Errorf("MCP credentials: %w", err)
		}
		// The Manager connects on the first call: the warm-up turn's.
		m := mcp.NewManager(mcp.Options{})
		raw := json.RawMessage(`{"a":4,"b":5}`)
		d.close = m.Close
		d.call = func(ctx context.Context) error {
			res, err := m.Call(ctx, a, cred, ToolName, raw)
			if err != nil {
				return err
			}
			if res.IsError || res.Raw == "" {
				return fmt.Errorf("%w: tool result %q", ErrBadTurn, res.Raw)
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("%w %q (want %s or %s)", ErrMCPClient, client, MCPClientSDK, MCPClientAgent)
	}
	return d, nil
}

// Close ends the MCP client.
func (d *Direct) Close() error { return d.close() }

// directTools is the tool list of a direct model request, as the agent
// sends it.
const directTools = `"tools":[{"type":"function","function":{"name":"` + ToolName + `","description":"Add two numbers.","parameters":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}}]`

// Turn makes the three calls in order.
func (d *Direct) Turn(ctx context.Context) error {
	if _, err := d.model(ctx, `{"model":"m","stream":true,`+directTools+`,"messages":[{"role":"user","content":"add 4 and 5"}]}`); err != nil {
		return err
	}
	if err := d.call(ctx); err != nil {
		return fmt.Errorf("tools/call: %w", err)
	}
	text, err := d.model(ctx, `{"model":"m","stream":true,`+directTools+`,"messages":[{"role":"user","content":"add 4 and 5"},{"role":"tool","content":"sum is 9"}]}`)
	if err != nil {
		return err
	}
	if text != strings.Join(Answer, "") {
		return fmt.Errorf("%w: answer %q", ErrBadTurn, text)
	}
	return nil
}

// model posts one /api/chat request and reads its stream to the end.
func (d *Direct) model(ctx context.Context, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.modelURL+"/api/chat", strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("model request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("model request: %w", err)
	}
	defer resp.Body.Close()
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ch struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(sc.Bytes()), &ch); err != nil {
			return "", fmt.Errorf("model stream: %w", err)
		}
		text.WriteString(ch.Message.Content)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("model stream: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return text.String(), nil
}

// Client is an HTTP client whose pool keeps conns idle connections per
// host, for the load tool's own calls.
func Client(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, conns
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: time.Minute}
}
