package handlers

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"kaiportal/testdb"
)

// Browser journeys: the portal in a real Chromium, on SQLite. The tests
// share one headless browser (started by the first, stopped by TestMain);
// each journey's tab is a browser context of its own (its own cookies and
// storage), and every page it visits must load without a
// Content-Security-Policy violation or a JavaScript exception.
//
// A new browser context with its page and first navigation cost Chromium
// 1.6–2.8 s of CPU more than a navigation of a tab already open (0.3 s;
// BENCHMARKS.md, "Second pass", measured before the omnibox pop-ups were
// turned off, which made each new context cheaper), and the journeys open
// some 75 tabs. So a tab that its
// test has finished with, at its end or earlier with done, is reset and
// kept for the next tab asked for (pooledTab): it goes to
// about:blank, its cookies and the storage of every origin it visited are
// cleared, and its emulation is undone. Its HTTP cache is kept: every
// test's server is another origin. A tab whose reset fails, or whose test
// failed, is closed instead.

// stepTimeout bounds one step, so that a missing element fails soon. There
// is no limit on a whole test: under load a journey of many steps takes
// longer, and only a step that hangs is a failure (go test's -timeout is the
// last resort).
const stepTimeout = 30 * time.Second

// chromiumPath finds Debian's chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: chromium is not installed (apt-get install chromium)")
	return ""
}

// testBrowser is the headless Chromium the tests share.
type testBrowser struct {
	ctx context.Context // the browser's first tab; it lives until TestMain stops the browser
}

// sharedBrowser is the test process's Chromium, started on first use.
var sharedBrowser struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	dir    string // its profile
	pool   []*pooledTab
}

// pooledTab is a browser context with one page, kept between tests.
type pooledTab struct {
	ctx    context.Context
	cancel context.CancelFunc
	owner  atomic.Pointer[tab] // the test's tab the page's events go to

	mu      sync.Mutex
	origins map[string]bool // visited since the last reset
}

// listen passes the page's events to the tab that owns it now, and notes
// the origins it navigates to.
func (p *pooledTab) listen(ev any) {
	if nav, ok := ev.(*page.EventFrameNavigated); ok && nav.Frame != nil {
		if u, err := url.Parse(nav.Frame.URL); err == nil && u.Host != "" {
			p.mu.Lock()
			p.origins[u.Scheme+"://"+u.Host] = true
			p.mu.Unlock()
		}
	}
	if tb := p.owner.Load(); tb != nil {
		tb.listen(ev)
	}
}

// reset makes a used tab as a new one: a blank page, no cookies, no stored
// data for any origin it visited, no emulation. (Session storage is cleared
// for the origin of the last page only; another origin's could outlive the
// test, but every test's server listens on a port of its own.)
func (p *pooledTab) reset() error {
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	p.mu.Lock()
	origins := p.origins
	p.origins = map[string]bool{}
	p.mu.Unlock()
	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{}); err != nil {
			return err
		}
		// Session storage belongs to the tab, and the storage domain does
		// not clear it: the page the test left clears its own.
		if _, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: `try { sessionStorage.clear() } catch (e) {}`}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: "about:blank"}); err != nil {
			return err
		}
		for origin := range origins {
			if _, err := cdp.Call(ctx, t, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: origin, StorageTypes: "all"}); err != nil {
				return err
			}
		}
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	return err
}

// takeTab returns a kept tab of the running browser, or nil.
func takeTab(browser context.Context) *pooledTab {
	sharedBrowser.mu.Lock()
	defer sharedBrowser.mu.Unlock()
	if sharedBrowser.ctx != browser {
		return nil
	}
	for n := len(sharedBrowser.pool); n > 0; n = len(sharedBrowser.pool) {
		p := sharedBrowser.pool[n-1]
		sharedBrowser.pool = sharedBrowser.pool[:n-1]
		if p.ctx.Err() == nil {
			return p
		}
	}
	return nil
}

