package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rancher/ai-agent/internal/citest"
	"github.com/rancher/ai-agent/internal/logging/logtest"
)

// The demo page in a real browser: Debian's chromium driven by chromedp
// against `ai-agent demo` run in-process on a free port. Each step leaves
// a screenshot in $DEMO_SCREENSHOTS (or the test's temporary directory)
// and logs its path. Without chromium the test skips, except in CI
// (CI=true), where it fails: .ci/run installs chromium.

// chromiumPath finds the browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	citest.SkipOrFail(t, "chromium is not installed (apt-get install chromium)")
	return ""
}

// browserDemo is one run of the demo and one browser.
type browserDemo struct {
	t     *testing.T
	addr  string
	shots string
	n     int
}

func startBrowserDemo(t *testing.T) (*browserDemo, context.Context) {
	chrome := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr logtest.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--listen", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo returned %v", err)
		}
	})
	addr := waitFor(t, &stdout, regexp.MustCompile(`^Open http://([0-9.:]+)/`))

	shots := os.Getenv("DEMO_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// The flags this machine's chromium needs (no sandbox as root, no
	// network beyond loopback), on top of chromedp's defaults, which also
	// allow the sign-in pop-up.
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 860))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return &browserDemo{t: t, addr: addr, shots: shots}, browser
}

func (d *browserDemo) url(path string) string { return "http://" + d.addr + path }

// tab watches a tab's console: an exception in the page fails the test.
func (d *browserDemo) tab(ctx context.Context, who string) {
	// Console opens the tab, here and not in the goroutine, and with ctx:
	// a tab lives as long as the context of its first use (chromedp.Run).
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() {
				d.t.Errorf("%s: page exception: %s", who, m)
			}
		}
	}()
}

// do runs steps on a tab with a bound on the whole step.
func (d *browserDemo) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		d.shot(ctx, "failed-"+what)
		d.t.Fatalf("%s: %v", what, err)
	}
}

// until waits in the page for a JavaScript condition to hold.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(45*time.Second))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return nil
	})
}

