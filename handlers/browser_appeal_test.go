package handlers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// TestBrowserAppealJourney is an appeal in a real Chromium: KAIST, not
// selected, files an appeal with an evidence PDF on the last day of the
// window, thirty seconds before it closes, and gets its receipt; the officer
// starts the review and dismisses the appeal with reasons; KAIST signs in
// again and reads them. Every page must load without a CSP violation or a
// script error.
func TestBrowserAppealJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	f := newAplFixture(t, testdb.SQLite)
	base := f.app.srv.URL
	decisionPath := "/decisions/" + itoa(f.decision.ID)

	// Monday 2026-12-07, the last day: 23:59:30 KST.
	f.app.clock.Set(f.window.Closes.Add(-30 * time.Second))
	if got := views.KST(f.app.clock.Now()); got != "2026-12-07 23:59:30 KST" {
		t.Fatalf("clock at %s", got)
	}
	pdf := demo.PDF([]string{"Evidence", "Minutes of the evaluation panel"})
	pdfPath := filepath.Join(t.TempDir(), "평가위원회-회의록.pdf")
	if err := os.WriteFile(pdfPath, pdf, 0o600); err != nil {
		t.Fatal(err)
	}

	// KAIST reads the decision and files the appeal.
	team := b.newTab(t)
	team.signIn(f.app, "demo-company-kaist", "company-dashboard")
	team.do("open the decision", chromedp.Navigate(base+decisionPath), chromedp.WaitVisible(testID("appeal-link")))
	if got := team.applyAttr(`[data-testid="own-status"]`, "data-selected"); got != "false" {
		t.Errorf("KAIST's own result selected = %q, want false", got)
	}
	if got := team.text(`[data-testid="appeal-closes"]`); got != aplCloses {
		t.Errorf("closing instant shown %q, want %q", got, aplCloses)
	}
	team.page(decisionPath)
	// The countdown starts from the server's 30 seconds (whatever this
	// computer's clock says) and counts down every second.
	cd := `[data-testid="appeal-window"] [data-testid="countdown"]`
	// The browser's own elapsed time is measured too: under load a 2.2 s
	// timer can fire late, and the countdown must follow the time that
	// actually passed, a second per second.
	ticks := team.eval(`new Promise(r => { const el = document.querySelector('` + cd + `');
		const a = el.getAttribute('data-remaining'), t0 = performance.now();
		setTimeout(() => r(a + ' ' + el.getAttribute('data-remaining') + ' ' + Math.round(performance.now() - t0)), 2200) })`)
	var before, after, elapsedMS int
	_, err := fmt.Sscan(ticks, &before, &after, &elapsedMS)
	down, elapsed := before-after, elapsedMS/1000
	if err != nil || before > 30 || before < 20 || down < elapsed-1 || down > elapsed+2 || down < 1 {
		t.Errorf("countdown went from %d to %d s in %d ms (%q), want from at most 30 down by a second a second", before, after, elapsedMS, ticks)
	}
	if got := team.text(cd); !strings.HasPrefix(got, "0일 00시간 00분 ") || !strings.HasSuffix(got, "초 남음") {
		t.Errorf("countdown text %q", got)
	}
	team.screenshot("appeal-decision-ko")

	team.do("open the appeal form", chromedp.Click(testID("appeal-link")), chromedp.WaitVisible(testID("appeal-form")))
	if got := team.text(`[data-testid="window-closes"]`); got != aplCloses {
		t.Errorf("the form shows the close at %q", got)
	}
	team.page(f.appealPath())
	team.screenshot("appeal-form-ko")
	statement := "평가위원회 구성이 공고문과 달랐습니다. 회의록을 첨부합니다."
	team.do("file the appeal",
		chromedp.SetValue(chromedp.CSS(`#ground`), string(models.GroundProceduralDefect)),
		chromedp.SetValue(chromedp.CSS(`#statement`), statement),
		chromedp.SetUploadFiles(chromedp.CSS(`#evidence`), []string{pdfPath}),
		chromedp.Click(testID("appeal-submit")),
		chromedp.WaitVisible(testID("appeal-receipt")))
	as, err := models.ListAppeals(t.Context(), f.app.db, models.AppealFilter{DecisionID: f.decision.ID})
	if err != nil || len(as) != 1 {
		t.Fatalf("%d appeals, %v; want 1", len(as), err)
	}
	a, err := models.GetAppeal(t.Context(), f.app.db, as[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := team.text(`[data-testid="appeal-receipt"]`); got != a.Receipt || !strings.HasPrefix(got, "KAI-APL-20261207-") {
		t.Errorf("receipt shown %q, stored %q", got, a.Receipt)
	}
	if got := team.text(`[data-testid="appeal-filed-at"]`); got != "2026-12-07 23:59:30 KST" {
		t.Errorf("filed at %q", got)
	}
	if len(a.Evidence) != 1 || a.Evidence[0].File.Name != "평가위원회-회의록.pdf" || a.Evidence[0].File.Kind != models.FilePDF {
		t.Errorf("evidence stored %+v", a.Evidence)
	}
	if got := team.text(`[data-testid="evidence-link"]`); got != "평가위원회-회의록.pdf" {
		t.Errorf("evidence shown %q", got)
	}
	team.do("the print button appears", chromedp.WaitVisible(testID("print")))
	team.page("/appeals/:id?filed=1")
	team.screenshot("appeal-receipt-ko")

	// The officer reviews and dismisses it with reasons.
	reasons := "평가위원회 구성은 공고문 제5조에 따른 것으로 하자가 없습니다."
	off := b.newTab(t)
	off.signIn(f.app, "demo-officer", "officer-dashboard")
	row := `[data-testid="appeal-row"][data-id="` + itoa(a.ID) + `"]`
	off.do("open the appeals", chromedp.Click(chromedp.CSS(`nav a[href="/appeals"]`)), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := off.applyAttr(row, "data-status"); got != string(models.AppealReceived) {
		t.Errorf("listed as %q", got)
	}
	off.page("/appeals")
	off.do("open the appeal", chromedp.Click(chromedp.CSS(row+` [data-testid="appeal-link"]`)), chromedp.WaitVisible(testID("start-review")))
	off.page("/appeals/:id")
	off.do("start the review", chromedp.Click(testID("start-review")), chromedp.WaitVisible(testID("decide-form")))
	off.page("/appeals/:id (under review)")
	off.do("dismiss with reasons",
		chromedp.Click(testID("outcome-dismiss")),
		chromedp.SetValue(chromedp.CSS(`#reasons`), reasons),
		chromedp.Click(testID("decide-submit")),
		chromedp.WaitVisible(testID("confirm")))
	if got := off.text(`[data-testid="confirm-reasons"]`); got != reasons {
		t.Errorf("the confirmation shows the reasons %q", got)
	}
	off.page("/appeals/:id/decide (confirm)")
	off.do("confirm the answer", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("appeal-answer")))
	if got := off.applyAttr(`[data-testid="appeal"]`, "data-status"); got != string(models.AppealDismissed) {
		t.Errorf("after the answer the appeal is %q", got)
	}
	off.page("/appeals/:id (dismissed)")

	// KAIST signs in again and reads the reasons.
	team.signIn(f.app, "demo-company-kaist", "company-dashboard")
	team.do("open our appeals", chromedp.Click(chromedp.CSS(`nav a[href="/appeals"]`)), chromedp.WaitVisible(chromedp.CSS(row)))
	team.page("/appeals as KAIST")
	team.do("open the appeal", chromedp.Click(chromedp.CSS(row+` [data-testid="appeal-link"]`)), chromedp.WaitVisible(testID("appeal-reasons")))
	if got := team.text(`[data-testid="appeal-reasons"]`); got != reasons {
		t.Errorf("reasons read %q, want %q", got, reasons)
	}
	if got := team.text(`[data-testid="appeal-facts"] [data-testid="appeal-status"]`); got != "기각" {
		t.Errorf("status read %q", got)
	}
	team.do("no officer actions for the team", chromedp.WaitNotPresent(testID("appeal-actions")))
	team.page("/appeals/:id as KAIST")
	team.screenshot("appeal-dismissed-ko")
}
