package handlers

import (
	"crypto/sha256"
	"encoding/hex"
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

// TestBrowserApplyReviewPublish is the first half of the programme in a real
// Chromium: a company drafts an application, uploads its business plan and
// submits it; after the close an officer assigns themself, declares no
// conflict, scores, ranks and publishes the decision; the public reads it.
// Every page must load without a CSP violation or a script error.
func TestBrowserApplyReviewPublish(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	s := newStory(t, testdb.SQLite, nil)
	app, officer := s.app, s.officer()

	// A call open at the test clock, with two criteria and one required document.
	now := app.clock.Now()
	call := s.saveCall(&models.Call{
		TitleKO: "2026년 K-AI 특화 모델 공모", TitleEN: "2026 call for specialised K-AI models",
		DescriptionKO: "브라우저 시험용 공모입니다.", DescriptionEN: "A call for the browser test.",
		OpensAt: now.Add(-24 * time.Hour), ClosesAt: now.Add(7 * 24 * time.Hour), Slots: 1,
		Criteria: []models.Criterion{
			{NameKO: "기술력", NameEN: "Technology", Weight: 60, MaxScore: 100},
			{NameKO: "파급력", NameEN: "Impact", Weight: 40, MaxScore: 100},
		},
		Documents: []models.RequiredDocument{{NameKO: "사업계획서", NameEN: "Business plan", Required: true}},
	})
	planID := itoa(call.Documents[0].ID)

	pdf := demo.PDF([]string{"Business plan", "Applicant: KAIST", "Browser journey"})
	pdfPath := filepath.Join(t.TempDir(), "business-plan.pdf")
	if err := os.WriteFile(pdfPath, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	pdfSHA := hex.EncodeToString(sum[:])
	base := app.srv.URL

	// The company drafts, uploads and submits.
	company := b.newTab(t)
	company.signIn(app, "demo-company-kaist", "company-dashboard")
	company.do("open my applications", chromedp.Click(chromedp.CSS(`nav a[href="/company/applications"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-call"][data-id="`+itoa(call.ID)+`"]`)))
	company.page("/company/applications")
	company.do("start an application",
		chromedp.Click(chromedp.CSS(`[data-testid="open-call"][data-id="`+itoa(call.ID)+`"] [data-testid="apply"]`)),
		chromedp.WaitVisible(testID("new-application-form")))
	company.page("/calls/:id/apply")
	company.do("draft the application",
		chromedp.SetValue(chromedp.CSS(`#title_ko`), "오픈소스 학술 특화 모델"),
		chromedp.SetValue(chromedp.CSS(`#title_en`), "An open academic model"),
		chromedp.SetValue(chromedp.CSS(`#summary`), "학습 데이터와 가중치를 모두 공개합니다."),
		chromedp.Click(testID("create-application")),
		chromedp.WaitVisible(testID("application")))
	appID := company.applyAttr(`[data-testid="application"]`, "data-id")
	if got, want := company.path(), "/applications/"+appID; got != want {
		t.Errorf("after creating the draft: %s, want %s", got, want)
	}
	if got := company.applyAttr(`[data-testid="application-status"]`, "data-status"); got != string(models.StatusDraft) {
		t.Errorf("new application is %q, want draft", got)
	}
	company.page("/applications/:id (draft)")

	uploaded := `[data-testid="document-row"][data-required-id="` + planID + `"] [data-testid="document-sha256"]`
	company.do("upload the business plan",
		chromedp.SetUploadFiles(chromedp.CSS(`#file-`+planID), []string{pdfPath}),
		chromedp.Click(chromedp.CSS(`[data-testid="document-upload-row"][data-required-id="`+planID+`"] [data-testid="upload"]`)),
		chromedp.WaitVisible(chromedp.CSS(uploaded)))
	if got := company.text(uploaded); got != pdfSHA {
		t.Errorf("uploaded file's SHA-256 = %q, want %q", got, pdfSHA)
	}
	company.page("/applications/:id (uploaded)")

	company.do("submit", chromedp.Click(testID("submit-application")), chromedp.WaitVisible(testID("application-receipt")))
	var a models.Application
	if err := app.db.First(&a, appID).Error; err != nil {
		t.Fatal(err)
	}
	if got := company.text(`[data-testid="application-receipt"]`); a.Receipt == "" || got != a.Receipt {
		t.Errorf("receipt shown %q, recorded %q", got, a.Receipt)
	}
	if want := models.ReceiptNumber(a.ID, now); a.Receipt != want || a.Status != models.StatusSubmitted {
		t.Errorf("application is %s with receipt %q, want submitted with %q", a.Status, a.Receipt, want)
	}
	company.page("/applications/:id (submitted)")

	// After the close, the officer reviews, ranks and publishes.
	app.clock.Set(call.ClosesAt.Add(time.Hour))
	off := b.newTab(t)
	off.signIn(app, "demo-officer", "officer-dashboard")
	row := `[data-testid="application-row"][data-app="` + appID + `"]`
	off.do("open the call's applications", chromedp.Navigate(base+"/officer/calls/"+itoa(call.ID)+"/applications"),
		chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="assign-form"]`)))
	off.page("/officer/calls/:id/applications")
	off.do("assign myself as reviewer",
		chromedp.SetValue(chromedp.CSS(`#reviewer-`+appID), itoa(officer.ID)),
		chromedp.Click(chromedp.CSS(row+` [data-testid="assign-form"] button[type="submit"]`)),
		chromedp.WaitVisible(testID("assign-ok")))
	if got := off.applyAttr(row, "data-status"); got != string(models.StatusUnderReview) {
		t.Errorf("after the assignment the application is %q, want under_review", got)
	}
	off.page("/officer/calls/:id/applications (assigned)")

	off.do("open my reviews", chromedp.Click(chromedp.CSS(`nav a[href="/reviews"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="review-row"] [data-testid="review-link"]`)))
	off.page("/reviews")
	off.do("open the review", chromedp.Click(chromedp.CSS(`[data-testid="review-row"] [data-testid="review-link"]`)),
		chromedp.WaitVisible(testID("conflict-form")))
	off.page("/reviews/:aid")
	off.do("declare no conflict of interest",
		chromedp.Click(chromedp.CSS(`[data-testid="conflict-form"] input[name="conflict"][value="none"]`)),
		chromedp.Click(testID("conflict-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="conflict-state"][data-conflict="none"]`)))
	off.page("/reviews/:aid (no conflict)")
	var scoring []chromedp.Action[chromedp.Void]
	for i, cr := range call.Criteria {
		id := itoa(cr.ID)
		scoring = append(scoring,
			chromedp.SetValue(chromedp.CSS(`[name="score.`+id+`"]`), fmt.Sprint(90-i*5)),
			chromedp.SetValue(chromedp.CSS(`[name="comment.`+id+`"]`), cr.NameKO+": 계획이 구체적임."))
	}
	scoring = append(scoring, chromedp.Click(testID("scores-submit")), chromedp.WaitVisible(testID("scores-saved")))
	off.do("score every criterion", scoring...)
	off.page("/reviews/:aid (scored)")

	rankRow := `[data-testid="ranking-row"][data-app="` + appID + `"]`
	off.do("open the ranking", chromedp.Navigate(base+"/officer/calls/"+itoa(call.ID)+"/ranking"),
		chromedp.WaitVisible(chromedp.CSS(rankRow)))
	if got := off.applyAttr(rankRow, "data-rank"); got != "1" {
		t.Errorf("the application ranks %q, want 1", got)
	}
	off.page("/officer/calls/:id/ranking")
	if off.eval(`String(document.querySelector('`+rankRow+` [data-testid="select"]').checked)`) != "true" {
		off.do("select the application", chromedp.Click(chromedp.CSS(rankRow+` [data-testid="select"]`)))
	}
	off.do("publish the decision",
		chromedp.SetValue(chromedp.CSS(`#notice_ko`), "특화 모델 공모 평가 결과 1개 팀을 선정하였습니다. 이의신청은 발표일로부터 10일간 받습니다."),
		chromedp.SetValue(chromedp.CSS(`#notice_en`), "One team was selected. Objections are accepted for 10 days from the announcement."),
		chromedp.Click(testID("publish-submit")),
		chromedp.WaitVisible(testID("confirm")))
	if got := off.applyAttr(`[data-testid="confirm-selected-team"]`, "data-app"); got != appID {
		t.Errorf("the confirmation selects application %q, want %s", got, appID)
	}
	off.page("/officer/calls/:id/decision (confirm)")
	off.do("confirm publishing", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("decision")))
	decisionPath := off.path()
	if !strings.HasPrefix(decisionPath, "/decisions/") {
		t.Fatalf("publishing led to %s, want /decisions/:id", decisionPath)
	}
	if got := off.text(`[data-testid="ranking-link"]`); got == "" {
		t.Error("the officer sees no link to the ranking on the decision")
	}
	off.page("/decisions/:id as the officer")
	off.done()

	// The public reads the decision.
	pub := b.newTab(t)
	pub.do("open the published results", chromedp.Navigate(base+"/decisions"), chromedp.WaitVisible(testID("decision-link")))
	if got := pub.applyAttr(`[data-testid="decision-link"]`, "href"); got != decisionPath {
		t.Errorf("the list links to %q, want %q", got, decisionPath)
	}
	pub.page("/decisions")
	pub.do("open the decision", chromedp.Click(testID("decision-link")), chromedp.WaitVisible(testID("selected-team")))
	if got := pub.text(`[data-testid="team-name"]`); got != "한국과학기술원(KAIST)" {
		t.Errorf("selected team = %q, want KAIST", got)
	}
	if got := pub.text(`[data-testid="decision-notice"]`); !strings.HasPrefix(got, "특화 모델 공모 평가 결과") {
		t.Errorf("notice = %q", got)
	}
	if got, want := pub.text(`[data-testid="decision-published-at"]`), views.KST(app.clock.Now()); got != want {
		t.Errorf("published at %q, want %q", got, want)
	}
	pub.do("no private content for the public", chromedp.WaitNotPresent(testID("own-result")),
		chromedp.WaitNotPresent(testID("officer-links")))
	pub.page("/decisions/:id")
	pub.screenshot("decision-public-ko")

	// The company (signed in again: a week has passed) sees its own result there too.
	company.signIn(app, "demo-company-kaist", "company-dashboard")
	company.do("open the decision as the company", chromedp.Navigate(base+decisionPath), chromedp.WaitVisible(testID("own-result")))
	if got := company.applyAttr(`[data-testid="own-status"]`, "data-selected"); got != "true" {
		t.Errorf("own result selected = %q, want true", got)
	}
	if got := company.applyAttr(`[data-testid="own-rank"]`, "data-rank"); got != "1" {
		t.Errorf("own rank = %q, want 1", got)
	}
	company.page("/decisions/:id as the company")
}

// applyAttr returns an attribute of the first element matching sel.
func (tb *tab) applyAttr(sel, name string) string {
	tb.t.Helper()
	r := run(tb, "attribute "+name+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if !r.Exists {
		tb.t.Fatalf("browser: %s has no attribute %s", sel, name)
	}
	return r.Value
}
