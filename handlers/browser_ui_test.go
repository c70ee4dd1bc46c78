package handlers

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kaiportal/testdb"
)

// Browser checks of the page frame at a phone's size and a desktop's: the
// navigation behind the menu button, underlined links, the language switch
// that keeps typed input, and a font with every Hangul syllable.

// visibleNavLinks counts the main navigation's links a person can see: laid
// out, not hidden, inside the window.
const visibleNavLinks = `Array.from(document.querySelectorAll('#portal-nav .gnb-menu a')).filter(a => {
	const r = a.getBoundingClientRect();
	return a.checkVisibility({visibilityProperty: true, opacityProperty: true}) &&
		r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5;
}).length`

// activeTestID is the data-testid of the focused element ("" if none).
const activeTestID = `(document.activeElement && document.activeElement.getAttribute('data-testid')) || ''`

func (tb *tab) count(expr string) int {
	tb.t.Helper()
	return run(tb, "count "+expr, chromedp.Evaluate[int](expr))
}

// tabTo presses Tab until the element with the test id has focus.
func (tb *tab) tabTo(testid string) {
	tb.t.Helper()
	for range 30 {
		tb.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if tb.eval(activeTestID) == testid {
			return
		}
	}
	tb.t.Fatalf("30 presses of Tab never reached %s", testid)
}

func TestBrowserNavigationAtPhoneAndDesktopSize(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)

	t.Run("390x844", func(t *testing.T) {
		tb := b.newTab(t)
		tb.do("phone size", chromedp.EmulateViewport(390, 844))
		tb.openHome(app.srv.URL)
		total := tb.count(`document.querySelectorAll('#portal-nav .gnb-menu a').length`)
		if total < 3 {
			t.Fatalf("%d navigation links, want the public ones at least", total)
		}
		if n := tb.count(visibleNavLinks); n != 0 {
			t.Errorf("closed menu: %d navigation links visible, want 0", n)
		}
		tb.screenshot("nav-390-closed")

		// By keyboard: Tab to the menu button, Enter.
		tb.tabTo("menu-open")
		if got := tb.eval(`document.activeElement.getAttribute('aria-expanded')`); got != "false" {
			t.Errorf("menu button aria-expanded = %q before opening, want false", got)
		}
		if got := tb.eval(`document.activeElement.getAttribute('aria-controls')`); got != "portal-nav" {
			t.Errorf("menu button aria-controls = %q, want portal-nav", got)
		}
		tb.do("open the menu with Enter", chromedp.KeyEvent(kb.Enter),
			chromedp.Poll[chromedp.Void](visibleNavLinks+` === `+strconv.Itoa(total)))
		if got := tb.eval(`document.querySelector('[data-testid="menu-open"]').getAttribute('aria-expanded')`); got != "true" {
			t.Errorf("menu button aria-expanded = %q when open, want true", got)
		}
		if got := tb.eval(`document.activeElement.closest('#portal-nav') ? 'inside' : 'outside'`); got != "inside" {
			t.Errorf("focus is %s the menu after opening it, want inside", got)
		}
		// Every link is reachable by Tab, and Tab stays inside the open menu.
		reached := map[string]bool{}
		for range total + 2 {
			tb.do("press Tab in the menu", chromedp.KeyEvent(kb.Tab))
			href := tb.eval(`document.activeElement.closest('#portal-nav') ? (document.activeElement.getAttribute('href') || 'button') : 'outside'`)
			if href == "outside" {
				t.Fatalf("Tab left the open menu")
			}
			reached[href] = true
		}
		for _, href := range []string{"/", "/decisions", "/k-ai"} {
			if !reached[href] {
				t.Errorf("Tab never reached the menu link %s (reached %v)", href, reached)
			}
		}
		tb.screenshot("nav-390-open")
		tb.page("/ with the menu open")

		// Escape closes it and gives focus back to the button.
		tb.do("close with Escape", chromedp.KeyEvent(kb.Escape), chromedp.Poll[chromedp.Void](visibleNavLinks+` === 0`),
			chromedp.Poll[chromedp.Void](`getComputedStyle(document.getElementById('portal-nav')).visibility === 'hidden'`))
		if got := tb.eval(activeTestID); got != "menu-open" {
			t.Errorf("after Escape focus is on %q, want the menu button", got)
		}
		if got := tb.eval(`document.querySelector('[data-testid="menu-open"]').getAttribute('aria-expanded')`); got != "false" {
			t.Errorf("menu button aria-expanded = %q after Escape, want false", got)
		}

		// Following a link from the open menu opens its page.
		tb.do("open the menu again", chromedp.Click(testID("menu-open")),
			chromedp.Poll[chromedp.Void](visibleNavLinks+` === `+strconv.Itoa(total)))
		tb.do("follow the decisions link", chromedp.Click(chromedp.CSS(`#portal-nav a[href="/decisions"]`)),
			chromedp.WaitReady(chromedp.CSS(`#portal-nav a[href="/decisions"][aria-current="page"]`)))
		if p := tb.path(); p != "/decisions" {
			t.Errorf("menu link led to %s, want /decisions", p)
		}
		tb.page("/decisions")
	})

	t.Run("1400x1000", func(t *testing.T) {
		tb := b.newTab(t)
		tb.do("desktop size", chromedp.EmulateViewport(1400, 1000))
		tb.openHome(app.srv.URL)
		total := tb.count(`document.querySelectorAll('#portal-nav .gnb-menu a').length`)
		if n := tb.count(visibleNavLinks); n != total || total < 3 {
			t.Errorf("desktop: %d of %d navigation links visible, want all", n, total)
		}
		if vis := tb.eval(`document.querySelector('[data-testid="menu-open"]').checkVisibility() ? 'shown' : 'hidden'`); vis != "hidden" {
			t.Errorf("desktop: the menu button is %s, want hidden (the menu bar is there)", vis)
		}
		tb.screenshot("nav-1400")
	})
}

