package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// connRow is the Connections panel's row of the notes agent.
const connRow = `document.querySelector('#connection-list li[data-agent="notes"]')`

// TestDemoConnectionsPanel drives the demo page's Connections panel in
// Chromium: the notes agent shows signed out; its Sign in opens the chat's
// sign-in card and the pop-up; the panel then shows it connected; Sign out
// (DELETE /v1/api/oauth2/connections/notes) revokes the tokens at the
// demo's authorization server and the panel shows signed out; the next
// prompt that needs notes asks to sign in again.
func TestDemoConnectionsPanel(t *testing.T) {
	d, browser := startBrowserDemo(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	d.tab(tab, "demo-user")

	d.do(tab, "open the page", chromedp.Navigate(d.url("/")),
		until(`document.querySelector('#agent').options.length === 3 && location.hash.length > 1`),
		until(`document.querySelector('#connections').dataset.loaded === 'true' && !!`+connRow))
	if got := eval[string](d, tab, connRow+`.innerText`); !strings.Contains(got, "Notes") || !strings.Contains(got, "Signed out") || !strings.Contains(got, "Sign in") {
		t.Fatalf("notes row before sign-in: %q", got)
	}
	if n := eval[int](d, tab, `document.querySelectorAll('#connection-list li').length`); n != 1 {
		t.Fatalf("%d rows, want 1 (the cluster agent needs no sign-in)", n)
	}
	d.shot(tab, "connections-signed-out")

	// Sign in from the panel: the chat's card, the pop-up, the answer.
	d.do(tab, "panel sign in", chromedp.Click(chromedp.CSS(`#connection-list li[data-agent="notes"] .conn-action`)))
	d.signIn(tab, browser, "demo-user")
	if text := eval[string](d, tab, lastAnswer); !strings.Contains(text, "demo-user") {
		t.Fatalf("after the panel's sign-in: %q", text)
	}
	d.do(tab, "panel shows connected", until(connRow+`.dataset.status === 'connected'`))
	if got := eval[string](d, tab, connRow+`.innerText`); !strings.Contains(got, "Signed in") || !strings.Contains(got, "Sign out") {
		t.Fatalf("notes row after sign-in: %q", got)
	}
	if got := eval[string](d, tab, connRow+`.title`); !strings.Contains(got, "notes:read") || !strings.Contains(got, "refreshable") {
		t.Fatalf("notes row details: %q", got)
	}
	d.shot(tab, "connections-connected")

	// Sign out: revoked at the authorization server, gone here.
	d.do(tab, "panel sign out", chromedp.Click(chromedp.CSS(`#connection-list li[data-agent="notes"] .conn-action`)),
		until(`document.querySelector('#connections-note').textContent.includes('revoked the tokens')`),
		until(connRow+`.dataset.status === 'signed-out'`))
	if got := eval[string](d, tab, `document.querySelector('#connections-note').textContent`); got != "Signed out of Notes: its authorization server revoked the tokens." {
		t.Fatalf("sign-out note %q", got)
	}
	d.shot(tab, "connections-signed-out-again")

	// The next prompt that needs notes, in the same open chat, asks to
	// sign in again.
	cards := eval[int](d, tab, `document.querySelectorAll('.card.signin').length`)
	d.do(tab, "ask for notes after sign-out", chromedp.SendKeys(chromedp.ID("prompt"), "show my notes"), enter(false),
		until(`document.querySelectorAll('.card.signin').length > `+strconv.Itoa(cards)+
			` && !!document.querySelectorAll('.card.signin')[`+strconv.Itoa(cards)+`].querySelector('.buttons button.primary')`))
	d.shot(tab, "signin-asked-again")
}
