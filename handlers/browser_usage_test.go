package handlers

import (
	"strings"
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
	tb.signIn(u.app, "demo-company-upstage", "company-dashboard")
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
	if n := tb.eval(`String(document.querySelectorAll('[data-testid="day-chart"] rect').length)`); n != "30" {
		t.Errorf("%s bars, want 30", n)
	}
	tb.screenshot("usage-report-verified")

	aud := b.newTab(t)
	aud.signIn(u.app, "demo-auditor", "auditor-dashboard")
	aud.do("open the queue", chromedp.Navigate(base+"/auditor/usage-reports"), chromedp.WaitVisible(testID("report-queue")))
	aud.page("/auditor/usage-reports")
	aud.do("open the report", chromedp.Click(chromedp.CSS(`[data-testid="queue-row"] a`)), chromedp.WaitVisible(testID("audit-actions")))
	aud.page("/usage-reports/:rid as the auditor")
	result := aud.path()

	// Returned with a note (after the confirmation page), revised by the
	// team with its input kept in the form, and submitted again.
	const note = "작업 이름을 모두 적어 주십시오."
	aud.do("return with a note", chromedp.SetValue(chromedp.CSS("#note"), note), chromedp.Click(testID("return")),
		chromedp.WaitVisible(testID("confirm")))
	aud.page("return confirmation")
	aud.do("confirm the return", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("verification-facts")))
	if s := aud.applyAttr(`[data-testid="report-state"]`, "data-state"); s != models.ReportReturned {
		t.Errorf("state %q after the return, want returned", s)
	}
	tb.do("open the returned report's form", chromedp.Navigate(base+"/company/usage-reports"), chromedp.WaitVisible(testID("report-months")),
		chromedp.Navigate(base+u.formPath()), chromedp.WaitVisible(testID("return-note")))
	tb.page("the returned report's form")
	if got := tb.eval(`document.querySelector('[data-testid="return-note"]').textContent`); !strings.Contains(got, note) {
		t.Errorf("the form does not show the auditor's note: %q", got)
	}
	if got := tb.eval(`document.querySelector('#gpu_hours').value`); got != "2880" {
		t.Errorf("the returned form holds %q GPU-hours, want the 2880 submitted", got)
	}
	tb.do("revise and submit again",
		chromedp.SetValue(chromedp.CSS("#job_names"), "slurm:1201 slurm:1202"),
		chromedp.Click(testID("report-submit")),
		chromedp.WaitVisible(testID("verification-facts")))
	tb.page("resubmitted")
	if s := tb.applyAttr(`[data-testid="report-state"]`, "data-state"); s != models.ReportSubmitted {
		t.Errorf("state %q after the revision, want submitted", s)
	}
	if n := tb.eval(`String(document.querySelectorAll('[data-testid="verification-row"]').length)`); n != "2" {
		t.Errorf("%s verifications listed after the revision, want 2 (the first kept)", n)
	}
	aud.do("open the resubmitted report", chromedp.Navigate(base+result), chromedp.WaitVisible(testID("audit-actions")))
	aud.do("sign off", chromedp.Click(testID("sign-off")), chromedp.WaitVisible(testID("confirm")))
	aud.page("sign-off confirmation")
	aud.do("confirm", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("verification-facts")))
	aud.page("signed off")
	if s := aud.applyAttr(`[data-testid="report-state"]`, "data-state"); s != models.ReportSignedOff {
		t.Errorf("state %q, want signed_off", s)
	}
}
