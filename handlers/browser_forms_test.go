package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserAppealKeptAfterSessionExpiry is the appeal written against
// its deadline on a phone (390×844): KAIST types it, the session ends for
// inactivity (the portal's clock moves past the idle limit), they press
// submit, sign in again, and find the text back with the notice that it was
// not submitted; then they submit it.
func TestBrowserAppealKeptAfterSessionExpiry(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	f := newAplFixture(t, testdb.SQLite)
	base := f.app.srv.URL
	page := f.appealPath()

	team := b.newTab(t)
	team.do("phone size", chromedp.EmulateViewport(390, 844))
	team.signIn(f.app, "demo-company-kaist", "company-dashboard")
	team.do("open the appeal form", chromedp.Navigate(base+page), chromedp.WaitVisible(testID("appeal-form")))
	team.page(page)
	statement := "평가위원회 구성이 공고문과 달랐습니다. 마감 직전에 휴대전화로 작성했습니다."
	team.do("type the appeal",
		chromedp.SetValue(chromedp.CSS(`#ground`), string(models.GroundProceduralDefect)),
		chromedp.SetValue(chromedp.CSS(`#statement`), statement))

	f.app.clock.Advance(f.app.cfg.SessionIdle + time.Minute)
	team.do("submit after the session ended", chromedp.Click(testID("appeal-submit")), chromedp.WaitVisible(testID("session-ended-kept")))
	if got := team.path(); got != "/auth/signin" {
		t.Errorf("sent to %s, want /auth/signin", got)
	}
	team.page("/auth/signin (kept)")
	team.screenshot("form-kept-signin-390")
	if n := count(t, f.app, &models.Appeal{}, "1 = 1"); n != 0 {
		t.Fatalf("%d appeals filed after the session ended", n)
	}

	team.do("sign in again", chromedp.Click(chromedp.CSS(`[data-testid="demo-company"][data-subject="demo-company-kaist"]`)),
		chromedp.WaitVisible(testID("form-restored")))
	if got := team.path(); got != page {
		t.Errorf("back on %s, want %s", got, page)
	}
	if got := team.eval(`document.querySelector('#statement').value`); got != statement {
		t.Errorf("statement back as %q", got)
	}
	if got := team.eval(`document.querySelector('#ground').value`); got != string(models.GroundProceduralDefect) {
		t.Errorf("ground back as %q", got)
	}
	if got := team.text(`[data-testid="form-restored"]`); !strings.Contains(got, "아직 제출되지 않았습니다") {
		t.Errorf("restored notice %q", got)
	}
	if w := team.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); w != "true" {
		t.Error("the restored form is wider than the phone")
	}
	team.page(page + " (restored)")
	team.screenshot("form-restored-390")

	team.do("submit it", chromedp.Click(testID("appeal-submit")), chromedp.WaitVisible(testID("appeal-receipt")))
	as, err := models.ListAppeals(t.Context(), f.app.db, models.AppealFilter{DecisionID: f.decision.ID})
	if err != nil || len(as) != 1 || as[0].Statement != statement {
		t.Fatalf("appeals %+v, %v; want the restored one filed", as, err)
	}
	team.page("/appeals/:id?filed=1")
}

// TestBrowserSessionWarning: shortly before the session ends for
// inactivity, the page says so; "stay signed in" renews it. The idle limit
// is 12 s here, so the warning comes 6 s after the page loads.
func TestBrowserSessionWarning(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, map[string]string{"PORTAL_SESSION_IDLE": "12s"})
	tb := b.newTab(t)
	tb.do("phone size", chromedp.EmulateViewport(390, 844))
	tb.signIn(app, "demo-company-kaist", "company-dashboard")
	tb.do("no warning yet", chromedp.WaitNotVisible(testID("session-warning-box")))
	tb.do("the warning comes", chromedp.WaitVisible(testID("session-keepalive")))
	if got := tb.text(`[data-session-left]`); !strings.HasSuffix(got, "초") {
		t.Errorf("time left %q", got)
	}
	tb.screenshot("session-warning-390")
	tb.do("stay signed in", chromedp.Click(testID("session-keepalive")), chromedp.WaitVisible(testID("session-renewed")))
	tb.page("/company (renewed)")
}

// TestBrowserErrorSummaryFocus: a failed form takes the focus to its error
// summary, whose entries name their fields and lead to them.
func TestBrowserErrorSummaryFocus(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	tb := b.newTab(t)
	tb.do("phone size", chromedp.EmulateViewport(390, 844))
	tb.signIn(app, "demo-officer", "officer-dashboard")
	tb.do("open the new call form", chromedp.Navigate(app.srv.URL+"/officer/calls/new"), chromedp.WaitVisible(testID("call-form")))
	tb.do("save it empty", chromedp.Click(testID("call-save")), chromedp.WaitVisible(testID("form-errors")))
	if got := tb.eval(`document.activeElement.getAttribute('data-testid')`); got != "form-errors" {
		t.Errorf("focus on %q after the failed save, want the error summary", got)
	}
	first := tb.eval(`document.querySelector('[data-testid="error-link"]').getAttribute('data-field')`)
	if first != "title_ko" {
		t.Errorf("first entry is %q, want title_ko (the first field of the form)", first)
	}
	if got := tb.text(`[data-testid="error-link"]`); !strings.HasPrefix(got, "공고명") && !strings.Contains(got, ":") {
		t.Errorf("the first entry %q does not name its field", got)
	}
	tb.do("follow the first entry", chromedp.Click(testID("error-link")))
	if got := tb.eval(`document.activeElement.id`); got != "title_ko" {
		t.Errorf("focus on %q after following the entry, want title_ko", got)
	}
	tb.page("/officer/calls (errors)")
	tb.screenshot("error-summary-390")
}
