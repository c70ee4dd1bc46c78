package handlers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// TestBrowserInboxJourney: in a real Chromium at 390 and 1400 px, a notice
// about the demo decision recorded for Upstage shows as an unread count in
// the company user's header (on the cached dashboard), in figures and in
// words; the user opens the inbox and the notice by keyboard, lands on the
// decision page, and the count is gone; the notification settings save by
// keyboard. No page scrolls sideways.
func TestBrowserInboxJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newFullDemo(t, testdb.SQLite)
	base := app.srv.URL
	upstage := demoUser(t, app, "demo-company-upstage")
	_, ds := decisionPaths(t, app.db)
	var decision *models.Decision
	for i := range ds {
		if _, ok := ds[i].Entry(*upstage.OrganisationID); ok {
			decision = &ds[i]
			break
		}
	}
	if decision == nil {
		t.Fatal("no demo decision concerns Upstage")
	}
	decisionPath := fmt.Sprintf("/decisions/%d", decision.ID)
	entry, _ := decision.Entry(*upstage.OrganisationID)
	result := "not_selected"
	if entry.Selected {
		result = "selected"
	}

	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			n := models.Notification{Kind: models.NotifyDecisionPublished, Key: fmt.Sprintf("browser:%d:%d", decision.ID, size[0]),
				Link: decisionPath, To: models.Audience{Organisations: []uint{*upstage.OrganisationID}},
				Params: map[string]string{"call": decision.Call.TitleKO, "result": result, "rank": fmt.Sprint(entry.Rank),
					"opens": strings.TrimSuffix(views.KST(decision.PublishedAt), " KST"), "closes": "2026-12-11 23:59:59"}}
			// The demo's story has told Upstage of things already: read them
			// first, so that the count is this notice's alone.
			if err := models.MarkRead(t.Context(), app.db, upstage.ID, app.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if err := app.db.Transaction(func(tx *gorm.DB) error { return models.Notify(t.Context(), tx, app.clock.Now(), n) }); err != nil {
				t.Fatal(err)
			}

			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.signIn(app, "demo-company-upstage", "company-dashboard")
			if got := tb.text(`[data-testid="unread-count"]`); got != "1" {
				t.Errorf("unread count in the header %q, want 1", got)
			}
			if got := tb.eval(`document.querySelector('[data-testid="unread-text"]').textContent.trim()`); got != "읽지 않은 알림 1건" {
				t.Errorf("the count in words %q", got)
			}
			wantNoSideScroll(tb, "dashboard")
			tb.screenshot(fmt.Sprintf("inbox-header-%d", size[0]))
			// The dashboard again, from the page cache: the count is this request's.
			tb.do("reload the dashboard", chromedp.Navigate(base+"/company"), chromedp.WaitVisible(testID("company-dashboard")))
			if got := tb.text(`[data-testid="unread-count"]`); got != "1" {
				t.Errorf("unread count on the cached dashboard %q, want 1", got)
			}

			tb.do("open the inbox by keyboard", chromedp.Focus(testID("inbox-link")), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("inbox-list")))
			tb.page("/inbox")
			wantNoSideScroll(tb, "inbox")
			tb.screenshot(fmt.Sprintf("inbox-%d", size[0]))
			first := `[data-testid="inbox-item"]:first-child`
			if got := tb.text(first + ` [data-testid="inbox-subject"]`); !strings.Contains(got, decision.Call.TitleKO) {
				t.Errorf("the newest notice's subject %q lacks the call %q", got, decision.Call.TitleKO)
			}
			if got := tb.text(first + ` [data-testid="inbox-unread"]`); got != "읽지 않음" {
				t.Errorf("the notice is not marked unread in words: %q", got)
			}
			tb.do("open the notice by keyboard", chromedp.Focus(first+` [data-testid="inbox-open"]`), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("own-status")))
			tb.page(decisionPath)
			if got := tb.path(); got != decisionPath {
				t.Errorf("the notice led to %s, want %s", got, decisionPath)
			}
			if got := tb.eval(`String(document.querySelector('[data-testid="unread-count"]') === null)`); got != "true" {
				t.Errorf("the count is still shown after reading: %s", tb.text(`[data-testid="unread-count"]`))
			}
			if got := tb.eval(`document.querySelector('[data-testid="unread-text"]').textContent.trim()`); got != "읽지 않은 알림 없음" {
				t.Errorf("the count in words after reading %q", got)
			}
			wantNoSideScroll(tb, "decision")
			tb.screenshot(fmt.Sprintf("inbox-decision-%d", size[0]))

			// The settings: every kind's choice fits the width and saves by keyboard.
			tb.do("open the settings", chromedp.Navigate(base+"/account/notifications"), chromedp.WaitVisible(testID("prefs-form")))
			tb.page("/account/notifications")
			wantNoSideScroll(tb, "settings")
			tb.do("choose the digest for decisions and save by keyboard",
				chromedp.SetValue(chromedp.CSS(`select[name="mode.decision.published"]`), "digest"),
				chromedp.Focus(testID("prefs-save")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("prefs-saved")))
			tb.screenshot(fmt.Sprintf("inbox-prefs-%d", size[0]))
			if p, err := models.GetNoticePrefs(t.Context(), app.db, upstage.ID); err != nil || p.Modes[models.NotifyDecisionPublished] != "digest" {
				t.Errorf("saved settings: %+v %v", p, err)
			}
		})
	}
}