// TestBrowserNavigationWithoutJavaScript: with scripts off the menu button
// could not open anything, so at a phone's size the navigation stays in
// the page (css/noscript.css) and the button is not shown.
func TestBrowserNavigationWithoutJavaScript(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	tb := b.newTab(t)
	noScript := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
	tb.do("phone size, no JavaScript", chromedp.EmulateViewport(390, 844), noScript,
		chromedp.Navigate(app.srv.URL+"/"), chromedp.WaitVisible(testID("masthead")))
	tb.do("the navigation is in the page", chromedp.WaitVisible(chromedp.CSS(`#portal-nav a[href="/decisions"]`)),
		chromedp.WaitNotVisible(testID("menu-open")))
	tb.screenshot("nav-390-noscript")
}

func TestBrowserLinksAreUnderlined(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(strconv.FormatInt(size[0], 10), func(t *testing.T) {
			tb := b.newTab(t)
			tb.do("size", chromedp.EmulateViewport(size[0], size[1]))
			tb.do("open /k-ai", chromedp.Navigate(app.srv.URL+"/k-ai"), chromedp.WaitVisible(testID("api-example")))
			for _, sel := range []string{`[data-testid="api-example"]`, `[data-testid="footer-privacy"]`} {
				deco := tb.eval(`getComputedStyle(document.querySelector('` + sel + `')).textDecorationLine`)
				if !strings.Contains(deco, "underline") {
					t.Errorf("%s: text-decoration-line = %q, want underline", sel, deco)
				}
			}
			// Every link in the content is underlined or looks like a button.
			bad := tb.eval(`Array.from(document.querySelectorAll('main a')).filter(a => {
				const s = getComputedStyle(a);
				return !s.textDecorationLine.includes('underline') && s.borderTopStyle === 'none' &&
					(s.backgroundColor === 'rgba(0, 0, 0, 0)' || s.backgroundColor === 'transparent');
			}).map(a => a.getAttribute('href')).join(' ')`)
			if bad != "" {
				t.Errorf("links told apart by colour alone: %s", bad)
			}
			tb.page("/k-ai")
		})
	}
}

// TestBrowserLanguageSwitchKeepsInput: an officer types a call, submits it
// with errors (the page now answers the POST), types more, and switches
// the language: the form comes back in English with everything typed.
func TestBrowserLanguageSwitchKeepsInput(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(strconv.FormatInt(size[0], 10), func(t *testing.T) {
			tb := b.newTab(t)
			tb.do("size", chromedp.EmulateViewport(size[0], size[1]))
			tb.do("sign in as the officer", chromedp.Navigate(app.srv.URL+"/auth/signin"),
				chromedp.Click(chromedp.CSS(`[data-testid="demo-officer"][data-subject="demo-officer"]`)),
				chromedp.WaitVisible(testID("officer-dashboard")))
			tb.do("open the new call form", chromedp.Navigate(app.srv.URL+"/officer/calls/new"), chromedp.WaitVisible(testID("call-form")))
			const title, more = "2026년 똠햏 공모", "\n추가로 적은 설명"
			tb.do("type a title and submit", chromedp.SendKeys(chromedp.CSS(`#title_ko`), title),
				chromedp.SendKeys(chromedp.CSS(`#description_ko`), "설명 첫 줄"),
				chromedp.Click(testID("call-save")), chromedp.WaitVisible(chromedp.CSS(`.form-hint-invalid`)))
			if p := tb.path(); p != "/officer/calls" {
				t.Fatalf("the form with errors is at %s, want the POST's /officer/calls", p)
			}
			tb.do("type more after the error, at the end", chromedp.Evaluate[chromedp.Void](
				`(el => { el.focus(); el.setSelectionRange(el.value.length, el.value.length); })(document.getElementById('description_ko'))`),
				chromedp.KeyEvent(more))

			tb.do("switch to English", chromedp.Click(testID("lang-switch")),
				chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)), chromedp.WaitVisible(testID("call-form")))
			if p := tb.path(); p != "/officer/calls/new" {
				t.Errorf("language switch led to %s, want the form's page /officer/calls/new", p)
			}
			if got := run(tb, "title", chromedp.Value(chromedp.CSS(`#title_ko`))); got != title {
				t.Errorf("title after the switch = %q, want %q", got, title)
			}
			if got := run(tb, "description", chromedp.Value(chromedp.CSS(`#description_ko`))); got != "설명 첫 줄"+more {
				t.Errorf("description after the switch = %q, want what was typed", got)
			}
			if got := tb.text(`[data-testid="lang-switch"]`); got != "한국어" {
				t.Errorf("the page is not in English: switch reads %q", got)
			}
			if got := tb.eval(`document.querySelector('label[for="title_ko"]').textContent`); strings.ContainsAny(got, "제목공고") {
				t.Errorf("title label %q is still Korean", got)
			}
			if kept := tb.eval(`sessionStorage.getItem('portal.keep') || ''`); kept != "" {
				t.Errorf("the kept input stays in sessionStorage after use: %s", kept)
			}
			tb.page("/officer/calls/new in English")
			tb.screenshot("lang-keeps-input-" + strconv.FormatInt(size[0], 10))
		})
	}
}

