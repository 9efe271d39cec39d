package jsonbytes

import (
	"encoding/json"
	"testing"
)

func TestAppendStringIsMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<b>&</b>", "\b\f\n\r\t\x00\x1f\x7f", "é ✓ 🙂",
		"\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x80", "\xed\xa0\x80"} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s want x%s", s, got, want)
		}
	}
}

func FuzzAppendStringIsMarshal(f *testing.F) {
	f.Add("line\nsep\u2028 \x00 \xff <&>")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
