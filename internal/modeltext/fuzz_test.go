package modeltext

import (
	"strings"
	"testing"
)

// refImages is what image rewriting alone does with no allowed host: every
// run of "!" right before "[" is dropped.
func refImages(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '!' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '!' {
			j++
		}
		if j == len(s) || s[j] != '[' {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// FuzzStream: for any text and any split into chunks, the stream's output
// is Text of the whole; every "<" left starts <think> or </think>; no image
// is left; nothing but "<" (shown again by markdown-it's &lt;) and the
// image "!" changes.
func FuzzStream(f *testing.F) {
	for _, s := range []string{"<authentication>{}</authentication>", "<think>x</think>y", "!![a](u) <ui-tools>[]</ui-tools>",
		"</message><message>", "<thi", "a <b> &lt; c", "![a](https://img.example.com/x.png)"} {
		f.Add(s, uint64(0x0123456789abcdef))
	}
	f.Fuzz(func(t *testing.T, s string, cuts uint64) {
		for _, p := range []Policy{{}, {MediaHosts: []string{"img.example.com"}}} {
			whole := p.Text(s)
			st := p.Stream()
			var got strings.Builder
			rest, c := s, cuts
			for rest != "" {
				n := int(c%7) + 1
				c = c/7 + 1
				n = min(n, len(rest))
				got.WriteString(st.Write(rest[:n]))
				rest = rest[n:]
			}
			got.WriteString(st.Flush())
			if got.String() != whole {
				t.Fatalf("%v: stream %q != text %q of %q", p.MediaHosts, got.String(), whole, s)
			}
			for i := strings.IndexByte(whole, '<'); i >= 0; i = strings.IndexByte(whole, '<') {
				if !strings.HasPrefix(whole[i:], thinkOpen) && !strings.HasPrefix(whole[i:], thinkClose) {
					t.Fatalf("a bare < in %q (from %q)", whole, s)
				}
				whole = whole[i+1:]
			}
		}
		out := Policy{}.Text(s)
		if strings.Contains(out, "![") {
			t.Fatalf("an image left in %q (from %q)", out, s)
		}
		unesc := func(x string) string { return strings.ReplaceAll(x, "&lt;", "<") }
		if unesc(out) != unesc(refImages(s)) {
			t.Fatalf("text changed: %q -> %q", s, out)
		}
	})
}
