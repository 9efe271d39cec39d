package chattest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Timeouts of a dial or a send, and of each read: long enough for a turn
// on a loaded CI machine; a test that hangs fails instead.
const (
	writeTimeout = 10 * time.Second
	readTimeout  = 20 * time.Second
)

// Client is one browser tab's WebSocket.
type Client struct {
	// WS is the connection, for what the helpers do not cover (closing
	// with a status, a binary frame).
	WS *websocket.Conn
	tb testing.TB
}

// Dial opens url (ws:// or http://) with the handshake headers h (Cookie,
// Origin; a Host header sets the request's host), failing tb when it
// cannot.
func Dial(tb testing.TB, url string, h http.Header) *Client {
	tb.Helper()
	c, _, err := DialErr(tb, url, h)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// DialErr is Dial that returns the error and the handshake response
// instead, for tests of a refused handshake.
func DialErr(tb testing.TB, url string, h http.Header) (*Client, *http.Response, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: h}
	if host := h.Get("Host"); host != "" {
		opts.Host = host
	}
	if rest, ok := strings.CutPrefix(url, "http"); ok {
		url = "ws" + rest
	}
	ws, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(1 << 20)
	tb.Cleanup(func() { ws.CloseNow() })
	return &Client{WS: ws, tb: tb}, resp, nil
}

// Cookie is the handshake header of a browser that sends cookie ("" for
// none).
func Cookie(cookie string) http.Header {
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return h
}

// Send sends one text frame.
func (c *Client) Send(frame string) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := c.WS.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.tb.Fatalf("send: %v", err)
	}
}

// Read reads the next frame.
func (c *Client) Read() string {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	_, b, err := c.WS.Read(ctx)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return string(b)
}

// Until reads frames up to and including the first one equal to last.
func (c *Client) Until(last string) []string {
	c.tb.Helper()
	return c.until(func(f string) bool { return f == last })
}

// UntilPrefix reads frames up to and including the first one that starts
// with prefix.
func (c *Client) UntilPrefix(prefix string) []string {
	c.tb.Helper()
	return c.until(func(f string) bool { return strings.HasPrefix(f, prefix) })
}

// Turn reads the frames of one answer, up to and including </message>.
func (c *Client) Turn() []string {
	c.tb.Helper()
	return c.Until("</message>")
}

func (c *Client) until(last func(string) bool) []string {
	c.tb.Helper()
	var out []string
	for {
		f := c.Read()
		out = append(out, f)
		if last(f) {
			return out
		}
	}
}

// Metadata reads the next frame, which must be <chat-metadata>, and
// decodes it.
func (c *Client) Metadata() map[string]any {
	c.tb.Helper()
	f := c.Read()
	body, ok := strings.CutPrefix(f, "<chat-metadata>")
	body, ok2 := strings.CutSuffix(body, "</chat-metadata>")
	var m map[string]any
	if !ok || !ok2 || json.Unmarshal([]byte(body), &m) != nil {
		c.tb.Fatalf("frame = %q, want <chat-metadata>", f)
	}
	return m
}

// Closed reads until the server closes the socket and returns the close
// status; a frame instead fails the test.
func (c *Client) Closed() websocket.StatusCode {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	_, b, err := c.WS.Read(ctx)
	if err == nil {
		c.tb.Fatalf("frame %q, want a close", b)
		return -1
	}
	s := websocket.CloseStatus(err)
	if s == -1 {
		c.tb.Fatalf("read: %v, want a close", err)
	}
	return s
}

// Ask sends a prompt frame and reads its answer (Turn).
func (c *Client) Ask(prompt string) []string {
	c.tb.Helper()
	c.Send(prompt)
	return c.Turn()
}
