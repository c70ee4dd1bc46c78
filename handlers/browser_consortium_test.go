package handlers

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserConsortiumJourney is a selected team's consortium change in a
// real Chromium: Upstage (the lead) invites KAIST as a research partner;
// KAIST accepts on its invitations page; Upstage files a change of its own
// share; the officer approves both through the confirmation page; the
// consortium page shows KAIST and the new share. Forms are sent by
// keyboard, and the pages fit a phone's width.
func TestBrowserConsortiumJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	s := newStory(t, testdb.SQLite, nil)
	decided := s.decidedCall("2027년 정예팀 공모", applicant{"upstage", 9, true}, applicant{"kaist", 6, false})
	app := decided.apps["upstage"]
	base := s.app.srv.URL
	page := fmt.Sprintf("/applications/%d/consortium", app.ID)
	kaistOrg := s.org("kaist")

	// The lead invites KAIST.
	lead := b.newTab(t)
	lead.do("set a phone's viewport", chromedp.EmulateViewport(390, 844))
	lead.signIn(s.app, "demo-company-upstage", "company-dashboard")
	lead.do("open the consortium", chromedp.Navigate(base+page), chromedp.WaitVisible(testID("change-form")))
	lead.page("/applications/:id/consortium")
	wantNoSideScroll(lead, "consortium page")
	lead.do("fill the invitation",
		chromedp.Click(testID("kind-add")),
		chromedp.SetValue(chromedp.CSS(`#organisation_id`), itoa(kaistOrg.ID)),
		chromedp.SetValue(chromedp.CSS(`#role`), models.MemberResearch),
		chromedp.SetValue(chromedp.CSS(`#share`), "10"),
		chromedp.SetValue(chromedp.CSS(`#note`), "한국어 추론 평가셋 공동 연구"),
		chromedp.Focus(testID("change-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	if n := lead.count(`document.querySelectorAll('[data-testid="consortium-open"] [data-testid="request-row"][data-status="invited"]').length`); n != 1 {
		t.Fatalf("%d invitations waiting on the lead's page, want 1", n)
	}

	// KAIST accepts on its invitations page.
	member := b.newTab(t)
	member.do("set a phone's viewport", chromedp.EmulateViewport(390, 844))
	member.signIn(s.app, "demo-company-kaist", "company-dashboard")
	member.do("open the invitations", chromedp.Navigate(base+"/company/consortium"), chromedp.WaitVisible(testID("invitations")))
	member.page("/company/consortium")
	wantNoSideScroll(member, "invitations page")
	member.screenshot("consortium-invitations-ko")
	member.do("accept by keyboard", chromedp.Focus(testID("invitation-accept")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	if got := member.applyAttr(`[data-testid="invitation-row"]`, "data-status"); got != string(models.RequestPending) {
		t.Errorf("KAIST's invitation is %s after accepting, want pending (the officer's turn)", got)
	}

	// The lead files a change of its own share.
	lead.do("open the consortium again", chromedp.Navigate(base+page), chromedp.WaitVisible(testID("change-form")))
	lead.do("fill the change",
		chromedp.Click(testID("kind-change")),
		chromedp.SetValue(chromedp.CSS(`#member_id`), itoa(s.memberOf(app.ID, "upstage"))),
		chromedp.SetValue(chromedp.CSS(`#share`), "70"),
		chromedp.SetValue(chromedp.CSS(`#note`), "주관기관 분담 비율 기록"),
		chromedp.Focus(testID("change-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))

	// The officer approves KAIST's addition first, then the share: the
	// share was filed before the addition was applied, so it is stale and
	// refused; filed again, it is approved.
	officer := b.newTab(t)
	officer.signIn(s.app, "demo-officer", "officer-dashboard")
	approve := func(what, after string) {
		officer.do("open the queue", chromedp.Navigate(base+"/officer/consortia"), chromedp.WaitVisible(testID("queue-request")))
		officer.page("/officer/consortia")
		officer.screenshot("consortium-queue-ko")
		officer.do("approve "+what+" by keyboard", chromedp.Focus(`[data-testid="queue-request"] [data-testid="request-approve"]`),
			chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
		officer.page("approval confirmation")
		officer.screenshot("consortium-confirm-ko")
		officer.do("confirm by keyboard", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(testID(after)))
	}
	approve("KAIST's addition", "notice")
	approve("the stale share", "error")
	if got := officer.eval(`document.querySelector('[data-testid="error"]') ? document.querySelector('[data-testid="error"]').getAttribute('data-status') : ''`); got != "409" {
		t.Errorf("approving the stale request answered %q, want the 409 page", got)
	}
	lead.do("file the share again", chromedp.Navigate(base+page), chromedp.WaitVisible(testID("change-form")),
		chromedp.Click(testID("kind-change")),
		chromedp.SetValue(chromedp.CSS(`#member_id`), itoa(s.memberOf(app.ID, "upstage"))),
		chromedp.SetValue(chromedp.CSS(`#share`), "70"),
		chromedp.SetValue(chromedp.CSS(`#note`), "주관기관 분담 비율 기록 (현재 구성 기준)"),
		chromedp.Focus(testID("change-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	approve("the share", "notice")

	// The consortium page shows KAIST and the lead's share.
	lead.do("open the consortium after", chromedp.Navigate(base+page), chromedp.WaitVisible(testID("consortium-members")))
	lead.page("consortium after the approvals")
	wantNoSideScroll(lead, "consortium page after")
	if n := lead.count(fmt.Sprintf(`document.querySelectorAll('[data-testid="consortium-member"][data-org-id="%d"][data-role="research"]').length`, kaistOrg.ID)); n != 1 {
		t.Error("KAIST is not a research member on the consortium page")
	}
	if got := lead.text(`[data-testid="consortium-total-share"]`); got != "80%" {
		t.Errorf("total share %q, want 80%%", got)
	}
	if n := lead.count(`document.querySelectorAll('[data-testid="consortium-history"] [data-testid="request-row"]').length`); n != 3 {
		t.Errorf("%d requests in the history, want 3 (addition, stale share, share)", n)
	}
	lead.screenshot("consortium-after-ko")
}
