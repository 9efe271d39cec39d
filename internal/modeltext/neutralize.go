package modeltext

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Policy says how model text is shown to the user.
type Policy struct {
	// Trusted passes model text unchanged. Only mock mode sets it
	// (LLM_MOCK_ENABLED=true): the upstream UI's end-to-end tests put
	// protocol tags in rancher-ai-llm-mock's chunks.
	Trusted bool
	// MediaHosts are the hosts (lower case, "host" or "host:port") whose
	// Markdown images may stay images (ALLOWED_MEDIA_HOSTS); empty by
	// default, so every image becomes a link.
	MediaHosts []string
}

// Text neutralizes a whole text, as a stream of one chunk would.
func (p Policy) Text(s string) string {
	st := p.Stream()
	return st.Write(s) + st.Flush()
}

// Stream returns a neutralizer for one streamed answer.
func (p Policy) Stream() *Stream { return &Stream{p: p} }

// Stream neutralizes one streamed answer, chunk by chunk. Whatever the
// split, the concatenation of what Write and Flush return is Text of the
// concatenated chunks. A few bytes that cannot be decided yet (a "<" that
// may start <think>, a "!" that may start an image) are held back until
// the next chunk or Flush; an undecided image is held at most
// maxImageHold bytes.
type Stream struct {
	p    Policy
	held string
}

// Write returns what can be shown of chunk now ("" when all is held).
func (s *Stream) Write(chunk string) string {
	if s.p.Trusted {
		return chunk
	}
	buf := s.held + chunk
	out, n := s.p.scan(buf, false)
	s.held = buf[n:]
	return out
}

// Flush returns what was held back; call it at the end of the answer.
func (s *Stream) Flush() string {
	if s.p.Trusted || s.held == "" {
		return ""
	}
	out, _ := s.p.scan(s.held, true)
	s.held = ""
	return out
}

// The only tags model text may carry: the UI folds them as thoughts.
const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// maxImageHold bounds how much of "![alt](url" is held back to decide
// whether an image points at an allowed host; a longer one becomes a link.
const maxImageHold = 2048

// scan neutralizes buf and returns the output and how many bytes of buf
// it covers; the rest is held (never when final).
func (p Policy) scan(buf string, final bool) (string, int) {
	var b strings.Builder
	b.Grow(len(buf) + 16)
	i := 0
	for i < len(buf) {
		switch buf[i] {
		case '<':
			rest := buf[i:]
			switch {
			case strings.HasPrefix(rest, thinkOpen):
				b.WriteString(thinkOpen)
				i += len(thinkOpen)
			case strings.HasPrefix(rest, thinkClose):
				b.WriteString(thinkClose)
				i += len(thinkClose)
			case !final && (strings.HasPrefix(thinkOpen, rest) || strings.HasPrefix(thinkClose, rest)):
				return b.String(), i
			default:
				b.WriteString("&lt;")
				i++
			}
		case '!':
			// A run of "!" right before "[" is an image's "!" (and what
			// precedes it): all of it is dropped, so no "![" is left.
			j := i
			for j < len(buf) && buf[j] == '!' {
				j++
			}
			if j == len(buf) && !final {
				return b.String(), i
			}
			if j == len(buf) || buf[j] != '[' {
				b.WriteString(buf[i:j])
				i = j
				continue
			}
			keep, decided := p.imageAllowed(buf[j:], final)
			if !decided {
				return b.String(), i
			}
			if keep {
				b.WriteString(buf[i:j])
			}
			i = j
		default:
			j := strings.IndexAny(buf[i:], "<!")
			if j < 0 {
				j = len(buf) - i
			}
			b.WriteString(buf[i : i+j])
			i += j
		}
	}
	return b.String(), i
}

// imageAllowed decides about the image whose "[" starts s: keep is true
// when it is an inline image "![alt](url)" whose URL is on an allowed
// host; decided is false when s ends before that is known.
func (p Policy) imageAllowed(s string, final bool) (keep, decided bool) {
	if len(p.MediaHosts) == 0 {
		return false, true
	}
	w := s[:min(len(s), maxImageHold)]
	undecided := func() (bool, bool) {
		if final || len(s) >= maxImageHold {
			return false, true
		}
		return false, false
	}
	depth, k := 0, 0
	for ; k < len(w); k++ {
		if w[k] == '\\' {
			k++
			continue
		}
		if w[k] == '[' {
			depth++
		} else if w[k] == ']' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	if k >= len(w) {
		return undecided()
	}
	k++ // past "]"
	if k >= len(w) {
		return undecided()
	}
	if w[k] != '(' {
		return false, true // a reference image: its URL is not here
	}
	k++
	for k < len(w) && (w[k] == ' ' || w[k] == '\t' || w[k] == '\n') {
		k++
	}
	start := k
	for k < len(w) && w[k] != ')' && w[k] != ' ' && w[k] != '\t' && w[k] != '\n' {
		k++
	}
	if k >= len(w) {
		return undecided()
	}
	return p.allowedURL(w[start:k]), true
}

// mediaURL is the only image URL shape kept: http(s), a plain host name
// (no user info, no escapes, no backslash) and an optional port.
var mediaURL = regexp.MustCompile(`^(?i:https?)://([A-Za-z0-9.-]+)(:[0-9]{1,5})?(?:[/?#][^\s()<>\\]*)?$`)

func (p Policy) allowedURL(u string) bool {
	m := mediaURL.FindStringSubmatch(u)
	if m == nil {
		return false
	}
	host := strings.ToLower(m[1])
	for _, h := range p.MediaHosts {
		if h == host || h == host+m[2] {
			return true
		}
	}
	return false
}

var hostName = regexp.MustCompile(`^[a-z0-9.-]+$`)

// ParseMediaHosts reads ALLOWED_MEDIA_HOSTS: comma-separated host names,
// each optionally with ":port" (no scheme, no path).
func ParseMediaHosts(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		host := f
		if h, port, err := net.SplitHostPort(f); err == nil && port != "" {
			host = h
		}
		if !hostName.MatchString(host) || strings.Contains(f, "/") {
			return nil, fmt.Errorf("ALLOWED_MEDIA_HOSTS: %q is not a host name (write it as images.example.com or images.example.com:8443)", f)
		}
		out = append(out, f)
	}
	return out, nil
}