// keepTab puts a reset tab back for another test, or closes it when the
// browser it belongs to is gone.
func keepTab(browser context.Context, p *pooledTab) {
	sharedBrowser.mu.Lock()
	defer sharedBrowser.mu.Unlock()
	if sharedBrowser.ctx != browser || browser.Err() != nil {
		p.cancel()
		return
	}
	sharedBrowser.pool = append(sharedBrowser.pool, p)
}

// newTestBrowser returns the shared Chromium, starting it if it is not
// running (the first test, or one after the browser died). It reaches
// nothing but IP literals: every host name fails to resolve, so the browser
// talks only to the servers on 127.0.0.1.
func newTestBrowser(t *testing.T) *testBrowser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := chromiumPath(t)
	sharedBrowser.mu.Lock()
	defer sharedBrowser.mu.Unlock()
	if sharedBrowser.ctx != nil && sharedBrowser.ctx.Err() == nil {
		return &testBrowser{ctx: sharedBrowser.ctx}
	}
	stopBrowserLocked()
	dir, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		// Let tabs share renderer processes. Every test's server is another
		// origin behind Cross-Origin-Opener-Policy, so by default each page
		// of a new test, and each about:blank between tests, started a
		// renderer of its own: 485 in a run of all the journeys, against 29
		// with these two flags, and 481 → 414 busy core-s (BENCHMARKS.md).
		// The portal's isolation (COOP, CORP, CSP) is still what the
		// browser enforces between browsing contexts; only the sharing of
		// operating-system processes changes.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("renderer-process-limit", "2"),
		// Features off: chromedp's two (Translate, BlinkGenPropertyTrees)
		// and three parts of the browser that a test's pages never meet.
		// WebUIOmniboxPopup, WebUIOmniboxAimPopup: every window, so every
		// new browser context, preloaded two omnibox pop-ups, each a WebUI
		// page in a renderer of its own, though headless shows no omnibox
		// (10–14 % of the browser's CPU in a run of journeys).
		// RenderDocument: a new frame host for each navigation within a
		// site; without it a navigation cost 10–23 % less CPU. None of the
		// three changes what a page sees (BENCHMARKS.md).
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebUIOmniboxPopup,WebUIOmniboxAimPopup,RenderDocument"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	sharedBrowser.ctx, sharedBrowser.dir = browserCtx, dir
	sharedBrowser.cancel = func() {
		cancelBrowser()
		cancelAlloc()
	}
	// The first Run starts the browser; it lives as long as browserCtx, and
	// starting it is one step.
	start, cancelStart := context.WithTimeout(context.Background(), stepTimeout)
	defer cancelStart()
	stop := context.AfterFunc(start, func() {
		if start.Err() == context.DeadlineExceeded {
			cancelBrowser()
		}
	})
	defer stop()
	if err := chromedp.Do(browserCtx); err != nil {
		stopBrowserLocked()
		t.Fatalf("start chromium: %v", err)
	}
	return &testBrowser{ctx: browserCtx}
}

// stopBrowser stops the shared Chromium, if it runs, and removes its profile.
func stopBrowser() {
	sharedBrowser.mu.Lock()
	defer sharedBrowser.mu.Unlock()
	stopBrowserLocked()
}

func stopBrowserLocked() {
	if sharedBrowser.cancel != nil {
		sharedBrowser.cancel() // waits for the browser to exit
	}
	if sharedBrowser.dir != "" {
		os.RemoveAll(sharedBrowser.dir)
	}
	sharedBrowser.ctx, sharedBrowser.cancel, sharedBrowser.dir, sharedBrowser.pool = nil, nil, "", nil
}

// tab is one browser context (a private profile with its own cookies) with
// one page, watching the console.
type tab struct {
	t       *testing.T
	ctx     context.Context
	pooled  *pooledTab
	release func() // resets the tab and gives it back, once

	mu       sync.Mutex
	messages []string // console calls and browser log entries, for the log
	problems []string // CSP violations and uncaught exceptions
}

