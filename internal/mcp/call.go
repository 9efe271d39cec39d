package mcp

// This file is the agent's own tools/call over an established go-sdk session
// (MCP streamable HTTP transport, revisions 2024-11-05 to 2025-11-25, §2.1
// "Sending Messages to the Server"): go-sdk keeps connect/initialize,
// tools/list, the standalone GET stream and the session's DELETE; a
// tools/call is one POST on the session's *http.Client (so the credential,
// the 401/403 handling of authTransport and the connection pool are the
// session's) whose answer is read with encoding/json into reused buffers.
// go-sdk's own decoder allocates 32 KiB per message, three or four times per
// call, which was most of the agent's garbage per chat turn.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

const (
	// maxCallResponse bounds a tools/call answer: a JSON body, or one SSE
	// event's data.
	maxCallResponse = 16 << 20
	// callIDPrefix starts the ids of our requests: strings, so they never
	// clash with go-sdk's integer ids on the same session.
	callIDPrefix = "ai-agent-"
	// statelessVersion is the first MCP revision with a per-request _meta,
	// standard Mcp-Method/Mcp-Name headers and multi-round-trip results;
	// sessions that negotiated it call tools through go-sdk.
	statelessVersion = "2026-07-28"
	// maxResumes bounds the GET reconnections of one call's SSE stream that
	// bring no new event (SEP-1699; go-sdk's default MaxRetries).
	maxResumes = 5
	// defaultResumeDelay is the wait before resuming a stream whose server
	// sent no retry field.
	defaultResumeDelay = time.Second
	// cancelNotifyTimeout bounds the notifications/cancelled POST.
	cancelNotifyTimeout = 5 * time.Second
	// codeUnsupportedMethod is go-sdk's answer to a sampling request when the
	// client has no sampling handler.
	codeUnsupportedMethod = -31001
)

// errResponseTooLarge is matched by errors of a tools/call whose answer is
// larger than maxCallResponse. The session is kept and the call not retried.
var errResponseTooLarge = errors.New("MCP tools/call response too large")

// errMalformedResponse is matched by errors of a tools/call whose answer is
// not a JSON-RPC response to it (bad JSON, an id that is not ours). The
// session is dropped and the call not retried: the tool may have run.
var errMalformedResponse = errors.New("malformed MCP tools/call response")

// leanSession is what the lean tools/call needs of a go-sdk session.
type leanSession struct {
	endpoint  string
	hc        *http.Client // the *http.Client of the session's go-sdk transport
	sessionID string       // "" for a server without sessions
	version   string       // negotiated protocol version, sent as MCP-Protocol-Version
	maxBody   int          // bound of an answer: maxCallResponse but in tests
	seq       atomic.Uint64
}

// newLeanSession returns the lean caller of cs, or nil when its calls must go
// through go-sdk: a protocol revision of the stateless wire, or an
// elicitation handler (go-sdk validates the requested schema and the answer
// and fills in defaults, SEP-1034; that stays in one place).
func newLeanSession(m *Manager, endpoint string, hc *http.Client, cs *sdk.ClientSession) *leanSession {
	res := cs.InitializeResult()
	if m.opts.Elicit != nil || res == nil || res.ProtocolVersion == "" || res.ProtocolVersion >= statelessVersion {
		return nil
	}
	return &leanSession{endpoint: endpoint, hc: hc, sessionID: cs.ID(), version: res.ProtocolVersion, maxBody: m.maxResponse}
}

// callBuffers are one call's reusable buffers, pooled by the Manager.
type callBuffers struct {
	req  bytes.Buffer
	body []byte // a JSON answer, or the data of the SSE event being read
	line []byte // an SSE line longer than rd's buffer
	rd   *bufio.Reader
}

func (m *Manager) getBuffers() *callBuffers {
	if b, ok := m.bufs.Get().(*callBuffers); ok {
		return b
	}
	return &callBuffers{rd: bufio.NewReaderSize(nil, 4<<10)}
}

func (m *Manager) putBuffers(b *callBuffers) {
	if b.req.Cap() > 1<<20 || cap(b.body) > 1<<20 || cap(b.line) > 1<<20 {
		return // do not keep a huge answer's memory
	}
	b.req.Reset()
	b.body, b.line = b.body[:0], b.line[:0]
	b.rd.Reset(nil)
	m.bufs.Put(b)
}