// eval reads a value from the page.
func eval[T any](d *browserDemo, ctx context.Context, expr string) T {
	d.t.Helper()
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ectx, chromedp.Evaluate[T](expr))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot keeps a screenshot of the tab as the next numbered artefact.
func (d *browserDemo) shot(ctx context.Context, name string) string {
	d.n++
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		d.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(d.shots, fmt.Sprintf("%02d-%s.png", d.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		d.t.Errorf("screenshot %s: %v", name, err)
	}
	d.t.Logf("screenshot: %s", p)
	return p
}

// ask types a prompt and presses Enter, then waits for its answer to be
// complete (the nth finished assistant bubble).
func (d *browserDemo) ask(ctx context.Context, prompt string) {
	d.t.Helper()
	before := eval[int](d, ctx, `document.querySelectorAll('.bubble.agent.done').length`)
	d.do(ctx, "ask "+prompt,
		chromedp.SendKeys(chromedp.ID("prompt"), prompt),
		enter(false),
		until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done').length > %d`, before)))
}

// enter presses Enter (with Shift when shift is set) as a keyboard does:
// one keyDown that carries the text, so that a handler that prevents its
// default also prevents the new line (chromedp.KeyEvent sends a separate
// char event that would type it anyway).
func enter(shift bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var mods int64
		if shift {
			mods = int64(chromedp.ModifierShift)
		}
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Modifiers: mods}
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		for _, k := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// lastAnswer is the text of the last finished assistant bubble.
const lastAnswer = `[...document.querySelectorAll('.bubble.agent.done')].pop().innerText`

// signIn clicks "Sign in" on the card, approves in the pop-up as the name
// it offers (want), and waits for the turn to go on.
func (d *browserDemo) signIn(ctx, browser context.Context, want string) {
	d.t.Helper()
	d.do(ctx, "sign-in card", until(`!!document.querySelector('.card.signin .buttons button.primary')`))
	if title := eval[string](d, ctx, `document.querySelector('.card.signin .card-title').textContent`); title != "Sign in to Notes" {
		d.t.Fatalf("sign-in card title %q", title)
	}
	d.shot(ctx, "signin-card-"+want)
	popup, cancel := d.openPopup(ctx, browser, ".card.signin .buttons button.primary")
	defer cancel()
	d.do(popup, "authorization page", chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)))
	if got := eval[string](d, popup, `document.querySelector('input[name=user]').value`); got != want {
		d.t.Fatalf("the authorization page offers %q, want %q", got, want)
	}
	d.shot(popup, "authorize-"+want)
	before := eval[int](d, ctx, `document.querySelectorAll('.bubble.agent.done').length`)
	d.do(popup, "allow", chromedp.Click(chromedp.CSS(`button[value=allow]`)))
	d.do(ctx, "answer after sign-in", until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done').length > %d`, before)))
	if got := eval[string](d, ctx, `document.querySelector('.card.signin .outcome').textContent`); got != "✓ Signed in to Notes" {
		d.t.Fatalf("sign-in card says %q", got)
	}
}

// openPopup clicks the sign-in button at selector and attaches to the
// authorization pop-up it opens.
func (d *browserDemo) openPopup(ctx, browser context.Context, selector string) (context.Context, context.CancelFunc) {
	d.t.Helper()
	popups := chromedp.WaitNewTarget(ctx, func(i *target.Info) bool { return strings.Contains(i.URL, "/authorize") })
	d.do(ctx, "click sign in", chromedp.Click(chromedp.CSS(selector)))
	var id target.ID
	select {
	case id = <-popups:
	case <-time.After(30 * time.Second):
		d.t.Fatal("no sign-in pop-up opened")
	}
	popup, cancel := chromedp.NewContext(browser, chromedp.WithTargetID(id))
	// The first Run attaches, with a context that lives as long as the
	// pop-up: a tab lives as long as the context of its first Run.
	if err := chromedp.Do(popup); err != nil {
		cancel()
		d.t.Fatalf("attach to the pop-up: %v", err)
	}
	return popup, cancel
}

// push queues a scripted model answer through the demo's control API.
func (d *browserDemo) push(body string) {
	d.t.Helper()
	resp, err := http.Post(d.url("/v1/control/push"), "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		d.t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestDemoInBrowser(t *testing.T) {
	d, browser := startBrowserDemo(t)
	alice, cancel := chromedp.NewContext(browser)
	defer cancel()
	d.tab(alice, "demo-user")

	// The page, its agents and their status.
	d.do(alice, "open the page", chromedp.Navigate(d.url("/")),
		until(`document.querySelector('#agent').options.length === 3 && location.hash.length > 1 &&
			document.querySelector('#agent').options[2].textContent.startsWith('Notes')`))
	opts := eval[[]string](d, alice, `[...document.querySelector('#agent').options].map(o => o.textContent + ' | ' + o.title)`)
	if want := []string{"Adaptive | ", "Demo cluster — active | Answers questions about the demo cluster's pods, deployments and logs.",
		"Notes — active | Keeps and lists the user's own notes; tells who the user is signed in as."}; !slices.Equal(opts, want) {
		t.Fatalf("agent picker %q, want %q", opts, want)
	}
	if about := eval[string](d, alice, `document.querySelector('#agent-about').textContent`); about != "The supervisor picks an agent for each prompt among Demo cluster, Notes." {
		t.Fatalf("picker says %q", about)
	}
	d.shot(alice, "start")

	// The page's Content-Security-Policy is the second line behind the
	// rewriting of model images: an image of another origin that reached the
	// DOM is refused by the browser, which never asks that origin.
	var pixelHits atomic.Int32
	pixel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { pixelHits.Add(1) }))
	defer pixel.Close()
	d.do(alice, "an image of another origin is refused",
		chromedp.Evaluate[chromedp.Void](`document.addEventListener('securitypolicyviolation', e => { window.cspRefused = e.violatedDirective + ' ' + e.blockedURI });
			document.body.appendChild(Object.assign(document.createElement('img'), {src: '`+pixel.URL+`/leak.png?secret=1'}))`),
		until(`typeof window.cspRefused === 'string'`))
	if v := eval[string](d, alice, `window.cspRefused`); !strings.HasPrefix(v, "img-src "+pixel.URL) {
		t.Fatalf("violation %q, want img-src of %s", v, pixel.URL)
	}
	if n := pixelHits.Load(); n != 0 {
		t.Fatalf("the other origin was asked %d times", n)
	}

	// A tool answer rendered as Markdown: a list with code and bold, the
	// thoughts folded, resource buttons, the documentation link.
	d.ask(alice, "list the pods in default")
	items := eval[[]string](d, alice, `[...document.querySelectorAll('.bubble.agent.done:last-of-type .md li')].map(li => li.innerHTML)`)
	if want := []string{"<code>web-7d4b9c-abcde</code> in <code>default</code>: Running",
		"<code>web-7d4b9c-fghij</code> in <code>default</code>: Running",
		"<code>db-0</code> in <code>default</code>: <strong>CrashLoopBackOff</strong>"}; !slices.Equal(items, want) {
		t.Fatalf("rendered list %q, want %q", items, want)
	}
	if text := eval[string](d, alice, lastAnswer); strings.Contains(text, "**") || strings.Contains(text, "`") {
		t.Fatalf("markdown shown raw: %q", text)
	}
	if n := eval[int](d, alice, `document.querySelectorAll('.bubble.agent.done:last-of-type details.think:not([open])').length`); n != 1 {
		t.Fatalf("%d folded think sections, want 1", n)
	}
	if res := eval[[]string](d, alice, `[...document.querySelectorAll('.bubble.agent.done:last-of-type .res button')].map(b => b.textContent)`); !slices.Equal(res,
		[]string{"Pod default/web-7d4b9c-abcde", "Pod default/web-7d4b9c-fghij", "Pod default/db-0"}) {
		t.Fatalf("resource buttons %q", res)
	}
	if href := eval[string](d, alice, `document.querySelector('.bubble.agent.done:last-of-type .links a').href`); href != "https://kubernetes.io/docs/concepts/workloads/pods/" {
		t.Fatalf("doc link %q", href)
	}
	d.shot(alice, "pods")

	// A question the supervisor delegates: the status line names the
	// sub-agent; a code block.
	d.ask(alice, "show the logs of db-0")
	if line := eval[string](d, alice, `document.querySelector('.bubble.agent.done:last-of-type .status-line').textContent`); line != "✓ Demo cluster: show the logs of db-0" {
		t.Fatalf("sub-agent status line %q", line)
	}
	if code := eval[string](d, alice, `document.querySelector('.bubble.agent.done:last-of-type pre code').textContent`); !strings.Contains(code, "FATAL could not open data directory: permission denied") {
		t.Fatalf("code block %q", code)
	}

	// Human validation: the plan, then yes.
	d.do(alice, "ask to scale", chromedp.SendKeys(chromedp.ID("prompt"), "scale web to 3"), enter(false),
		until(`!!document.querySelector('.bubble.agent.done .card.confirm .buttons')`))
	if plan := eval[string](d, alice, `document.querySelector('.card.confirm').innerText`); !strings.Contains(plan, "patch Deployment default/web in cluster local") ||
		!strings.Contains(plan, "replace /spec/replicas → 3") || !strings.Contains(plan, "replicas: 3") || !strings.Contains(plan, "replicas: 2") {
		t.Fatalf("confirmation card %q", plan)
	}
	d.shot(alice, "confirm")
	before := eval[int](d, alice, `document.querySelectorAll('.bubble.agent.done').length`)
	d.do(alice, "confirm", chromedp.Click(chromedp.CSS(".card.confirm button.primary")),
		until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done').length > %d`, before)))
	if text := eval[string](d, alice, lastAnswer); !strings.Contains(text, "Scaled deployment default/web to 3 replicas.") {
		t.Fatalf("after yes: %q", text)
	}
	if outcome := eval[string](d, alice, `document.querySelector('.card.confirm .outcome').textContent`); outcome != "✓ Confirmed" {
		t.Fatalf("card outcome %q", outcome)
	}

	// The OAuth-protected agent: the sign-in card, the pop-up, the answer.
	d.do(alice, "ask for notes", chromedp.SendKeys(chromedp.ID("prompt"), "show my notes"), enter(false))
	d.signIn(alice, browser, "demo-user")
	if text := eval[string](d, alice, lastAnswer); !strings.Contains(text, "demo-user has no notes yet.") {
		t.Fatalf("after sign-in: %q", text)
	}
	d.ask(alice, "remember to check db-0")
	if text := eval[string](d, alice, lastAnswer); !strings.Contains(text, `Kept the note "to check db-0" for demo-user.`) {
		t.Fatalf("note: %q", text)
	}
	readme := d.shot(alice, "notes")

	// A tool that changes things (destructiveHint) on the OAUTH2 notes
	// agent asks first: the card shows the tool, its server and arguments.
	before = eval[int](d, alice, `document.querySelectorAll('.card.confirm').length`)
	d.do(alice, "ask to forget", chromedp.SendKeys(chromedp.ID("prompt"), "forget my notes"), enter(false),
		until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done .card.confirm .buttons').length > 0 && document.querySelectorAll('.card.confirm').length > %d`, before)))
	if card := eval[string](d, alice, `[...document.querySelectorAll('.card.confirm')].pop().innerText`); !strings.Contains(card, "Run tool forgetNotes on 127.0.0.1:") ||
		!strings.Contains(card, "(agent notes)") || !strings.Contains(card, "{}") {
		t.Fatalf("tool-call confirmation card %q", card)
	}
	d.shot(alice, "confirm-tool")
	before = eval[int](d, alice, `document.querySelectorAll('.bubble.agent.done').length`)
	d.do(alice, "confirm the tool", chromedp.Click(chromedp.CSS(".card.confirm button.primary")),
		until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done').length > %d`, before)))
	if text := eval[string](d, alice, lastAnswer); !strings.Contains(text, "Forgot 1 note(s) of demo-user.") {
		t.Fatalf("after yes to forgetNotes: %q", text)
	}

	// Keyboard: Shift+Enter is a new line, Enter sends.
	d.do(alice, "shift+enter", chromedp.SendKeys(chromedp.ID("prompt"), "line one"),
		enter(true), chromedp.SendKeys(chromedp.ID("prompt"), "line two"))
	if v := eval[string](d, alice, `document.querySelector('#prompt').value`); v != "line one\nline two" {
		t.Fatalf("prompt box %q after Shift+Enter", v)
	}
	before = eval[int](d, alice, `document.querySelectorAll('.bubble.agent.done').length`)
	d.do(alice, "enter", enter(false), until(`[...document.querySelectorAll('.bubble.user')].pop().textContent === 'line one\nline two'`),
		until(fmt.Sprintf(`document.querySelectorAll('.bubble.agent.done').length > %d`, before)))

	// Reload: the chat is in the list and its history is shown again.
	chat := eval[string](d, alice, `location.hash.slice(1)`)
	d.do(alice, "reload", chromedp.Reload(),
		until(`document.querySelectorAll('#chat-list li').length === 1 && document.querySelectorAll('.bubble.history').length >= 5`))
	if name := eval[string](d, alice, `document.querySelector('#chat-list li.current .name').textContent`); name != "list the pods in default" {
		t.Fatalf("chat list entry %q", name)
	}
	users := eval[[]string](d, alice, `[...document.querySelectorAll('.bubble.user')].map(b => b.textContent)`)
	if !slices.Contains(users, "list the pods in default") || !slices.Contains(users, "show my notes") {
		t.Fatalf("history prompts %q", users)
	}
	if n := eval[int](d, alice, `document.querySelectorAll('.bubble.history .md li code').length`); n < 3 {
		t.Fatalf("history list not rendered (%d code items)", n)
	}
	// The confirmation and its answer are in history too: the supervisor
	// handed "scale web to 3" to the cluster agent, whose pause is kept in
	// the child's thread; the main thread records the request, the
	// decision and the answer for GET /messages.
	if outcome := eval[string](d, alice, `document.querySelector('.bubble.history .card.confirm .outcome').textContent`); outcome != "✓ Confirmed" {
		t.Fatalf("confirmation in history: outcome %q", outcome)
	}
	if texts := eval[[]string](d, alice, `[...document.querySelectorAll('.bubble.history')].map(b => b.textContent)`); !slices.ContainsFunc(texts, func(s string) bool {
		return strings.Contains(s, "Scaled deployment default/web to 3 replicas.")
	}) {
		t.Fatalf("the answer after the confirmation is not in history: %q", texts)
	}
	d.shot(alice, "reloaded")

	// New chat, then the old one again from the list; rename it.
	d.do(alice, "new chat", chromedp.Click(chromedp.ID("new-chat")),
		until(`!!document.querySelector('.welcome') && !document.querySelector('.bubble.user') && location.hash.slice(1) !== '`+chat+`'`))
	d.do(alice, "open old chat", chromedp.Click(chromedp.CSS("#chat-list li .open")),
		until(`location.hash.slice(1) === '`+chat+`' && document.querySelectorAll('.bubble.history').length >= 5`))
	d.do(alice, "rename", chromedp.Click(chromedp.CSS("#chat-list li .rename-chat")),
		chromedp.WaitVisible(chromedp.CSS("#chat-list li form input")),
		chromedp.SetValue(chromedp.CSS("#chat-list li form input"), "Pods and notes"),
		enter(false), // the input has the focus
		until(`document.querySelector('#chat-list li .name') && document.querySelector('#chat-list li .name').textContent === 'Pods and notes'`))

	// Markdown the model writes cannot put HTML in the page.
	d.push(`{"text":{"chunks":["# Heading\n\n","<img src=x onerror=\"window.pwned=1\"> <script>window.pwned=2</script>\n\n",
		"[bad](javascript:window.pwned=3) and [good](https://rancher.com/docs)\n\n","| a | b |\n|---|--:|\n| <b>1</b> | 2 |\n\n",
		"` + "```html\\n<i>code</i>\\n```" + `\n\n1. one\n2. two\n   - nested"]}}`)
	d.do(alice, "pick the cluster agent", chromedp.SetValue(chromedp.ID("agent"), "cluster"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#agent').dispatchEvent(new Event('change'))`))
	if about := eval[string](d, alice, `document.querySelector('#agent-about').textContent`); about != "active · Answers questions about the demo cluster's pods, deployments and logs." {
		t.Fatalf("picker says %q for the cluster agent", about)
	}
	d.ask(alice, "render some markdown")
	type rendered struct {
		H1, Code, Cell, Nested string
		Images, Scripts, Bold  int
		Links                  []string
		Pwned                  bool
		Text                   string
	}
	r := eval[rendered](d, alice, `(() => { const b = [...document.querySelectorAll('.bubble.agent.done')].pop(); return {
		H1: b.querySelector('h1').textContent, Code: b.querySelector('pre code.language-html').textContent,
		Cell: b.querySelector('td').textContent, Nested: b.querySelector('ol li ul li').textContent,
		Images: document.querySelectorAll('#log img').length, Scripts: document.querySelectorAll('#log script').length,
		Bold: b.querySelectorAll('b').length, Links: [...b.querySelectorAll('.md a')].map(a => a.href),
		Pwned: 'pwned' in window, Text: b.innerText } })()`)
	if r.H1 != "Heading" || r.Code != "<i>code</i>" || r.Cell != "<b>1</b>" || r.Nested != "nested" || r.Images != 0 || r.Scripts != 0 ||
		r.Bold != 0 || r.Pwned || !slices.Equal(r.Links, []string{"https://rancher.com/docs"}) ||
		!strings.Contains(r.Text, `<img src=x onerror="window.pwned=1">`) {
		t.Fatalf("rendered markdown: %+v", r)
	}

	// Esc stops a long answer.
	chunks := make([]string, 300)
	for i := range chunks {
		chunks[i] = fmt.Sprintf(`"w%d "`, i)
	}
	d.push(`{"text":{"chunks":[` + strings.Join(chunks, ",") + `]}}`)
	d.do(alice, "long answer", chromedp.SendKeys(chromedp.ID("prompt"), "talk for a while"), enter(false),
		until(`[...document.querySelectorAll('.bubble.agent')].pop().innerText.includes('w3 ')`),
		chromedp.KeyEvent(kb.Escape),
		until(`!!document.querySelector('.bubble.agent.done:last-of-type .stopped')`))
	if text := eval[string](d, alice, lastAnswer); strings.Contains(text, "w299") {
		t.Fatalf("the answer went on after Esc: %q", text)
	}

	// Another demo user in another browser context: own chats, own notes.
	bob, cancelBob := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelBob()
	d.tab(bob, "bob")
	d.do(bob, "open the page as bob", chromedp.Navigate(d.url("/?user=bob")),
		until(`document.querySelector('#user').value === 'bob' && document.querySelector('#status').textContent.startsWith('bob · chat')`))
	if n := eval[int](d, bob, `document.querySelectorAll('#chat-list li').length`); n != 0 {
		t.Fatalf("bob sees %d chats of another user", n)
	}
	d.do(bob, "bob asks for notes", chromedp.SendKeys(chromedp.ID("prompt"), "show my notes"), enter(false))
	d.signIn(bob, browser, "bob")
	if text := eval[string](d, bob, lastAnswer); !strings.Contains(text, "bob has no notes yet.") || strings.Contains(text, "db-0") {
		t.Fatalf("bob's notes: %q", text)
	}
	d.do(bob, "bob's chat list", until(`document.querySelectorAll('#chat-list li').length === 1`))
	if name := eval[string](d, bob, `document.querySelector('#chat-list li .name').textContent`); name != "show my notes" {
		t.Fatalf("bob's chat list shows %q", name)
	}
	d.do(bob, "bob opens the other user's chat", chromedp.Evaluate[chromedp.Void](`location.hash = '`+chat+`'`), chromedp.Reload(),
		until(`!!document.querySelector('.bubble.error')`))
	if msg := eval[string](d, bob, `document.querySelector('.bubble.error').textContent`); msg != "Could not open the chat: Chat not found" {
		t.Fatalf("error bubble %q", msg)
	}
	if n := eval[int](d, bob, `document.querySelectorAll('.bubble.history').length`); n != 0 {
		t.Fatalf("bob sees %d messages of another user's chat", n)
	}
	d.shot(bob, "bob")
	d.do(alice, "alice's list", chromedp.Reload(), until(`document.querySelectorAll('#chat-list li').length === 1`))
	if name := eval[string](d, alice, `document.querySelector('#chat-list li .name').textContent`); name != "Pods and notes" {
		t.Fatalf("alice's chat list shows %q", name)
	}

	// Narrow window: the chat list folds away behind a button, nothing
	// overflows sideways.
	d.do(alice, "narrow", chromedp.EmulateViewport(390, 800),
		until(`document.querySelector('#chats').getBoundingClientRect().right <= 0`))
	if w := eval[int](d, alice, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("page is %dpx wide in a 390px window", w)
	}
	d.shot(alice, "narrow")
	d.do(alice, "open the list", chromedp.Click(chromedp.ID("toggle-chats")),
		until(`document.querySelector('#chats').getBoundingClientRect().left >= 0`))
	d.shot(alice, "narrow-chats")
	d.do(alice, "wide", chromedp.EmulateViewport(1200, 860))

	// Delete: two clicks; the open chat was deleted, so a new one starts.
	d.do(alice, "delete", chromedp.Click(chromedp.CSS("#chat-list li .delete-chat")), chromedp.Click(chromedp.CSS("#chat-list li .delete-chat")),
		until(`document.querySelectorAll('#chat-list li').length === 0 && !!document.querySelector('.welcome')`))
	t.Logf("README screenshot candidate: %s", readme)
}
