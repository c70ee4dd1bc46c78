package handlers

import (
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserUsageReport: in Chromium, the team fills in November's report
// and submits it, and sees it verified with the per-day chart and its
// table; the auditor opens it from the queue and signs it off after the
// confirmation page.
func TestBrowserUsageReport(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	u := newUsageStory(t, testdb.SQLite)
	base := u.app.srv.URL

	tb := b.newTab(t)
	tb.applySignIn(base, "company", "demo-company-upstage", "company-dashboard")
	tb.do("open the usage reports", chromedp.Navigate(base+"/company/usage-reports"), chromedp.WaitVisible(testID("report-months")))
	tb.page("/company/usage-reports")
	tb.do("open November's form",
		chromedp.Click(chromedp.CSS(`[data-testid="report-month"][data-month="2026-11"] [data-testid="report-form-link"]`)),
		chromedp.WaitVisible(testID("report-form")))
	tb.page("/usage-reports/allocations/:id/:month")
	tb.do("fill in and submit the report",
		chromedp.SetValue(chromedp.CSS("#gpu_hours"), "2880"),
		chromedp.SetValue(chromedp.CSS("#mean_util"), "60"),
		chromedp.SetValue(chromedp.CSS("#purpose"), "한국어 기반 모델 사전학습"),
		chromedp.SetValue(chromedp.CSS("#workloads"), "pretraining run 3"),
		chromedp.Click(testID("report-submit")),
		chromedp.WaitVisible(testID("verification-facts")))
	tb.page("/usage-reports/:rid")
	if o := tb.applyAttr(`[data-testid="verification-facts"] [data-testid="report-outcome"]`, "data-outcome"); o != models.OutcomeVerified {
		t.Errorf("outcome %q, want verified", o)
	}
	if n := tb.eval(`String(document.querySelectorAll('[data-testid="day-row"]').length)`); n != "30" {
		t.Errorf("%s day rows, want 30", n)
	}
	if n := tb.eval(`String(document.querySelectorAll('[data-testid="day-chart"] rect').length)`); n != "60" {
		t.Errorf("%s bars, want 60", n)
	}
	tb.screenshot("usage-report-verified")

	aud := b.newTab(t)
	aud.applySignIn(base, "auditor", "demo-auditor", "auditor-dashboard")
	aud.do("open the queue", chromedp.Navigate(base+"/auditor/usage-reports"), chromedp.WaitVisible(testID("report-queue")))
	aud.page("/auditor/usage-reports")
	aud.do("open the report", chromedp.Click(chromedp.CSS(`[data-testid="queue-row"] a`)), chromedp.WaitVisible(testID("audit-actions")))
	aud.page("/usage-reports/:rid as the auditor")
	aud.do("sign off", chromedp.Click(testID("sign-off")), chromedp.WaitVisible(testID("confirm")))
	aud.page("sign-off confirmation")
	aud.do("confirm", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("verification-facts")))
	aud.page("signed off")
	if s := aud.applyAttr(`[data-testid="report-state"]`, "data-state"); s != models.ReportSignedOff {
		t.Errorf("state %q, want signed_off", s)
	}
}
