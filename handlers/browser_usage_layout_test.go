package handlers

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserUsageReportPagesAtPhoneAndDesktop: at a phone's width and a
// desktop's, the team's months, its report form, the verification result,
// the auditors' queue and the officers' settings do not scroll sideways,
// show their figures in captioned tables (the chart's included), and their
// controls are reached by keyboard.
func TestBrowserUsageReportPagesAtPhoneAndDesktop(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			u := newUsageStory(t, testdb.SQLite)
			base := u.app.srv.URL
			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.signIn(u.app, "demo-company-upstage", "company-dashboard")
			tb.do("open the usage reports", chromedp.Navigate(base+"/company/usage-reports"), chromedp.WaitVisible(testID("report-months")))
			tb.page("/company/usage-reports")
			if size[0] >= 1024 {
				if v := tb.eval(`getComputedStyle(document.querySelector('[data-testid="menu-close"]')).display`); v != "none" {
					t.Errorf("the menu panel's close button shows on a desktop (display %s)", v)
				}
			}
			wantNoSideScroll(tb, "the team's months")
			wantFiguresAsTables(tb, "the team's months")
			tb.tabToSel(`[data-testid="report-month"][data-month="2026-11"] [data-testid="report-form-link"]`)
			tb.do("open November's form by keyboard", chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("report-form")))
			tb.page("/usage-reports/allocations/:id/:month")
			wantNoSideScroll(tb, "the report form")
			for _, sel := range []string{"#gpu_hours", "#mean_util", "#purpose", "#workloads", `[data-testid="report-submit"]`} {
				tb.tabToSel(sel)
			}
			tb.do("fill in and submit the report",
				chromedp.SetValue(chromedp.CSS("#gpu_hours"), "2880"),
				chromedp.SetValue(chromedp.CSS("#mean_util"), "60"),
				chromedp.SetValue(chromedp.CSS("#purpose"), "한국어 기반 모델 사전학습"),
				chromedp.SetValue(chromedp.CSS("#workloads"), "pretraining run 3"),
				chromedp.Focus(testID("report-submit")), chromedp.KeyEvent("\r"), // by keyboard: no click lands mid-scroll
				chromedp.WaitVisible(testID("verification-facts")))
			tb.page("/usage-reports/:rid")
			wantNoSideScroll(tb, "the verification result")
			// A label and its value side by side leave the value room to read.
			if n := tb.count(`Array.from(document.querySelectorAll('main .portal-facts dd')).filter(d => d.getBoundingClientRect().width < 120).length`); n != 0 {
				t.Errorf("%d values of the result squeezed under 120 px wide", n)
			}
			wantFiguresAsTables(tb, "the verification result")
			if n := tb.count(`document.querySelectorAll('[data-testid="day-chart"]').length`); n != 1 {
				t.Errorf("%d per-day charts, want 1", n)
			}
			tb.screenshot(fmt.Sprintf("usage-result-%d", size[0]))
			tb.done()

			aud := b.newTab(t)
			aud.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			aud.signIn(u.app, "demo-auditor", "auditor-dashboard")
			aud.do("open the queue", chromedp.Navigate(base+"/auditor/usage-reports"), chromedp.WaitVisible(testID("report-queue")))
			aud.page("/auditor/usage-reports")
			wantNoSideScroll(aud, "the auditors' queue")
			wantFiguresAsTables(aud, "the auditors' queue")
			aud.tabToSel(`[data-testid="queue-row"] a`)
			aud.screenshot(fmt.Sprintf("usage-queue-%d", size[0]))

			// The invoice line's result with its per-day chart, and the summary.
			line, _, err := models.EnterInvoiceLine(t.Context(), u.app.db, models.InvoiceInput{AllocationID: itoa(u.alloc.ID), Month: "2026-11",
				BilledHours: "5760", Availability: "100"}, u.officer(), u.now())
			if err != nil {
				t.Fatal(err)
			}
			aud.do("open the invoice line", chromedp.Navigate(fmt.Sprintf("%s/invoices/%d", base, line.ID)), chromedp.WaitVisible(testID("invoice-days")))
			aud.page("/invoices/:iid")
			wantNoSideScroll(aud, "the invoice line")
			wantFiguresAsTables(aud, "the invoice line")
			if n := aud.count(`document.querySelectorAll('[data-testid="day-chart"]').length`); n != 1 {
				t.Errorf("%d per-day charts on the invoice line, want 1", n)
			}
			aud.screenshot(fmt.Sprintf("usage-invoice-%d", size[0]))
			aud.do("open the summary", chromedp.Navigate(base+"/auditor/usage-summary?month=2026-11"), chromedp.WaitVisible(testID("usage-summary")))
			aud.page("/auditor/usage-summary")
			wantNoSideScroll(aud, "the usage summary")
			wantFiguresAsTables(aud, "the usage summary")
			aud.screenshot(fmt.Sprintf("usage-summary-%d", size[0]))
			aud.done()

			off := b.newTab(t)
			off.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			off.signIn(u.app, "demo-officer", "officer-dashboard")
			off.do("open the settings", chromedp.Navigate(base+"/officer/usage-settings"), chromedp.WaitVisible(testID("settings-form")))
			off.page("/officer/usage-settings")
			wantNoSideScroll(off, "the verification settings")
			off.tabToSel(`[data-testid="settings-save"]`)
		})
	}
}