// platformFonts reports the fonts Chromium drew the first node matching sel with.
func platformFonts(sel string) chromedp.Action[[]*css.PlatformFontUsage] {
	return func(ctx context.Context, t *chromedp.Target) ([]*css.PlatformFontUsage, error) {
		nodes, err := chromedp.Nodes(chromedp.CSS(sel))(ctx, t)
		if err != nil {
			return nil, err
		}
		if _, err := cdp.Call(ctx, t, css.Enable, cdp.Empty{}); err != nil {
			return nil, err
		}
		res, err := cdp.Call(ctx, t, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: nodes[0].NodeID})
		return res.Fonts, err
	}
}

// missingGlyphs draws each character of the text with the portal's font on
// a canvas and returns those drawn exactly like an unassigned code point:
// the boxes (tofu) a reader would see.
const missingGlyphs = `(async text => {
	const font = '32px "Pretendard GOV Variable", "Pretendard GOV"';
	await document.fonts.load(font, text);
	const c = document.createElement('canvas');
	c.width = c.height = 40;
	const g = c.getContext('2d', {willReadFrequently: true});
	const draw = ch => { g.clearRect(0, 0, 40, 40); g.font = font; g.fillText(ch, 2, 32); return g.getImageData(0, 0, 40, 40).data.join(); };
	const box = draw('\u{FFFF}');
	return [...text].filter(ch => ch.trim() && draw(ch) === box).join('');
})`

// TestBrowserFontCoversHangul: Hangul syllables outside KS X 1001, a sample
// of all 11,172, and the Korean in the API example's code block are drawn
// with the portal's own Pretendard GOV, never as boxes, and a page loads
// only some of the font's unicode-range pieces.
func TestBrowserFontCoversHangul(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	tb := b.newTab(t)
	tb.do("open /k-ai", chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(app.srv.URL+"/k-ai"),
		chromedp.WaitVisible(testID("api-example")))
	tb.do("wait for the fonts", chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise))
	loaded := tb.count(`Array.from(document.fonts).filter(f => f.status === 'loaded').length`)
	all := tb.count(`Array.from(document.fonts).length`)
	if loaded == 0 || loaded > all/2 {
		t.Errorf("%d of %d font pieces loaded: want some, and only those the page uses", loaded, all)
	}

	var sample strings.Builder
	sample.WriteString("쀍챃똠햏뷁 ")
	for r := rune(0xAC00); r <= 0xD7A3; r += 97 {
		sample.WriteRune(r)
	}
	sample.WriteRune(0xD7A3)
	if missing := tb.eval(missingGlyphs + `(` + strconv.Quote(sample.String()) + `)`); missing != "" {
		t.Errorf("drawn as boxes: %q", missing)
	}

	fonts := run(tb, "fonts of the API example", platformFonts("pre.naming-code:nth-of-type(2) code"))
	own := 0.0
	for _, f := range fonts {
		t.Logf("API example: %s (custom %v): %v glyphs", f.FamilyName, f.IsCustomFont, f.GlyphCount)
		if strings.HasPrefix(f.FamilyName, "Pretendard GOV") && f.IsCustomFont {
			own += f.GlyphCount
		}
	}
	if own < 10 {
		t.Errorf("API example: %v glyphs drawn with the served Pretendard GOV, want its Korean (업스테이지, 모델, 정예팀 선정 결정)", own)
	}
	korean := tb.eval(`document.querySelector('pre.naming-code:nth-of-type(2) code').textContent.replace(/[^\uAC00-\uD7A3]/g, '')`)
	if missing := tb.eval(missingGlyphs + `(` + strconv.Quote(korean) + `)`); korean == "" || missing != "" {
		t.Errorf("API example's Korean %q: drawn as boxes: %q", korean, missing)
	}
	tb.page("/k-ai")
}