// newTab gives the test a tab of its own: a browser context that no other
// test uses while it runs, new or reset (see pooledTab). It fails the test
// at the end if the console reported a CSP violation or an uncaught
// exception.
func (b *testBrowser) newTab(t *testing.T) *tab {
	t.Helper()
	tb := &tab{t: t}
	p := takeTab(b.ctx)
	if p == nil {
		p = &pooledTab{origins: map[string]bool{}}
		p.ctx, p.cancel = chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
		// The first call opens the tab; it must not run under a step's timeout.
		if _, err := chromedp.Call(p.ctx, log.Enable, cdp.Empty{}); err != nil {
			p.cancel()
			t.Fatalf("enable the log domain: %v", err)
		}
		// chromedp turns on the Network and CSS domains; no journey reads
		// their events (the page-weight test turns Network on itself).
		if _, err := chromedp.Call(p.ctx, network.Disable, cdp.Empty{}); err != nil {
			p.cancel()
			t.Fatalf("disable the network domain: %v", err)
		}
		if _, err := chromedp.Call(p.ctx, css.Disable, cdp.Empty{}); err != nil {
			p.cancel()
			t.Fatalf("disable the CSS domain: %v", err)
		}
	}
	p.owner.Store(tb)
	tb.ctx, tb.pooled = p.ctx, p
	tb.release = sync.OnceFunc(func() {
		tb.checkConsole()
		p.owner.Store(nil)
		if t.Failed() || p.reset() != nil {
			p.cancel()
			return
		}
		keepTab(b.ctx, p)
	})
	t.Cleanup(tb.release)
	return tb
}

// done gives the tab back before the test ends, so that the test's next
// newTab reuses it instead of opening another browser context. The tab
// must not be used after.
func (tb *tab) done() {
	tb.release()
	tb.ctx = nil
}

// listen runs on the browser's reader goroutine: it only records.
func (tb *tab) listen(ev any) {
	var msg string
	var problem bool
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			switch {
			case a.Value != nil:
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			case a.Description != "":
				parts = append(parts, a.Description)
			}
		}
		msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
		problem = true
	case *log.EventEntryAdded:
		e := ev.Entry
		msg = fmt.Sprintf("log %s/%s: %s (%s)", e.Source, e.Level, e.Text, e.URL)
		problem = e.Source == log.EntrySourceSecurity
	default:
		return
	}
	if isCSPViolation(msg) {
		problem = true
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.messages = append(tb.messages, msg)
	if problem {
		tb.problems = append(tb.problems, msg)
	}
}

func isCSPViolation(msg string) bool {
	return strings.Contains(msg, "Refused to ") || strings.Contains(msg, "Content Security Policy") ||
		strings.Contains(msg, "Content-Security-Policy")
}

// checkConsole fails the test for each CSP violation or exception seen so
// far, logs the other console output, and starts afresh.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	messages, problems := tb.messages, tb.problems
	tb.messages, tb.problems = nil, nil
	tb.mu.Unlock()
	for _, m := range messages {
		tb.t.Logf("browser console: %s", m)
	}
	for _, p := range problems {
		tb.t.Errorf("browser reported a problem: %s", p)
	}
}

// run runs one action in the tab, within stepTimeout, and fails the test,
// saying what it was doing, on error.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %s: %v (the tab is at %s)", what, err, tb.where())
	}
	return v
}

// where names the page the tab shows, for a failed step's message.
func (tb *tab) where() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "a page it could not tell: " + err.Error()
	}
	title, _ := chromedp.Run(ctx, chromedp.Title())
	return fmt.Sprintf("%s, titled %q", loc, title)
}

// do runs the steps in order as one action.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, what, chromedp.Steps(steps...))
}

// page checks a page just reached: the console is clean.
func (tb *tab) page(name string) {
	tb.t.Helper()
	// Let late console messages (a refused font, a script error) arrive.
	tb.do("settle "+name, chromedp.Evaluate[chromedp.Void](
		`new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))`, chromedp.EvalAwaitPromise))
	tb.checkConsole()
}

