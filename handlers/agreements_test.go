package handlers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// agreementForm posts a version's form as a browser does, with the PDF
// when pdf is not nil.
func agreementForm(t *testing.T, app *testApp, c *testClient, path string, fields url.Values, pdf []byte) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrfToken())
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if pdf != nil {
		fw, err := w.CreateFormFile("document", "협약서.pdf")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(pdf)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// TestAgreementPagesJourney: an officer prepares Upstage's agreement,
// sends it out after confirming, Upstage's authorised signer signs by the
// hash (a stale hash refused, a second press counted once), its members
// sign, the officer countersigns; the names answer from the start date;
// a notification and a termination follow. Companies see their own
// agreements only, auditors read all.
func TestAgreementPagesJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		s.demoSelection()
		ctx, db := t.Context(), s.app.db
		officer, company, auditor, kaist := s.signIn("demo-officer"), s.signIn("demo-company-upstage"), s.signIn("demo-auditor"), s.signIn("demo-company-kaist")
		up := s.org("upstage")
		var app models.Application
		if err := db.Where("lead_org_id = ? AND status = ?", up.ID, models.StatusSelected).First(&app).Error; err != nil {
			t.Fatal(err)
		}
		today := models.DateOf(s.now())
		start := today.AddDays(4)

		// The demo company user becomes Upstage's authorised signer.
		wantSeeOther(t, "mark signer", officer.post("/officer/signers", url.Values{"user_id": {itoa(s.user("demo-company-upstage").ID)}}),
			"/officer/signers?done=marked")

		doc := wantPage(t, "new agreement form", officer.get("/officer/agreements/new"), http.StatusOK)
		if doc.Find(`select[name="application_id"] option[value="`+itoa(app.ID)+`"]`).Length() != 1 {
			t.Fatal("Upstage's selected application is not offered")
		}
		fields := url.Values{"application_id": {itoa(app.ID)}, "contact_name": {"김담당"}, "start_date": {start.String()},
			"end_date": {"2027-12-31"}, "gpu_count": {"500"}, "gpu_model": {"NVIDIA B200"}, "grant_company": {"1"},
			"grant_model": {"1"}, "model_names": {"Solar Pro"}, "deliverables": {"2026-12-31 1차 모델"}, "stage_dates": {"2027-06-15"},
			"budget." + itoa(up.ID) + ".2027.gov": {"1,000,000,000"}}
		bad := url.Values{}
		for k, v := range fields {
			bad[k] = v
		}
		bad.Set("end_date", "2020-01-01")
		resp := agreementForm(t, s.app, officer, "/officer/agreements", bad, nil)
		doc = wantPage(t, "refused terms", resp, http.StatusUnprocessableEntity)
		wantFieldError(t, "refused terms", doc, "end_date", "document")
		if v, _ := doc.Find(`input[name="contact_name"]`).Attr("value"); v != "김담당" {
			t.Errorf("contact kept as %q", v)
		}
		resp = agreementForm(t, s.app, officer, "/officer/agreements", fields, demo.PDF([]string{"Agreement"}))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %s", resp.StatusCode, snippet(readAll(resp)))
		}
		var a models.Agreement
		if err := db.Where("application_id = ?", app.ID).First(&a).Error; err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/agreements/%d", a.ID)
		if loc := resp.Header.Get("Location"); loc != path+"?done=created" {
			t.Errorf("created: to %q", loc)
		}
		got, _ := models.GetAgreement(ctx, db, a.ID)
		v1 := got.Versions[0]
		if len(v1.Budget) != 1 || v1.Budget[0].GovernmentWon != 1_000_000_000 || v1.Document == nil {
			t.Fatalf("version as stored: %+v", v1)
		}
		doc = wantPage(t, "agreement page", officer.get(path), http.StatusOK)
		if sha := testIDText(doc, "document-sha"); sha != v1.Document.SHA256 {
			t.Errorf("document SHA-256 shown %q, want %q", sha, v1.Document.SHA256)
		}

		// Send: the confirmation first, then out for signature.
		send := fmt.Sprintf("/officer/agreements/%d/versions/%d/send", a.ID, v1.ID)
		doc = wantPage(t, "send without confirming", officer.post(send, nil), http.StatusOK)
		if doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Error("no confirmation before sending")
		}
		wantSeeOther(t, "send", officer.post(send, url.Values{"confirm": {"1"}}), path+"?done=sent")
		got, _ = models.GetAgreement(ctx, db, a.ID)
		v1 = got.Versions[0]
		wantCode(t, "edit once sent", officer.get(fmt.Sprintf("/officer/agreements/%d/versions/%d/edit", a.ID, v1.ID)), http.StatusConflict)

		// The company sees what it must do.
		doc = wantPage(t, "company dashboard", company.get("/company"), http.StatusOK)
		if doc.Find(`[data-testid="agreements-to-sign"]`).Length() != 1 {
			t.Error("the company dashboard does not say an agreement awaits its signature")
		}
		doc = wantPage(t, "company's agreements", company.get("/agreements"), http.StatusOK)
		if doc.Find(`[data-testid="agreement-row"][data-agreement="`+itoa(a.ID)+`"] [data-testid="must-sign"]`).Length() != 1 {
			t.Error("the company is not asked to sign")
		}
		doc = wantPage(t, "company's agreement", company.get(path), http.StatusOK)
		if h, _ := doc.Find(`[data-testid="sign-form"] input[name="hash"]`).Attr("value"); h != v1.Hash {
			t.Fatalf("sign form carries %q, want the version's hash", h)
		}
		sign := fmt.Sprintf("/agreements/%d/versions/%d/sign", a.ID, v1.ID)
		doc = wantPage(t, "a stale hash", company.post(sign, url.Values{"hash": {"0000"}, "confirm": {"1"}}), http.StatusConflict)
		if st := testIDText(doc, "stale"); !strings.Contains(st, "제1판") || !strings.Contains(st, v1.Hash) {
			t.Errorf("stale refusal %q, want it to name version 1 and its hash", st)
		}
		doc = wantPage(t, "sign without confirming", company.post(sign, url.Values{"hash": {v1.Hash}}), http.StatusOK)
		if doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Error("no confirmation before signing")
		}
		for range 2 { // a double press signs once
			wantSeeOther(t, "sign", company.post(sign, url.Values{"hash": {v1.Hash}, "confirm": {"1"}}), path+"?done=signed")
		}
		if n := count(t, s.app, &models.AgreementSignature{}, "version_id = ?", v1.ID); n != 1 {
			t.Errorf("%d signatures after a double press", n)
		}
		// The ministry cannot sign before the members.
		doc = wantPage(t, "ministry first", officer.post(sign, url.Values{"hash": {v1.Hash}, "confirm": {"1"}}), http.StatusConflict)
		if testIDText(doc, "stale") == "" {
			t.Error("the ministry's early signature is refused without a word")
		}
		for _, p := range v1.Parties {
			if p.Role != models.SignerMember {
				continue
			}
			orgID := p.OrganisationID
			u, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "m" + itoa(orgID), Name: "서명권자",
				Role: models.RoleCompany, OrganisationID: &orgID}, s.now())
			if err != nil {
				t.Fatal(err)
			}
			if err := models.MarkSigner(ctx, db, u.ID, s.officer(), s.now()); err != nil {
				t.Fatal(err)
			}
			if _, err := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, u, s.now()); err != nil {
				t.Fatal(err)
			}
		}
		doc = wantPage(t, "officer's list", officer.get("/agreements"), http.StatusOK)
		if w := testIDTexts(doc, "waiting-party"); len(w) != 1 || w[0] != "과학기술정보통신부" {
			t.Errorf("still to sign %v, want the ministry", w)
		}
		wantSeeOther(t, "countersign", officer.post(sign, url.Values{"hash": {v1.Hash}, "confirm": {"1"}}), path+"?done=completed")

		// Signed, in force from its start date: the names answer from that day.
		anon := s.app.client()
		for _, c := range []struct {
			day   models.Date
			valid bool
		}{{start.AddDays(-1), false}, {start, true}} {
			va, _ := nmVerify(t, anon, url.Values{"name": {"Solar Pro"}, "date": {c.day.String()}}, http.StatusOK)
			if va.Valid != c.valid || va.Agreement == nil || va.Agreement.Number != a.Number || va.Agreement.From != start.String() {
				t.Errorf("verify on %s: %+v, want valid %v on agreement %s", c.day, va, c.valid, a.Number)
			}
		}
		doc = wantPage(t, "signed", officer.get(path), http.StatusOK)
		if st, _ := doc.Find(`[data-testid="agreement-state"]`).First().Attr("data-state"); st != string(models.AgreementSigned) {
			t.Errorf("state before the start %q", st)
		}
		s.app.clock.Set(start.Start())
		// Days later: sessions have ended; sign in again.
		officer, auditor, kaist = s.signIn("demo-officer"), s.signIn("demo-auditor"), s.signIn("demo-company-kaist")
		doc = wantPage(t, "effective", officer.get(path), http.StatusOK)
		if st, _ := doc.Find(`[data-testid="agreement-state"]`).First().Attr("data-state"); st != string(models.AgreementEffective) {
			t.Errorf("state on the start date %q", st)
		}
		doc = wantPage(t, "registry", anon.get("/k-ai"), http.StatusOK)
		if n, _ := doc.Find(`[data-testid="grant-agreement"]`).First().Attr("data-number"); n != a.Number {
			t.Errorf("the registry names agreement %q, want %q", n, a.Number)
		}

		// The signature record: who, for whom, when to the second, which hash.
		doc = wantPage(t, "record", auditor.get(path+"/signatures"), http.StatusOK)
		if n := doc.Find(`[data-testid="record-signature"]`).Length(); n != len(v1.Parties) {
			t.Errorf("%d signatures on the record, want %d", n, len(v1.Parties))
		}
		if at := doc.Find(`[data-testid="record-at"]`).First().Text(); !strings.HasSuffix(at, " KST") || len(at) != len("2006-01-02 15:04:05 KST") {
			t.Errorf("signed at %q, want KST to the second", at)
		}
		wantPage(t, "auditor reads", auditor.get(path), http.StatusOK)
		wantCode(t, "another company", kaist.get(path), http.StatusNotFound)
		wantCode(t, "another company's document", kaist.get(fmt.Sprintf("%s/versions/%d/document", path, v1.ID)), http.StatusNotFound)

		// A notification: recorded without a new version.
		wantSeeOther(t, "notice", officer.post(fmt.Sprintf("/officer/agreements/%d/notice", a.ID),
			url.Values{"contact_name": {"박담당"}, "contact_info": {"02-000-0000"}}), path+"?done=notice")
		if n := count(t, s.app, &models.AgreementVersion{}, "agreement_id = ?", a.ID); n != 1 {
			t.Errorf("%d versions after a notice", n)
		}

		// Termination: confirmed first; then every name ends at once.
		term := fmt.Sprintf("/officer/agreements/%d/terminate", a.ID)
		day := start.AddDays(10)
		doc = wantPage(t, "terminate without a reason", officer.post(term, url.Values{"day": {day.String()}}), http.StatusUnprocessableEntity)
		wantFieldError(t, "terminate without a reason", doc, "reason")
		doc = wantPage(t, "terminate unconfirmed", officer.post(term, url.Values{"day": {day.String()}, "reason": {"협약 위반"}}), http.StatusOK)
		if doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Error("no confirmation before terminating")
		}
		wantSeeOther(t, "terminate", officer.post(term, url.Values{"day": {day.String()}, "reason": {"협약 위반"}, "confirm": {"1"}}),
			path+"?done=terminated")
		for _, name := range []string{"Solar Pro", "업스테이지"} {
			if va, _ := nmVerify(t, anon, url.Values{"name": {name}, "date": {day.String()}}, http.StatusOK); va.Valid || va.Reason == nil {
				t.Errorf("%s after the termination: %+v", name, va)
			}
		}
		for _, action := range []string{"agreement.create", "agreement.send", "agreement.complete", "agreement.notice", "agreement.terminate", "agreement.signer_mark"} {
			if count(t, s.app, &models.AuditEntry{}, "action = ?", action) == 0 {
				t.Errorf("no %s in the audit trail", action)
			}
		}
		if n := count(t, s.app, &models.AuditEntry{}, "action = ?", "agreement.sign"); n != int64(len(v1.Parties)) {
			t.Errorf("%d agreement.sign rows, want %d", n, len(v1.Parties))
		}
	})
}

