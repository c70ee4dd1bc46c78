package handlers

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserInvoiceAndSummary: in Chromium at 390 px and 1400 px, an
// officer enters a provider's invoice line by keyboard and sees it
// verified; the auditor finds it in the queue filtered to invoices and
// signs it off after the confirmation; the summary page shows the team's
// month with no side scroll.
func TestBrowserInvoiceAndSummary(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := newTestBrowser(t)
			u := newUsageStory(t, testdb.SQLite)
			base := u.app.srv.URL

			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.signIn(u.app, "demo-officer", "officer-dashboard")
			tb.do("open the invoices", chromedp.Navigate(base+"/officer/invoices"), chromedp.WaitVisible(testID("invoice-form")))
			tb.page("/officer/invoices")
			wantNoSideScroll(tb, "invoices page")
			for _, sel := range []string{"#allocation_id", "#month", "#billed_gpu_hours", "#availability_pct", "#reference",
				`[data-testid="invoice-save"]`, "#invoice-file", `[data-testid="invoice-import"]`} {
				tb.tabToSel(sel)
			}
			tb.do("fill in the line",
				chromedp.SetValue(chromedp.CSS("#allocation_id"), itoa(u.alloc.ID)),
				chromedp.SetValue(chromedp.CSS("#month"), "2026-11"),
				chromedp.SetValue(chromedp.CSS("#billed_gpu_hours"), "5760"),
				chromedp.SetValue(chromedp.CSS("#availability_pct"), "100"),
				chromedp.Focus(testID("invoice-save")), chromedp.KeyEvent("\r"), // by keyboard: no click lands mid-scroll
				chromedp.WaitVisible(testID("verification-facts")))
			tb.page("/invoices/:iid")
			wantNoSideScroll(tb, "invoice line")
			if o := tb.applyAttr(`[data-testid="verification-facts"] [data-testid="report-outcome"]`, "data-outcome"); o != models.OutcomeVerified {
				t.Errorf("outcome %q, want verified", o)
			}
			tb.screenshot(fmt.Sprintf("invoice-%d", size[0]))
			tb.done()

			aud := b.newTab(t)
			aud.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			aud.signIn(u.app, "demo-auditor", "auditor-dashboard")
			aud.do("open the queue of invoices", chromedp.Navigate(base+"/auditor/usage-reports?kind=invoice"), chromedp.WaitVisible(testID("report-queue")))
			aud.page("/auditor/usage-reports?kind=invoice")
			wantNoSideScroll(aud, "queue")
			aud.do("open the line", chromedp.Click(chromedp.CSS(`[data-testid="queue-row"][data-kind="invoice"] a`)), chromedp.WaitVisible(testID("audit-actions")))
			aud.do("sign off", chromedp.Click(testID("sign-off")), chromedp.WaitVisible(testID("confirm")))
			aud.page("sign-off confirmation")
			aud.do("confirm", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("verification-facts")))
			if s := aud.applyAttr(`[data-testid="report-state"]`, "data-state"); s != models.ReportSignedOff {
				t.Errorf("state %q, want signed_off", s)
			}
			aud.do("open the summary", chromedp.Navigate(base+"/auditor/usage-summary?month=2026-11"), chromedp.WaitVisible(testID("usage-summary")))
			aud.page("/auditor/usage-summary")
			wantNoSideScroll(aud, "summary")
			wantFiguresAsTables(aud, "summary")
			aud.tabToSel(`[data-testid="bulk-export"]`)
			aud.screenshot(fmt.Sprintf("usage-summary-%d", size[0]))
		})
	}
}