func (tb *tab) path() string {
	tb.t.Helper()
	loc := run(tb, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		tb.t.Fatalf("browser: location %q: %v", loc, err)
	}
	return u.Path
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

func (tb *tab) eval(expr string) string {
	tb.t.Helper()
	return run(tb, "evaluate "+expr, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

// screenshot writes a full-page PNG into $SCREENSHOT_DIR and returns its
// path. Without SCREENSHOT_DIR it takes none (a full-page capture costs a
// second of the browser's time, for nobody to look at) and returns "".
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatalf("screenshot dir: %v", err)
	}
	png := run(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	tb.t.Logf("screenshot %s: %s", name, path)
	return path
}

func testID(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

const (
	mastheadKO = "이 누리집은 대한민국 공식 전자정부 누리집입니다."
	mastheadEN = "This is an official e-Government website of the Republic of Korea."
)

// fontsLoaded counts the Pretendard GOV faces the page has loaded.
const fontsLoaded = `document.fonts.ready.then(() => Array.from(document.fonts).filter(f => f.family.replace(/"/g,'').startsWith('Pretendard GOV') && f.status === 'loaded').length)`

// checkWebFont asserts the page rendered with the portal's own Pretendard GOV.
func (tb *tab) checkWebFont(page string) {
	tb.t.Helper()
	n := run(tb, page+": count the loaded fonts", chromedp.Evaluate[int](fontsLoaded, chromedp.EvalAwaitPromise))
	if n < 1 {
		tb.t.Errorf("%s: %d Pretendard GOV faces loaded, want at least 1", page, n)
	}
	family := tb.eval(`getComputedStyle(document.querySelector('h1')).fontFamily.replace(/"/g, '')`)
	if !strings.HasPrefix(family, "Pretendard GOV") {
		tb.t.Errorf("%s: h1 font-family = %q, want Pretendard GOV first", page, family)
	}
}

// openHome opens / in Korean and checks the frame every visitor sees.
func (tb *tab) openHome(base string) {
	tb.t.Helper()
	tb.do("open /", chromedp.Navigate(base+"/"), chromedp.WaitVisible(testID("masthead")))
	if got := tb.text(`[data-testid="masthead"]`); got != mastheadKO {
		tb.t.Errorf("masthead = %q, want %q", got, mastheadKO)
	}
	if lang := tb.eval(`document.documentElement.lang`); lang != "ko" {
		tb.t.Errorf("html lang = %q, want ko", lang)
	}
	tb.page("/")
}

// signIn signs the tab in as a demo user and opens the user's dashboard.
// The test's HTTP client signs in through the portal's own demo sign-in
// (POST /auth/demo with its CSRF token, as the sign-in page's button does),
// and the session cookie the portal set is put into the tab: the journey
// skips the sign-in page and the form's redirect, two page loads of the
// browser's time, which the journeys that test signing in do themselves
// (TestBrowserDemoSignInEachRole, TestBrowserOIDCSignIn and those that
// keep input across a sign-in).
func (tb *tab) signIn(app *testApp, subject, dashboardID string) {
	tb.t.Helper()
	base := app.srv.URL
	c := app.client()
	c.signInDemo(subject)
	token := c.cookie(app.h.sessionCookie())
	if token == "" {
		tb.t.Fatalf("demo sign-in as %s set no session cookie", subject)
	}
	tb.setSession(app, subject, token)
	tb.do("open the dashboard of "+subject, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(testID(dashboardID)))
	tb.page("dashboard of " + subject)
}

// setSession puts a session's cookie in the tab, as the portal sets it
// (HttpOnly, SameSite=Lax), through the browser rather than the page's
// script, which may not replace an HttpOnly cookie of the same name.
func (tb *tab) setSession(app *testApp, who, token string) {
	tb.t.Helper()
	httpOnly := true
	tb.do("put the session cookie of "+who+" in the tab", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: app.h.sessionCookie(), Value: token, URL: app.srv.URL + "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax,
		})
		return err
	}))
}

