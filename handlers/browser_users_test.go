package handlers

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserEndSessions: an administrator, by keyboard, at phone and
// desktop widths, goes from the users page to a user's sessions, is asked to
// confirm, and ends them; the page never scrolls sideways.
func TestBrowserEndSessions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	company := demoUser(t, app, "demo-company-upstage").ID
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := newTestBrowser(t)
			app.client().signInDemo("demo-company-upstage")
			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.openHome(app.srv.URL)
			tb.do("open the sign-in page", chromedp.Navigate(app.srv.URL+"/auth/signin"), chromedp.WaitVisible(testID("demo-signin")))
			tb.do("sign in as the administrator", chromedp.Click(`[data-testid="demo-admin"][data-subject="demo-admin"]`),
				chromedp.WaitVisible(testID("admin-dashboard")))

			tb.do("open the users page", chromedp.Navigate(app.srv.URL+"/admin/users"), chromedp.WaitVisible(testID("user-accounts")))
			tb.page("/admin/users")
			wantNoSideScroll(tb, "/admin/users")
			link := fmt.Sprintf(`[data-testid="user-account"][data-user="%d"] [data-testid="user-link"]`, company)
			tb.do("follow the user's link by keyboard", chromedp.Focus(link), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("end-sessions-link")))
			wantNoSideScroll(tb, "user page")
			tb.do("ask to end the sessions by keyboard", chromedp.Focus(`[data-testid="end-sessions-link"]`), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("end-sessions-effect")))
			tb.page("confirmation")
			wantNoSideScroll(tb, "confirmation")
			if n := count(t, app, &models.Session{}, "user_id = ?", company); n == 0 {
				t.Fatal("the sessions ended before the confirmation")
			}
			tb.do("confirm by keyboard", chromedp.Focus(`[data-testid="end-sessions"]`),
				chromedp.KeyEvent(" "), chromedp.WaitVisible(testID("notice")))
			if n := count(t, app, &models.Session{}, "user_id = ?", company); n != 0 {
				t.Errorf("%d sessions of the user left after confirming, want 0", n)
			}
			tb.page("after ending")
		})
	}
}

func wantNoSideScroll(tb *tab, page string) {
	tb.t.Helper()
	if got := tb.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		tb.t.Errorf("%s: the page scrolls sideways (scrollWidth %s, width %s): %s", page,
			tb.eval(`String(document.documentElement.scrollWidth)`), tb.eval(`String(window.innerWidth)`),
			tb.eval(`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth).slice(0, 8).map(e => e.tagName + '.' + e.className + '[' + (e.dataset.testid || '') + ']').join(' ')`))
	}
	// A badge whose text wraps must grow with it: a fixed height let a
	// signature's badge spill over the party named above it.
	if got := tb.eval(`Array.from(document.querySelectorAll('.krds-badge')).filter(e => e.scrollHeight > e.clientHeight + 1).map(e => e.textContent.trim()).join(' | ')`); got != "" {
		tb.t.Errorf("%s: badges overflow their box: %s", page, got)
	}
}
