package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/store/storetest"
)

// TestFaultRefreshTokenReuse: the refresh token is rotated by a silent
// refresh; someone then replays the old one at the authorization server
// (oidc-provider), which detects the reuse and revokes the whole grant, so
// the newest refresh token fails too (invalid_grant). The next turn asks
// the user to sign in again, once, in the same turn, with no <error> and no
// loop; after the new consent the tool call runs and the turn answers.
// History keeps every prompt and answer, every tool call of the thread has
// its result, and no frame holds a token.
//
// Through the harness, not serve: the replay needs the rotated-out refresh
// token, which only the vault (sealed) knows.
func TestFaultRefreshTokenReuse(t *testing.T) {
	oe := newOAuthEnv(t, oauthOpts{as: oauthtest.ASOptions{RotateRefreshTokens: true}})
	b := oe.browser(t, "alice")
	c := b.dial("/v1/ws/messages/reuse")
	c.Metadata()
	readOpen(t, c)
	b.completeSignIn(c, c.Read())
	c.Read()
	var secrets []string
	keep := func() {
		ts := oe.tokensOf(t, "alice")
		secrets = append(secrets, ts.AccessToken, ts.RefreshToken)
	}
	keep()
	oldRT := oe.refreshTokenOf(t, "alice")

	// The service's clock passes the token's expiry: a silent refresh.
	oe.setSkew(2 * time.Hour)
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("you are alice"))
	c.Send(prompt("who am I?"))
	first := c.Turn()
	equalFrames(t, first, []string{"<message>", "you are alice", "</message>"})
	if oe.refreshTokenOf(t, "alice") == oldRT {
		t.Fatal("the refresh token was not rotated")
	}
	keep()
	if err := oe.redeem(oldRT); err == nil {
		t.Fatal("the authorization server accepted a reused refresh token")
	}

	before := oe.as.TokenRequests()
	oe.setSkew(4 * time.Hour)
	oe.model.Push(call("whoami", `{}`), llm.TextEntry("still alice"))
	c.Send(prompt("and now?"))
	readOpen(t, c)
	frame := c.Read()
	t.Logf("after the reuse: %.40q…", frame)
	b.completeSignIn(c, frame)
	second := append([]string{"<message>", frame}, c.Turn()...)
	if got := strings.Join(second[2:], "|"); got != "still alice|</message>" {
		t.Fatalf("after the new consent: %q", second)
	}
	after := oe.as.TokenRequests()
	if r, a := after.RefreshToken-before.RefreshToken, after.AuthorizationCode-before.AuthorizationCode; r != 1 || a != 1 {
		t.Errorf("%d refreshes and %d code exchanges, want one of each (no loop)", r, a)
	}
	keep()

	rows := historyLine(oe.historyOf(t, "reuse", "tok-alice"))
	if want := "user:who am I? | agent:you are alice | user:and now? | agent:still alice"; rows != want {
		t.Errorf("history %s, want %s", rows, want)
	}
	thread, err := oe.store.Messages(context.Background(), "reuse")
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, m := range storetest.Paired(t, "reuse", thread) {
		if m.Role == llm.RoleTool {
			results = append(results, modeltext.ToolResultData(m.Content))
		}
	}
	if strings.Join(results, ",") != "alice,alice" {
		t.Errorf("tool results %q", results)
	}
	for _, f := range append(first, second...) {
		for _, s := range secrets {
			if s != "" && strings.Contains(f, s) {
				t.Errorf("a token appears in frame %q", f)
			}
		}
	}
}