// wireMessage is any JSON-RPC message of a tools/call answer stream: our
// response, a server request or a notification.
type wireMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result *wireResult     `json:"result"`
	Error  *jsonrpc.Error  `json:"error"`
}

// wireResult is the part of a CallToolResult the agent uses.
type wireResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	IsError bool `json:"isError"`
}

// toResult makes the Result. Content of a type go-sdk does not know (or
// null) fails its decoding of the answer; here too.
func (r *wireResult) toResult() (Result, error) {
	var text string
	n := 0
	for _, c := range r.Content {
		switch c.Type {
		case "text":
			n++
			text = c.Text
		case "image", "audio", "resource_link", "resource", "tool_use", "tool_result":
		default:
			return Result{}, fmt.Errorf("tools/call: %w: content of type %q", errMalformedResponse, c.Type)
		}
	}
	if n > 1 {
		var b strings.Builder
		for _, c := range r.Content {
			if c.Type == "text" {
				b.WriteString(c.Text)
			}
		}
		text = b.String()
	}
	return parseText(text, r.IsError), nil
}

// call runs one tools/call. Its errors match what go-sdk's CallTool returns
// for the same outcome as far as Manager.Call tells them apart: a JSON-RPC
// error is a *jsonrpc.Error, a forgotten session sdk.ErrSessionMissing, a
// refusal *HTTPStatusError (from authTransport), a cancellation ctx.Err().
func (s *leanSession) call(ctx context.Context, m *Manager, name string, args json.RawMessage) (Result, error) {
	if len(args) == 0 {
		args = json.RawMessage("{}")
	} else if !json.Valid(args) {
		return Result{}, fmt.Errorf("tools/call %q: arguments are not valid JSON", name)
	}
	quotedName, err := json.Marshal(name)
	if err != nil {
		return Result{}, fmt.Errorf("tools/call %q: %w", name, err)
	}
	id := callIDPrefix + strconv.FormatUint(s.seq.Add(1), 10)
	b := m.getBuffers()
	defer m.putBuffers(b)
	b.req.WriteString(`{"jsonrpc":"2.0","id":"`)
	b.req.WriteString(id)
	b.req.WriteString(`","method":"tools/call","params":{"name":`)
	b.req.Write(quotedName)
	b.req.WriteString(`,"arguments":`)
	b.req.Write(args)
	b.req.WriteString(`}}`)

	res, err := s.post(ctx, m, b, id)
	if err != nil && ctx.Err() != nil {
		m.notifyCancelled(ctx, s, id)
		return Result{}, ctx.Err()
	}
	return res, err
}

// newRequest builds a request to the session's endpoint with the session's
// MCP headers (§2.5.3 Mcp-Session-Id, §2.7 MCP-Protocol-Version).
func (s *leanSession) newRequest(ctx context.Context, method string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.endpoint, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
		req.Header["Accept"] = []string{"application/json, text/event-stream"}
	} else {
		req.Header["Accept"] = []string{"text/event-stream"}
	}
	req.Header["Mcp-Protocol-Version"] = []string{s.version}
	if s.sessionID != "" {
		req.Header["Mcp-Session-Id"] = []string{s.sessionID}
	}
	return req, nil
}

// post sends the request in b.req and reads its answer.
func (s *leanSession) post(ctx context.Context, m *Manager, b *callBuffers, id string) (Result, error) {
	req, err := s.newRequest(ctx, http.MethodPost, b.req.Bytes())
	if err != nil {
		return Result{}, fmt.Errorf("tools/call: %w", err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("tools/call: %w", err)
	}
	defer closeBody(resp)
	if err := s.checkStatus(resp); err != nil {
		return Result{}, err
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := readBounded(resp.Body, b.body[:0], resp.ContentLength, s.maxBody)
		b.body = body
		if err != nil {
			return Result{}, fmt.Errorf("tools/call: read answer: %w", err)
		}
		var msg wireMessage
		if err := json.Unmarshal(body, &msg); err != nil {
			return Result{}, fmt.Errorf("tools/call: %w: %w", errMalformedResponse, err)
		}
		if msg.Method != "" {
			return Result{}, fmt.Errorf("tools/call: %w: a %q message instead of the answer", errMalformedResponse, msg.Method)
		}
		return answer(&msg, id)
	case "text/event-stream":
		return s.readStream(ctx, m, b, resp, id)
	default:
		return Result{}, fmt.Errorf("tools/call: unsupported content type %q", ct)
	}
}

// checkStatus maps a non-2xx answer like go-sdk's transport does: 404 on a
// session is sdk.ErrSessionMissing; other failures are plain errors (retried
// on a new session), the JSON-RPC error of the body only quoted.
func (s *leanSession) checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound && s.sessionID != "" {
		return fmt.Errorf("tools/call: %w", sdk.ErrSessionMissing)
	}
	detail := ""
	if body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); err == nil {
		var msg wireMessage
		if json.Unmarshal(body, &msg) == nil && msg.Error != nil {
			detail = ": " + msg.Error.Error()
		}
	}
	return fmt.Errorf("tools/call: HTTP %d %s%s", resp.StatusCode, http.StatusText(resp.StatusCode), detail)
}