func TestBrowserDemoSignInEachRole(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	cases := []struct {
		role, subject, dashboard, testID, label string
	}{
		{"officer", "demo-officer", "/officer", "officer-dashboard", "담당관"},
		{"admin", "demo-admin", "/admin", "admin-dashboard", "관리자"},
		{"auditor", "demo-auditor", "/auditor", "auditor-dashboard", "감사"},
		{"company", "demo-company-upstage", "/company", "company-dashboard", "기업 사용자"},
	}
	for _, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			tb := b.newTab(t)
			tb.openHome(app.srv.URL)
			tb.do("see the demo banner", chromedp.WaitVisible(testID("demo-banner")))
			if tc.role == "officer" {
				tb.checkWebFont("/")
				tb.screenshot("home-ko")
			}

			tb.do("open the sign-in page", chromedp.Click(testID("sign-in")), chromedp.WaitVisible(testID("demo-signin")))
			if p := tb.path(); p != "/auth/signin" {
				t.Errorf("sign-in link led to %s", p)
			}
			tb.page("/auth/signin")

			button := chromedp.CSS(fmt.Sprintf(`[data-testid="demo-%s"][data-subject="%s"]`, tc.role, tc.subject))
			tb.do("sign in as "+tc.subject, chromedp.Click(button), chromedp.WaitVisible(testID(tc.testID)))
			if p := tb.path(); p != tc.dashboard {
				t.Errorf("signed in as %s, landed on %s, want %s", tc.subject, p, tc.dashboard)
			}
			if user := tb.text(`[data-testid="current-user"]`); !strings.Contains(user, tc.label) {
				t.Errorf("current user = %q, want it to name the role %q", user, tc.label)
			}
			tb.page(tc.dashboard)
			if tc.role == "officer" {
				tb.checkWebFont(tc.dashboard)
				tb.screenshot("officer-dashboard-ko")
			}

			tb.do("sign out", chromedp.Click(testID("sign-out")), chromedp.WaitVisible(testID("sign-in")))
			if p := tb.path(); p != "/" {
				t.Errorf("sign-out led to %s, want /", p)
			}
			tb.page("/ after sign-out")
		})
	}
}

func TestBrowserLanguageSwitch(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	tb := b.newTab(t)
	tb.openHome(app.srv.URL)

	tb.do("switch to English", chromedp.Click(testID("lang-switch")),
		chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)), chromedp.WaitVisible(testID("masthead")))
	if got := tb.text(`[data-testid="masthead"]`); got != mastheadEN {
		t.Errorf("English masthead = %q, want %q", got, mastheadEN)
	}
	if p := tb.path(); p != "/" {
		t.Errorf("language switch led to %s, want /", p)
	}
	if got := tb.text(`[data-testid="lang-switch"]`); got != "한국어" {
		t.Errorf("switch on the English page = %q, want 한국어", got)
	}
	tb.page("/ in English")
	tb.screenshot("home-en")

	tb.do("switch back to Korean", chromedp.Click(testID("lang-switch")),
		chromedp.WaitReady(chromedp.CSS(`html[lang="ko"]`)), chromedp.WaitVisible(testID("masthead")))
	if got := tb.text(`[data-testid="masthead"]`); got != mastheadKO {
		t.Errorf("Korean masthead = %q, want %q", got, mastheadKO)
	}
	tb.page("/ in Korean again")
}

