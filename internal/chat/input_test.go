package chat

import (
	"errors"
	"testing"
)

func TestParseFrameKinds(t *testing.T) {
	for in, want := range map[string]frameKind{
		"authentication_confirmed": kindReply, "authentication_canceled": kindReply,
		"token_refresh_confirmed": kindReply, "<stop>": kindStop,
		"list pods": kindPrompt, `{"prompt":"x"}`: kindPrompt, `{"prompt":"x"`: kindPrompt,
		`{"prompt":5}`: kindInvalid, `{}`: kindInvalid, "   ": kindInvalid, `{"prompt":" "}`: kindInvalid,
		`{"prompt":"x","context":[1]}`: kindInvalid,
	} {
		f := parseFrame(in)
		if f.Kind != want {
			t.Errorf("parseFrame(%q).Kind = %v, want %v", in, f.Kind, want)
		}
		if want == kindInvalid && !errors.Is(f.Err, errInvalidFrame) {
			t.Errorf("parseFrame(%q).Err = %v", in, f.Err)
		}
	}
}

func TestParseFramePromptFields(t *testing.T) {
	f := parseFrame(`{"prompt":"why?","agent":"fleet","tools":{"name":"rancher-ai-ui","tools":["suggestions"]},` +
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
	f := parseFrame("hello there")
	if f.Kind != kindPrompt || f.Prompt.Text != "hello there" || f.Prompt.UserInput != "" {
		t.Fatalf("%+v", f)
	}
	if f := parseFrame(`{"prompt":"x","context":{}}`); f.Prompt.Text != "x" {
		t.Fatalf("empty context must add nothing: %q", f.Prompt.Text)
	}
}

func TestTagFrames(t *testing.T) {
	if got := authenticationFrame("https://as/authorize?a=1&b=2", "gh"); got != `<authentication>{"type":"oauth2","url":"https://as/authorize?a=1&b=2","agent":"gh"}</authentication>` {
		t.Fatal(got)
	}
	if got := TokenRefreshFrame("gh"); got != `<token-refresh>{"agent":"gh"}</token-refresh>` {
		t.Fatal(got)
	}
	if got := ChatErrorFrame(`bad "x"`); got != `<chat-error>{"message":"bad \"x\""}</chat-error>` {
		t.Fatal(got)
	}
}