// answer turns our JSON-RPC response into a Result or error.
func answer(msg *wireMessage, id string) (Result, error) {
	if !sameID(msg.ID, id) {
		return Result{}, fmt.Errorf("tools/call: %w: answer id %s, want %q", errMalformedResponse, truncate(msg.ID), id)
	}
	if msg.Error != nil {
		return Result{}, fmt.Errorf("calling %q: %w", "tools/call", msg.Error)
	}
	if msg.Result == nil {
		return Result{}, fmt.Errorf("tools/call: %w: neither result nor error", errMalformedResponse)
	}
	return msg.Result.toResult()
}

// sameID reports whether a JSON-RPC id is our string id.
func sameID(raw json.RawMessage, id string) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == len(id)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == id
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// readStream reads the SSE answer of a tools/call (WHATWG HTML "Server-sent
// events" §9.2.6 interpretation) until our response: server requests are
// answered, notifications skipped. A stream that ends early is resumed with
// GET and Last-Event-ID when the server gave event ids (SEP-1699).
func (s *leanSession) readStream(ctx context.Context, m *Manager, b *callBuffers, resp *http.Response, id string) (Result, error) {
	var lastID string
	var delay time.Duration
	prevID := ""
	stalls := 0
	first := resp
	defer func() {
		if resp != first { // post closes the first
			closeBody(resp)
		}
	}()
	for {
		res, done, err := s.readEvents(ctx, m, b, resp.Body, id, &lastID, &delay)
		if done || err != nil {
			return res, err
		}
		if lastID == "" {
			return Result{}, errors.New("tools/call: request terminated without response")
		}
		if lastID != prevID {
			prevID, stalls = lastID, 0
		} else if stalls++; stalls > maxResumes {
			return Result{}, fmt.Errorf("tools/call: stream resumed %d times without progress", maxResumes)
		}
		closeBody(resp)
		next, err := s.resume(ctx, lastID, delay)
		if err != nil {
			resp = first
			return Result{}, err
		}
		resp = next
	}
}

// resume reopens a call's stream after delay (the server's retry field, or
// defaultResumeDelay).
func (s *leanSession) resume(ctx context.Context, lastID string, delay time.Duration) (*http.Response, error) {
	if delay <= 0 {
		delay = defaultResumeDelay
	}
	t := time.NewTimer(delay)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	req, err := s.newRequest(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, fmt.Errorf("tools/call: resume stream: %w", err)
	}
	req.Header["Last-Event-Id"] = []string{lastID}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tools/call: resume stream: %w", err)
	}
	if err := s.checkStatus(resp); err != nil {
		closeBody(resp)
		return nil, err
	}
	return resp, nil
}

// readEvents reads events from body until our response (done), an error, or
// the end of the body (neither: the caller may resume).
func (s *leanSession) readEvents(ctx context.Context, m *Manager, b *callBuffers, body io.Reader, id string, lastID *string, delay *time.Duration) (Result, bool, error) {
	b.rd.Reset(body)
	b.body = b.body[:0]
	event := ""
	hasData := false
	for {
		line, err := readLine(b, b.rd, s.maxBody)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Result{}, false, nil
			}
			return Result{}, false, fmt.Errorf("tools/call: read stream: %w", err)
		}
		if len(line) == 0 { // dispatch
			if hasData && (event == "" || event == "message") {
				res, done, err := s.handleEvent(ctx, m, b.body, id)
				if done || err != nil {
					return res, done, err
				}
			}
			b.body, event, hasData = b.body[:0], "", false
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if len(b.body)+len(value)+1 > s.maxBody {
				return Result{}, false, fmt.Errorf("tools/call: %w (over %d bytes)", errResponseTooLarge, s.maxBody)
			}
			if hasData {
				b.body = append(b.body, '\n')
			}
			b.body, hasData = append(b.body, value...), true
		case "event":
			event = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				*lastID = string(value)
			}
		case "retry":
			if n, err := strconv.ParseUint(string(value), 10, 32); err == nil {
				*delay = time.Duration(n) * time.Millisecond
			}
		}
	}
}

