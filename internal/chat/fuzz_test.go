package chat

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseFrame: any text from the browser is a reply, a stop, a prompt
// or an invalid frame with a classified error; a prompt is never empty and
// keeps the user's input.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`{"prompt":"list pods","context":{"namespace":"default","cluster":"local"}}`,
		`{"prompt":"x","context":[{"key":"a","value":1}],"agent":"rancher","tags":["confirmation"],"labels":{"k":"v"}}`,
		`{"prompt":"x","tools":{"ui":[{"name":"t"}]}}`,
		`{"context":{}}`, `{"prompt":""}`, `{"prompt":1}`, `{`, `plain text`, "  ", ReplyAuthConfirmed, ReplyStop,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fr := parseFrame(text)
		switch fr.Kind {
		case kindReply:
			if fr.Reply != text {
				t.Fatalf("reply %q from %q", fr.Reply, text)
			}
		case kindStop:
			if text != ReplyStop {
				t.Fatalf("stop from %q", text)
			}
		case kindInvalid:
			if !errors.Is(fr.Err, errInvalidFrame) || fr.Err.Error() == "" {
				t.Fatalf("invalid frame error %v", fr.Err)
			}
		case kindPrompt:
			if strings.TrimSpace(fr.Prompt.Text) == "" {
				t.Fatalf("empty prompt from %q", text)
			}
			if fr.Prompt.UserInput != "" && !strings.HasPrefix(fr.Prompt.Text, fr.Prompt.UserInput) {
				t.Fatalf("prompt text %q does not start with the input %q", fr.Prompt.Text, fr.Prompt.UserInput)
			}
		default:
			t.Fatalf("kind %v", fr.Kind)
		}
	})
}
