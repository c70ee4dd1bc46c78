package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserDataPurchaseJourney: Upstage (a team) files its demand in an
// open survey on a phone; the officer reads it aggregated, records the
// purchase for Upstage, tries to deliver it and is refused, naming the
// source still negotiating; clears the source in the ledger; delivers;
// Upstage then sees the purchase delivered, without its price.
func TestBrowserDataPurchaseJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	ctx, db, now := t.Context(), app.db, app.clock.Now()
	if err := demo.SeedApplications(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAgreements(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	officerUser := demoUser(t, app, "demo-officer")
	survey, err := models.OpenSurvey(ctx, db, models.SurveyInput{Title: "여정 수요조사",
		ClosesAt: now.Add(72 * time.Hour).In(models.KST).Format("2006-01-02T15:04:05")}, officerUser, now)
	if err != nil {
		t.Fatal(err)
	}
	src, err := models.RecordSource(ctx, db, models.SourceInput{Name: "여정 신문 기사", RightsHolder: "한국언론진흥재단",
		PublicInstitution: true, Status: "negotiating"}, officerUser, now)
	if err != nil {
		t.Fatal(err)
	}
	upstage := demoUser(t, app, "demo-company-upstage")
	base, surveyPath := app.srv.URL, "/data/surveys/"+itoa(survey.ID)

	co := b.newTab(t)
	co.do("set a phone's viewport", chromedp.EmulateViewport(390, 844))
	co.signIn(app, "demo-company-upstage", "company-dashboard")
	co.do("open the survey", chromedp.Navigate(base+surveyPath), chromedp.WaitVisible(testID("demand-form")))
	co.page("/data/surveys/:id (company)")
	wantNoSideScroll(co, "survey at 390 px")
	co.do("file the demand",
		chromedp.SetValue(chromedp.CSS(`#dataset`), "여정 뉴스 말뭉치"),
		chromedp.SetValue(chromedp.CSS(`#provider`), "한국언론진흥재단"),
		chromedp.SetValue(chromedp.CSS(`#volume`), "1 TB"),
		chromedp.SetValue(chromedp.CSS(`#price_min`), "100,000,000"),
		chromedp.SetValue(chromedp.CSS(`#price_max`), "200,000,000"),
		chromedp.SetValue(chromedp.CSS(`#purpose`), "사전학습"),
		chromedp.Focus(testID("demand-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	co.page("/data/surveys/:id (demand filed)")
	if got := co.text(`[data-testid="demand-dataset"]`); got != "여정 뉴스 말뭉치" {
		t.Errorf("the team's demand: %q", got)
	}

	off := b.newTab(t)
	off.signIn(app, "demo-officer", "officer-dashboard")
	off.do("open the survey", chromedp.Navigate(base+surveyPath), chromedp.WaitVisible(testID("aggregate")))
	off.page("/data/surveys/:id (officer)")
	if got := off.text(`[data-testid="aggregate-teams"]`); got != "1" {
		t.Errorf("aggregate teams %q", got)
	}
	off.do("record the purchase",
		chromedp.SetValue(chromedp.CSS(`#dataset`), "여정 뉴스 말뭉치"),
		chromedp.SetValue(chromedp.CSS(`#provider`), "한국언론진흥재단"),
		chromedp.SetValue(chromedp.CSS(`#contract`), "여정-2026-001"),
		chromedp.SetValue(chromedp.CSS(`#price`), "180,000,000"),
		chromedp.SetValue(chromedp.CSS(`#licence_terms`), "학습 목적 이용"),
		chromedp.Click(chromedp.CSS(`#source-`+itoa(src.ID)), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`#team-`+itoa(*upstage.OrganisationID)), chromedp.NodeVisible),
		chromedp.Focus(testID("purchase-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("deliveries")))
	off.page("/data/purchases/:id")
	purchasePath := off.path()
	off.do("deliver", chromedp.Focus(testID("deliver")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("delivery-refused")))
	off.page("/data/purchases/:id (refused)")
	if msg := off.text(`[data-testid="delivery-refused"]`); !strings.Contains(msg, "여정 신문 기사") {
		t.Errorf("the refusal names no source: %q", msg)
	}

	off.do("open the ledger", chromedp.Navigate(base+"/data/sources"), chromedp.WaitVisible(testID("ledger")))
	off.page("/data/sources")
	sfx := "-" + itoa(src.ID)
	off.do("clear the source",
		chromedp.Click(chromedp.CSS(`[data-testid="source-edit"] summary`), chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS(`#status`+sfx), "cleared"),
		chromedp.Click(chromedp.CSS(`#use-training`+sfx), chromedp.NodeVisible),
		chromedp.Focus(testID("source-save")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	off.page("/data/sources (cleared)")

	off.do("back to the purchase", chromedp.Navigate(base+purchasePath), chromedp.WaitVisible(testID("deliver")))
	off.do("deliver again", chromedp.Focus(testID("deliver")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("notice")))
	off.page("/data/purchases/:id (delivered)")
	if d := off.applyAttr(`[data-testid="delivery-row"]`, "data-delivered"); d != "true" {
		t.Errorf("delivered: %q", d)
	}

	co.do("the team reads the purchase", chromedp.Navigate(base+purchasePath), chromedp.WaitVisible(testID("deliveries")))
	co.page("/data/purchases/:id (company)")
	wantNoSideScroll(co, "purchase at 390 px")
	if n := co.count(`document.querySelectorAll('[data-testid="purchase-price"]').length`); n != 0 {
		t.Error("the team sees the price")
	}
	if d := co.applyAttr(`[data-testid="delivery-row"]`, "data-delivered"); d != "true" {
		t.Errorf("the team's delivery: %q", d)
	}
}