// TestDemoAgreementsShown: on the demo, the officers' list says who still
// has to sign each agreement; Upstage's amendment shows its differences
// from the version in force, and the demo company user is asked to sign
// it; the company sees only the agreements it is a party to.
func TestDemoAgreementsShown(t *testing.T) {
	t.Parallel()
	s := newStory(t, testdb.SQLite, nil)
	s.demoSelection()
	ctx, db := t.Context(), s.app.db
	if err := demo.SeedAgreements(ctx, db, s.app.h.files, s.now()); err != nil {
		t.Fatal(err)
	}
	officer, company := s.signIn("demo-officer"), s.signIn("demo-company-upstage")
	as, err := models.ListAgreements(ctx, db, nil)
	if err != nil || len(as) != 5 {
		t.Fatalf("%d demo agreements, %v", len(as), err)
	}
	byCode := map[string]*models.Agreement{}
	for i := range as {
		byCode[as[i].Organisation.Code] = &as[i]
	}
	doc := wantPage(t, "officer dashboard", officer.get("/officer"), http.StatusOK)
	if got := testIDText(doc, "agreements-to-countersign"); !strings.Contains(got, "1건") {
		t.Errorf("officer dashboard says %q, want one agreement waiting for the ministry", got)
	}
	doc = wantPage(t, "officers' list", officer.get("/agreements"), http.StatusOK)
	if n := doc.Find(`[data-testid="agreement-row"]`).Length(); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
	sk := doc.Find(`[data-testid="agreement-row"][data-agreement="` + itoa(byCode["sk-telecom"].ID) + `"] [data-testid="waiting-party"]`)
	if sk.Length() != 1 || strings.TrimSpace(sk.Text()) != "과학기술정보통신부" {
		t.Errorf("SK Telecom's amendment waits for %q, want the ministry", sk.Text())
	}
	path := "/agreements/" + itoa(byCode["upstage"].ID)
	doc = wantPage(t, "Upstage's agreement", officer.get(path), http.StatusOK)
	fields := map[string]bool{}
	doc.Find(`[data-testid="diff-row"]`).Each(func(_ int, r *goquery.Selection) {
		f, _ := r.Attr("data-field")
		fields[f] = true
	})
	if !fields["model_names"] || !fields["budget"] || !fields["document"] {
		t.Errorf("differences shown %v, want the model names, the budget and the document", fields)
	}
	if doc.Find(`[data-testid="in-force"]`).Length() != 1 {
		t.Error("the version in force is not shown beside the amendment")
	}
	doc = wantPage(t, "company's list", company.get("/agreements"), http.StatusOK)
	if n := doc.Find(`[data-testid="agreement-row"]`).Length(); n != 1 {
		t.Errorf("the company sees %d agreements, want its own", n)
	}
	doc = wantPage(t, "company's agreement", company.get(path), http.StatusOK)
	if doc.Find(`[data-testid="sign-form"]`).Length() != 1 {
		t.Error("the demo company user is not offered the amendment to sign")
	}
	wantCode(t, "another team's agreement", company.get("/agreements/"+itoa(byCode["nc-ai"].ID)), http.StatusNotFound)
}
