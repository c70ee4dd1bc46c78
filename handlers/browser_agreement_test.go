package handlers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserAgreementJourney: an officer prepares Upstage's agreement
// and sends it out for signature, Upstage's authorised signer (the demo
// company user) signs it, its members sign, the officer countersigns; on
// its start date the agreement is in effect and the public verification
// API answers valid for the team's names, and not the day before.
func TestBrowserAgreementJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	ctx, db := t.Context(), app.db
	if err := demo.SeedApplications(ctx, db, app.h.files, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	officerUser, upstageUser := demoUser(t, app, "demo-officer"), demoUser(t, app, "demo-company-upstage")
	if err := models.MarkSigner(ctx, db, upstageUser.ID, officerUser, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var application models.Application
	if err := db.Where("lead_org_id = ? AND status = ?", *upstageUser.OrganisationID, models.StatusSelected).First(&application).Error; err != nil {
		t.Fatal(err)
	}
	start := models.DateOf(app.clock.Now()).AddDays(5)
	pdfPath := filepath.Join(t.TempDir(), "협약서.pdf")
	if err := os.WriteFile(pdfPath, demo.PDF([]string{"Agreement"}), 0o644); err != nil {
		t.Fatal(err)
	}
	base := app.srv.URL

	off := b.newTab(t)
	off.signIn(app, "demo-officer", "officer-dashboard")
	off.do("open the new agreement form", chromedp.Navigate(base+"/officer/agreements/new?application="+itoa(application.ID)),
		chromedp.WaitVisible(testID("version-form")))
	off.page("/officer/agreements/new")
	off.do("fill in the terms",
		chromedp.SetUploadFiles(chromedp.CSS(`#document`), []string{pdfPath}),
		chromedp.SetValue(chromedp.CSS(`#start_date`), start.String()),
		chromedp.SetValue(chromedp.CSS(`#end_date`), "2027-12-31"),
		chromedp.SetValue(chromedp.CSS(`#contact_name`), "김담당"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('grant_model').checked = true`),
		chromedp.SetValue(chromedp.CSS(`#model_names`), "Solar Pro"),
		chromedp.Focus(testID("version-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("send-form")))
	off.page("/agreements/:id (draft)")
	var a models.Agreement
	if err := db.Where("application_id = ?", application.ID).First(&a).Error; err != nil {
		t.Fatalf("no agreement was created: %v", err)
	}
	off.do("send it out", chromedp.Focus(testID("send-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
	off.page("send confirmation")
	off.do("confirm", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("pending-status")))
	off.page("/agreements/:id (out for signature)")
	if st := off.applyAttr(`[data-testid="pending"]`, "data-status"); st != string(models.VersionOut) {
		t.Fatalf("after sending: %s", st)
	}

	// The company signs on a phone.
	co := b.newTab(t)
	co.do("set a phone's viewport", chromedp.EmulateViewport(390, 844))
	co.signIn(app, "demo-company-upstage", "company-dashboard")
	co.do("open the agreements", chromedp.Navigate(base+"/agreements"), chromedp.WaitVisible(testID("must-sign")))
	co.page("/agreements (company)")
	wantNoSideScroll(co, "agreements at 390 px")
	co.do("go to sign", chromedp.Focus(testID("must-sign")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("sign-form")))
	wantNoSideScroll(co, "agreement at 390 px")
	co.do("sign", chromedp.Focus(testID("sign-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
	co.page("sign confirmation")
	co.do("confirm the signature", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("notice")))
	co.page("/agreements/:id (signed by Upstage)")
	co.done()

	// The members' signers sign (they have no demo sign-in).
	got, err := models.GetAgreement(ctx, db, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := got.Versions[0]
	for _, p := range v.Parties {
		if p.Role != models.SignerMember {
			continue
		}
		orgID := p.OrganisationID
		u, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "member-" + itoa(orgID), Name: "서명권자",
			Role: models.RoleCompany, OrganisationID: &orgID}, app.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := models.MarkSigner(ctx, db, u.ID, officerUser, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := models.SignVersion(ctx, db, a.ID, v.ID, v.Hash, u, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}

	off.do("reload", chromedp.Navigate(base+"/agreements/"+itoa(a.ID)), chromedp.WaitVisible(testID("sign-form")))
	off.do("countersign", chromedp.Focus(testID("sign-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
	off.do("confirm the countersignature", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("in-force")))
	off.page("/agreements/:id (signed)")
	off.do("open the signature record", chromedp.Navigate(base+"/agreements/"+itoa(a.ID)+"/signatures"),
		chromedp.WaitVisible(testID("signature-record")))
	off.page("/agreements/:id/signatures")
	if n := off.count(`document.querySelectorAll('[data-testid="record-signature"]').length`); n != len(v.Parties) {
		t.Errorf("%d signatures on the record, want %d", n, len(v.Parties))
	}
	if st := off.applyAttr(`[data-testid="agreement-state"]`, "data-state"); st != string(models.AgreementSigned) {
		t.Errorf("before its start date: %s, want signed", st)
	}

	off.done()

	// The public verification API, by the clock: not the day before, then from the start date.
	pub := b.newTab(t)
	pub.do("open the registry", chromedp.Navigate(base+"/k-ai"), chromedp.WaitVisible(testID("page-title")))
	pub.page("/k-ai")
	verify := func(name string) bool {
		body := pub.eval(`fetch('/api/v1/k-ai/verify?name=` + name + `', {cache: 'no-store'}).then(r => r.text())`)
		var ans struct {
			Valid     bool `json:"valid"`
			Agreement *struct {
				Number string `json:"number"`
			} `json:"agreement"`
		}
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
		if ans.Agreement == nil || ans.Agreement.Number != a.Number {
			t.Errorf("verify %s: agreement %+v, want %s", name, ans.Agreement, a.Number)
		}
		return ans.Valid
	}
	app.clock.Set(start.AddDays(-1).Start().Add(23 * 3600e9))
	for _, name := range []string{"Solar%20Pro", "Upstage"} {
		if verify(name) {
			t.Errorf("%s valid the day before the start date", name)
		}
	}
	app.clock.Set(start.Start())
	for _, name := range []string{"Solar%20Pro", "Upstage"} {
		if !verify(name) {
			t.Errorf("%s not valid on the start date", name)
		}
	}
	pub.do("the registry names the agreement", chromedp.Navigate(base+"/k-ai"), chromedp.WaitVisible(testID("grant-agreement")))
	pub.page("/k-ai on the start date")
	if n := pub.applyAttr(`[data-testid="grant-agreement"]`, "data-number"); n != a.Number {
		t.Errorf("the registry names agreement %q, want %q", n, a.Number)
	}
}
