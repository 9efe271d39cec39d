package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/rancher/ai-agent/internal/llm"
)

// Reuse on the request path of a hand-written provider (Ollama): the
// encoded tools array of a tool set is kept, stream lines are scanned with
// a pooled buffer and decoded with a pooled json.Decoder, and a request
// body is allocated once at about the size of the last one. Every pool and
// cache belongs to one provider value; nothing here is package state.
//
// Request bodies are not pooled: net/http sends the headers of a body it
// does not know to be in memory in a write of their own (Request.write,
// Go issue 22088), and gives no signal that it is done reading a body it
// knows (the NopCloser around a *bytes.Reader), so a pooled buffer would
// cost a syscall per request or could be overwritten while a retry still
// reads it.

// Bounds of what goes back to a pool: an exceptional request or line must
// not stay pinned in memory for the life of the process.
const (
	maxPooledLine = 64 << 10
	// toolsCacheSize is how many tool sets keep their encoded form (one
	// per agent with its own tools, typically one or two).
	toolsCacheSize = 8
)

// linePool hands out the buffers that scan NDJSON and SSE streams.
type linePool struct{ p sync.Pool }

func (lp *linePool) get() []byte {
	if b, ok := lp.p.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 4<<10)
}

// put returns buf (as the scanner last held it) unless it grew past
// maxPooledLine. Nothing may still refer to its bytes.
func (lp *linePool) put(buf []byte) {
	if cap(buf) <= maxPooledLine {
		lp.p.Put(&buf)
	}
}

// toolsCache keeps a provider's form of the last tool sets it was called
// with: the encoded tools array (Ollama) or the SDK's tool parameters, whose
// schemas are otherwise decoded from JSON on every call. A request's tools
// are compared with a kept copy (names, descriptions and schema bytes: a
// memory compare, much cheaper than decoding or compacting every schema
// again); a caller that changes a tool in place gets a fresh conversion.
// What it returns is shared by concurrent requests: read-only.
type toolsCache[T any] struct {
	mu      sync.Mutex
	entries []toolsEntry[T] // most recent first
}

type toolsEntry[T any] struct {
	tools []llm.Tool // a deep copy: the caller's slices may change
	form  T
}

// get returns the form of tools, from the cache or from convert.
func (c *toolsCache[T]) get(tools []llm.Tool, convert func([]llm.Tool) (T, error)) (T, error) {
	c.mu.Lock()
	for i, e := range c.entries {
		if sameTools(e.tools, tools) {
			if i > 0 {
				copy(c.entries[1:i+1], c.entries[:i])
				c.entries[0] = e
			}
			c.mu.Unlock()
			return e.form, nil
		}
	}
	c.mu.Unlock()
	form, err := convert(tools)
	if err != nil {
		return form, err
	}
	kept := make([]llm.Tool, len(tools))
	for i, t := range tools {
		kept[i] = llm.Tool{Name: t.Name, Description: t.Description, InputSchema: bytes.Clone(t.InputSchema)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) < toolsCacheSize {
		c.entries = append(c.entries, toolsEntry[T]{})
	}
	copy(c.entries[1:], c.entries[:len(c.entries)-1])
	c.entries[0] = toolsEntry[T]{tools: kept, form: form}
	return form, nil
}

// noErr adapts a conversion that cannot fail to toolsCache.get.
func noErr[T any](convert func([]llm.Tool) T) func([]llm.Tool) (T, error) {
	return func(ts []llm.Tool) (T, error) { return convert(ts), nil }
}

func sameTools(a, b []llm.Tool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Description != b[i].Description || !bytes.Equal(a[i].InputSchema, b[i].InputSchema) {
			return false
		}
	}
	return true
}

// lineDecoder decodes stream lines, each one JSON value, with one reused
// json.Decoder: json.Unmarshal builds a decoder state (and its error
// context and parse stack) for every line. A line is accepted exactly when
// json.Unmarshal accepts it: the value must end where the line ends (a
// second value or trailing bytes are an error, as for Unmarshal, though
// worded differently). After an error the lineDecoder must be dropped.
type lineDecoder struct {
	dec     *json.Decoder
	line    []byte // what Read serves next
	fed     int64  // bytes served since the decoder was made
	longest int
}

func newLineDecoder() *lineDecoder {
	l := &lineDecoder{}
	l.dec = json.NewDecoder(l)
	return l
}

// Read serves the current line, then io.EOF until the next one.
func (l *lineDecoder) Read(p []byte) (int, error) {
	if len(l.line) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.line)
	l.line = l.line[n:]
	l.fed += int64(n)
	return n, nil
}

// errTrailing is the error of a line with bytes after its value.
var errTrailing = errors.New("invalid character after top-level value")

// decode decodes line (trimmed of spaces) into v. Decoded values copy what
// they keep: line may be reused afterwards.
func (l *lineDecoder) decode(line []byte, v any) error {
	l.line = line
	l.longest = max(l.longest, len(line))
	if err := l.dec.Decode(v); err != nil {
		return err
	}
	if len(l.line) > 0 || l.dec.InputOffset() != l.fed {
		return errTrailing
	}
	return nil
}

// decoderPool hands out lineDecoders.
type decoderPool struct{ p sync.Pool }

func (dp *decoderPool) get() *lineDecoder {
	if l, ok := dp.p.Get().(*lineDecoder); ok {
		return l
	}
	return newLineDecoder()
}

// put returns l unless a decode failed (ok false) or it held a line longer
// than maxPooledLine (its buffer stays that large).
func (dp *decoderPool) put(l *lineDecoder, ok bool) {
	if ok && l.longest <= maxPooledLine {
		dp.p.Put(l)
	}
}