// readLine returns the next line without its end of line (LF or CRLF); the
// slice is valid until the next read.
func readLine(b *callBuffers, rd *bufio.Reader, limit int) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		b.line = append(b.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(b.line) > limit {
				return nil, fmt.Errorf("%w (an SSE line over %d bytes)", errResponseTooLarge, limit)
			}
			line, err = rd.ReadSlice('\n')
			b.line = append(b.line, line...)
		}
		line = b.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF // a cut line: the connection dropped
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// handleEvent handles one JSON-RPC message of the stream.
func (s *leanSession) handleEvent(ctx context.Context, m *Manager, data []byte, id string) (Result, bool, error) {
	var msg wireMessage
	if err := json.Unmarshal(data, &msg); err != nil {
		return Result{}, false, fmt.Errorf("tools/call: %w: %w", errMalformedResponse, err)
	}
	switch {
	case msg.Method == "":
		res, err := answer(&msg, id)
		return res, true, err
	case len(msg.ID) == 0 || string(msg.ID) == "null":
		return Result{}, false, nil // a notification: no handler is configured for any
	default:
		return Result{}, false, s.reply(ctx, m, msg.ID, msg.Method)
	}
}

// reply answers a server request as go-sdk's client does with the Manager's
// configuration (no elicitation, sampling or roots handler, no roots).
func (s *leanSession) reply(ctx context.Context, m *Manager, id json.RawMessage, method string) error {
	var outcome string
	switch method {
	case "ping":
		outcome = `"result":{}`
	case "roots/list":
		outcome = `"result":{"roots":[]}`
	case "elicitation/create":
		outcome = `"error":{"code":-32602,"message":"client does not support elicitation"}`
	case "sampling/createMessage":
		outcome = `"error":{"code":` + strconv.Itoa(codeUnsupportedMethod) + `,"message":"client does not support CreateMessage"}`
	default:
		outcome = `"error":{"code":-32601,"message":"method not found"}`
	}
	body := make([]byte, 0, 40+len(id)+len(outcome))
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = append(body, id...)
	body = append(body, ',')
	body = append(body, outcome...)
	body = append(body, '}')
	if err := s.postMessage(ctx, body); err != nil {
		return fmt.Errorf("tools/call: answer the server's %q request: %w", method, err)
	}
	m.log.Debug("answered MCP server request during tools/call", "method", method)
	return nil
}

// postMessage POSTs a notification or response (§2.1.4: the server answers
// 202 Accepted).
func (s *leanSession) postMessage(ctx context.Context, body []byte) error {
	req, err := s.newRequest(ctx, http.MethodPost, body)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	return s.checkStatus(resp)
}

// notifyCancelled tells the server that our request id is cancelled
// (notifications/cancelled), in the background like go-sdk, within
// cancelNotifyTimeout; Close waits for it.
func (m *Manager) notifyCancelled(ctx context.Context, s *leanSession, id string) {
	reason, _ := json.Marshal(ctx.Err().Error())
	body := []byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"` + id + `","reason":` + string(reason) + `}}`)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.wg.Go(func() {
		nctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cancelNotifyTimeout)
		defer stop()
		if err := s.postMessage(nctx, body); err != nil {
			m.log.Debug("sending MCP notifications/cancelled", "error", err)
		}
	})
}

// readBounded reads r into buf, failing beyond maxCallResponse bytes.
func readBounded(r io.Reader, buf []byte, size int64, limit int) ([]byte, error) {
	if size > int64(limit) {
		return buf, fmt.Errorf("%w (%d bytes, at most %d)", errResponseTooLarge, size, limit)
	}
	if size > 0 && int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, fmt.Errorf("%w (over %d bytes)", errResponseTooLarge, limit)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// closeBody drains a little of what is left, so the connection can be
// reused, and closes the body.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}
