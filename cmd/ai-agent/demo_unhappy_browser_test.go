package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// openSignIn waits for the sign-in card, clicks "Sign in", checks that
// the card's buttons are hidden while the pop-up is open, and returns the
// pop-up's tab.
func (d *browserDemo) openSignIn(ctx, browser context.Context) (context.Context, context.CancelFunc) {
	d.t.Helper()
	d.do(ctx, "sign-in card", until(`(() => { const c = [...document.querySelectorAll('.card.signin')].pop(); return !!c && !c.classList.contains('no') && !!c.querySelector('.buttons button.primary'); })()`))
	popup, cancel := d.openPopup(ctx, browser, ".card.signin:last-of-type .buttons button.primary")
	d.do(popup, "authorization page", chromedp.WaitVisible(chromedp.CSS(`button[value=deny]`)))
	// While the pop-up is open, Sign in and Dismiss are not shown.
	if shown := eval[int](d, ctx, `[...[...document.querySelectorAll('.card.signin')].pop().querySelectorAll('.buttons button')].filter(b => b.offsetParent !== null).length`); shown != 0 {
		d.t.Fatalf("%d card buttons visible while the pop-up is open", shown)
	}
	return popup, cancel
}

// tryAgain clicks the ended card's "Try again" and waits for the agent to
// ask to sign in again (a new card).
func (d *browserDemo) tryAgain(ctx context.Context) {
	d.t.Helper()
	cards := eval[int](d, ctx, `document.querySelectorAll('.card.signin').length`)
	d.do(ctx, "try again", chromedp.Click(chromedp.CSS(".card.signin:last-of-type .buttons button.primary")),
		until(fmt.Sprintf(`document.querySelectorAll('.card.signin').length > %d`, cards)))
}

// outcome waits for the last sign-in card to end and returns what it says.
func (d *browserDemo) outcome(ctx context.Context, what string) string {
	d.t.Helper()
	d.do(ctx, what, until(`(() => { const c = [...document.querySelectorAll('.card.signin')].pop(); return c.classList.contains('no') || c.classList.contains('yes'); })()`))
	return eval[string](d, ctx, `[...document.querySelectorAll('.card.signin')].pop().querySelector('.outcome').textContent`)
}

// TestDemoSignInUnhappyPaths: Deny, an authorization server error and a
// closed pop-up each end the sign-in card at once, with what happened and
// a "Try again" that asks to sign in again; a prompt sent while a sign-in
// waits cancels it and is answered.
func TestDemoSignInUnhappyPaths(t *testing.T) {
	d, browser := startBrowserDemo(t)
	alice, cancel := chromedp.NewContext(browser)
	defer cancel()
	d.tab(alice, "demo-user")
	d.do(alice, "open the page", chromedp.Navigate(d.url("/")),
		until(`document.querySelector('#agent').options.length === 3 && location.hash.length > 1`))
	d.do(alice, "ask for notes", chromedp.SendKeys(chromedp.ID("prompt"), "show my notes"), enter(false))

	// Deny at the authorization server.
	popup, closePopup := d.openSignIn(alice, browser)
	d.do(popup, "deny", chromedp.Click(chromedp.CSS(`button[value=deny]`)))
	if got := d.outcome(alice, "card after deny"); !strings.HasPrefix(got, "Sign-in failed: ") {
		t.Fatalf("after Deny the card says %q", got)
	}
	closePopup()
	d.shot(alice, "signin-denied")

	// Try again: the agent asks to sign in again; the authorization server
	// fails (an error response at the callback).
	d.tryAgain(alice)
	popup, closePopup = d.openSignIn(alice, browser)
	d.do(popup, "authorization server error", chromedp.Evaluate[chromedp.Void](`(() => {
		const q = new URL(location.href).searchParams;
		location.href = q.get('redirect_uri') + '?error=server_error&state=' + encodeURIComponent(q.get('state'));
	})()`))
	if got := d.outcome(alice, "card after a server error"); !strings.HasPrefix(got, "Sign-in failed: ") {
		t.Fatalf("after an authorization server error the card says %q", got)
	}
	closePopup()

	// Try again, then close the pop-up.
	d.tryAgain(alice)
	popup, closePopup = d.openSignIn(alice, browser)
	d.do(popup, "close the pop-up", chromedp.Evaluate[chromedp.Void](`window.close()`))
	if got := d.outcome(alice, "card after the pop-up closed"); got != "Sign-in cancelled: the sign-in window was closed." {
		t.Fatalf("after closing the pop-up the card says %q", got)
	}
	closePopup()

	// Try again, and while the pop-up is open, ask something else: the
	// sign-in is cancelled and the new prompt is answered.
	d.tryAgain(alice)
	_, closePopup = d.openSignIn(alice, browser)
	defer closePopup()
	d.do(alice, "ask while signing in", chromedp.SendKeys(chromedp.ID("prompt"), "list the pods in default"), enter(false))
	if got := d.outcome(alice, "card after a new prompt"); got != "Sign-in cancelled: you sent a new message." {
		t.Fatalf("after a new prompt the card says %q", got)
	}
	d.do(alice, "the new prompt is answered", until(`[...document.querySelectorAll('.bubble.agent.done')].pop().innerText.includes('db-0')`))
	d.shot(alice, "signin-unhappy")
}