// TestBrowserOIDCSignIn signs in through a real OpenID provider on loopback
// (testProvider: mockoidc, which approves the queued user at once) and signs
// out there too: the sign-out form is redirected to the provider's
// end-session endpoint and back, which the CSP's form-action must allow.
func TestBrowserOIDCSignIn(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	idp := newTestProvider(t, testStart, providerConfig{endSession: true})
	app, logs := newOIDCApp(t, testdb.SQLite, idp)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("portal log:\n%s", logs)
		}
	})
	for name, u := range map[string]string{"portal": app.srv.URL, "provider": idp.issuer()} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("%s at %s, want it on 127.0.0.1", name, u)
		}
	}
	idp.m.QueueUser(officerKim) // in the group kai-officers, which maps to officer

	tb := b.newTab(t)
	tb.do("open the sign-in page", chromedp.Navigate(app.srv.URL+"/auth/signin"), chromedp.WaitVisible(testID("sso-login")))
	tb.do("no demo sign-in beside single sign-on", chromedp.WaitNotPresent(testID("demo-signin")))
	tb.page("/auth/signin")

	tb.do("sign in at the provider", chromedp.Click(testID("sso-login")), chromedp.WaitVisible(testID("officer-dashboard")))
	if got := tb.path(); got != "/officer" {
		t.Errorf("single sign-on landed on %s, want /officer", got)
	}
	if user := tb.text(`[data-testid="current-user"]`); !strings.Contains(user, officerKim.Name) || !strings.Contains(user, "담당관") {
		t.Errorf("current user = %q, want %s · 담당관", user, officerKim.Name)
	}
	tb.page("/officer after single sign-on")

	tb.do("sign out at the provider", chromedp.Click(testID("sign-out")), chromedp.WaitVisible(testID("sign-in")))
	if got := tb.path(); got != "/" {
		t.Errorf("sign-out ended on %s, want /", got)
	}
	if q := idp.lastLogout(); q == nil || q.Get("id_token_hint") == "" {
		t.Errorf("the provider's end-session endpoint got %v, want an id_token_hint", q)
	}
	tb.page("/ after sign-out")
}

// TestBrowserTabResetForgetsTheLastTest: a tab kept for another test holds
// nothing of the test before it: not its sign-in, its local or session
// storage, nor its viewport; nor does one a test gave back early. (It runs
// before the parallel journeys, so the second tab is the first one, reset.)
func TestBrowserTabResetForgetsTheLastTest(t *testing.T) {
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	var first *pooledTab
	t.Run("first test", func(t *testing.T) {
		tb := b.newTab(t)
		first = tb.pooled
		tb.do("phone size", chromedp.EmulateViewport(390, 844))
		tb.signIn(app, "demo-officer", "officer-dashboard")
		tb.eval(`localStorage.setItem('kept', 'yes'); sessionStorage.setItem('kept', 'yes'); 'ok'`)
		if w := tb.eval(`String(window.innerWidth)`); w != "390" {
			t.Fatalf("viewport width %s, want 390", w)
		}
	})
	t.Run("next test", func(t *testing.T) {
		tb := b.newTab(t)
		if tb.pooled != first {
			t.Fatal("the next test got a new tab, not the one the first test left")
		}
		if p := tb.eval(`location.href`); p != "about:blank" {
			t.Errorf("a reset tab starts on %s, want about:blank", p)
		}
		tb.do("open /", chromedp.Navigate(app.srv.URL+"/"), chromedp.WaitVisible(testID("masthead")))
		if signedIn := tb.eval(`String(document.querySelector('[data-testid="sign-in"]') === null)`); signedIn != "false" {
			t.Errorf("the reset tab is still signed in: / has no sign-in link")
		}
		if got := tb.eval(`String(localStorage.getItem('kept')) + ' ' + String(sessionStorage.getItem('kept'))`); got != "null null" {
			t.Errorf("local and session storage after the reset: %s, want null null", got)
		}
		if w := tb.eval(`String(window.innerWidth)`); w != "1280" {
			t.Errorf("viewport width %s after the reset, want the window's 1280", w)
		}
		tb.page("/ in a reset tab")
		// A tab given back with done is the test's own next tab, reset.
		tb.signIn(app, "demo-officer", "officer-dashboard")
		tb.done()
		again := b.newTab(t)
		if again.pooled != first {
			t.Fatal("the tab given back with done was not reused")
		}
		again.do("open / again", chromedp.Navigate(app.srv.URL+"/"), chromedp.WaitVisible(testID("masthead")))
		if signedIn := again.eval(`String(document.querySelector('[data-testid="sign-in"]') === null)`); signedIn != "false" {
			t.Errorf("the tab given back with done is still signed in")
		}
	})
}
