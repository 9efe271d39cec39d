package chat

import (
	"errors"
	"testing"
)

func TestParseFrameKinds(t *testing.T) {
	for in, want := range map[string]Kind{
		"authentication_confirmed": KindReply, "authentication_canceled": KindReply,
		"token_refresh_confirmed": KindReply, "<stop>": KindStop,
		"list pods": KindPrompt, `{"prompt":"x"}`: KindPrompt, `{"prompt":"x"`: KindPrompt,
		`{"prompt":5}`: KindInvalid, `{}`: KindInvalid, "   ": KindInvalid, `{"prompt":" "}`: KindInvalid,
		`{"prompt":"x","context":[1]}`: KindInvalid,
	} {
		f := ParseFrame(in)
		if f.Kind != want {
			t.Errorf("ParseFrame(%q).Kind = %v, want %v", in, f.Kind, want)
		}
		if want == KindInvalid && !errors.Is(f.Err, ErrInvalidFrame) {
			t.Errorf("ParseFrame(%q).Err = %v", in, f.Err)
		}
	}
}

func TestParseFramePromptFields(t *testing.T) {
	f := ParseFrame(`{"prompt":"why?","agent":"fleet","tools":{"name":"rancher-ai-ui","tools":["suggestions"]},` +
		`"labels":{"summary":"s"},"tags":["confirmation"],"context":{"pod":"a","cluster":"local","pod":"b","obj":{"k":1}}}`)
	p := f.Prompt
	if p.UserInput != "why?" || p.Agent != "fleet" || p.Tools.Name != "rancher-ai-ui" || p.Labels["summary"] != "s" || !p.HasTag("confirmation") {
		t.Fatalf("prompt = %+v", p)
	}
	// Key order as sent, the last duplicate wins, objects as JSON.
	want := "why?" + contextSuffix + `pod:b;cluster:local;obj:{"k":1};`
	if p.Text != want {
		t.Fatalf("text = %q\nwant %q", p.Text, want)
	}
}

func TestParseFramePlainText(t *testing.T) {
	f := ParseFrame("hello there")
	if f.Kind != KindPrompt || f.Prompt.Text != "hello there" || f.Prompt.UserInput != "" {
		t.Fatalf("%+v", f)
	}
	if f := ParseFrame(`{"prompt":"x","context":{}}`); f.Prompt.Text != "x" {
		t.Fatalf("empty context must add nothing: %q", f.Prompt.Text)
	}
}

func TestTagFrames(t *testing.T) {
	if got := AuthenticationFrame("https://as/authorize?a=1&b=2", "gh"); got != `<authentication>{"type":"oauth2","url":"https://as/authorize?a=1&b=2","agent":"gh"}</authentication>` {
		t.Fatal(got)
	}
	if got := TokenRefreshFrame("gh"); got != `<token-refresh>{"agent":"gh"}</token-refresh>` {
		t.Fatal(got)
	}
	if got := ChatErrorFrame(`bad "x"`); got != `<chat-error>{"message":"bad \"x\""}</chat-error>` {
		t.Fatal(got)
	}
}
