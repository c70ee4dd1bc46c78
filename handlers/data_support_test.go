package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// dataSupport opens a survey (closing in a week) and records two purchases
// of one source still negotiating: one for both teams (own first), one for
// other alone.
func (s *story) dataSupport(own, other *models.Organisation) (*models.DataSurvey, *models.DataPurchase, *models.DataPurchase, *models.DataSource) {
	s.t.Helper()
	ctx, db, now, officer := s.t.Context(), s.app.db, s.now(), s.officer()
	survey, err := models.OpenSurvey(ctx, db, models.SurveyInput{Title: "공동구매 수요조사",
		ClosesAt: now.Add(7 * 24 * time.Hour).In(models.KST).Format("2006-01-02T15:04:05")}, officer, now)
	if err != nil {
		s.t.Fatal(err)
	}
	src, err := models.RecordSource(ctx, db, models.SourceInput{Name: "신문 기사", RightsHolder: "한국언론진흥재단",
		PublicInstitution: true, Status: "negotiating"}, officer, now)
	if err != nil {
		s.t.Fatal(err)
	}
	purchase := func(contract string, teams ...*models.Organisation) *models.DataPurchase {
		in := models.PurchaseInput{Dataset: "뉴스 말뭉치 " + contract, Provider: "한국언론진흥재단", Contract: contract, Price: "123,456,789",
			LicenceTerms: "학습 목적", Use: "training", Sources: []string{itoa(src.ID)}}
		for _, t := range teams {
			in.Teams = append(in.Teams, itoa(t.ID))
		}
		p, err := models.RecordPurchase(ctx, db, survey.ID, in, officer, now)
		if err != nil {
			s.t.Fatalf("purchase %s: %v", contract, err)
		}
		return p
	}
	return survey, purchase("C-1", own, other), purchase("C-2", other), src
}

// datasetProject records a dataset project for the team.
func (s *story) datasetProject(team *models.Organisation) *models.DatasetProject {
	s.t.Helper()
	p, err := models.CreateProject(s.t.Context(), s.app.db, models.ProjectInput{OrganisationID: itoa(team.ID), Title: team.NameKO + " 평가셋 구축",
		Scope: "한국어 추론 평가셋 1만 문항", Provider: "셀렉트스타", Status: "in_progress", Milestones: "2027-03-31 1차 납품"},
		s.officer(), s.now())
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// talentLine records a talent line for the team with a PDF as evidence.
func (s *story) talentLine(team *models.Organisation) *models.TalentLine {
	s.t.Helper()
	up := models.UploadedFile{Name: "증빙.pdf", Size: int64(len(offPDF)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(offPDF)), nil
	}}
	l, err := models.RecordTalent(s.t.Context(), s.app.db, models.TalentInput{OrganisationID: itoa(team.ID), Kind: "hires", Period: "2026-H2",
		Count: "4", Evidence: &up, Files: s.app.h.files, Uploads: s.app.h.uploads}, s.officer(), s.now())
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

// TestDataSupportPages: a team files demand and sees only its own; the
// officer sees the demand aggregated; a team reads a purchase it gets
// without its price or the other teams' deliveries; the delivery is
// refused, naming the source, until the source is cleared.
func TestDataSupportPages(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newMatrixFixture(t, kind)
		survey := f.vars["survey"]
		upstage := f.signIn("demo-company-upstage")
		kaistUser := f.signIn("demo-company-kaist")
		demand := func(c *testClient, dataset string) *http.Response {
			return c.post("/data/surveys/"+survey+"/demand", url.Values{"_csrf": {c.csrfToken()}, "dataset": {dataset},
				"provider": {"한국언론진흥재단"}, "volume": {"1 TB"}, "price_min": {"1,000"}, "price_max": {"2,000"},
				"purpose": {"사전학습"}, "priority": {"1"}})
		}
		wantSeeOther(t, "upstage demand", demand(upstage, "뉴스 말뭉치"), "/data/surveys/"+survey+"?done=demand")
		wantSeeOther(t, "kaist demand", demand(kaistUser, "KAIST 전용 데이터"), "/data/surveys/"+survey+"?done=demand")

		// Kept input and field messages on a refused form.
		bad := upstage.post("/data/surveys/"+survey+"/demand", url.Values{"_csrf": {upstage.csrfToken()}, "dataset": {"보존될 값"}, "price_min": {"x"}})
		doc := wantPage(t, "bad demand", bad, http.StatusUnprocessableEntity)
		wantFieldError(t, "bad demand", doc, "price_min", "provider")
		if v, _ := doc.Find("#dataset").Attr("value"); v != "보존될 값" {
			t.Errorf("kept dataset: %q", v)
		}

		doc = wantPage(t, "upstage survey", upstage.get("/data/surveys/"+survey), http.StatusOK)
		if got := testIDTexts(doc, "demand-dataset"); len(got) != 1 || got[0] != "뉴스 말뭉치" {
			t.Errorf("upstage sees demand %v", got)
		}
		if doc.Find(`[data-testid="aggregate"]`).Length() != 0 || strings.Contains(doc.Text(), "KAIST 전용 데이터") {
			t.Error("upstage sees another team's demand")
		}
		officer := f.signIn("demo-officer")
		doc = wantPage(t, "officer survey", officer.get("/data/surveys/"+survey), http.StatusOK)
		if n := doc.Find(`[data-testid="aggregate-row"]`).Length(); n != 2 {
			t.Errorf("aggregate rows: %d", n)
		}

		// The team's view of a purchase: no price, no contract, no other team.
		doc = wantPage(t, "upstage purchase", upstage.get("/data/purchases/"+f.vars["own_purchase"]), http.StatusOK)
		if doc.Find(`[data-testid="purchase-price"]`).Length() != 0 || strings.Contains(doc.Text(), "123,456,789") ||
			doc.Find(`[data-testid="purchase-contract"]`).Length() != 0 || doc.Find(`[data-testid="delivery-row"]`).Length() != 1 {
			t.Error("a team sees the price, the contract or another team's delivery")
		}
		doc = wantPage(t, "upstage data", upstage.get("/data"), http.StatusOK)
		if n := doc.Find(`[data-testid="purchase-row"]`).Length(); n != 1 || strings.Contains(doc.Text(), "123,456,789") {
			t.Errorf("upstage's purchases: %d", n)
		}
		if got := testIDTexts(doc, "source-name"); len(got) != 1 {
			t.Errorf("upstage's sources: %v", got)
		}

		// Delivery refused while the source negotiates, then done once cleared.
		deliver := "/data/purchases/" + f.vars["own_purchase"] + "/deliveries/" + f.vars["own_delivery"]
		doc = wantPage(t, "refused delivery", officer.post(deliver, url.Values{"_csrf": {officer.csrfToken()}}), http.StatusConflict)
		if msg := testIDText(doc, "delivery-refused"); !strings.Contains(msg, "신문 기사") {
			t.Errorf("refusal names no source: %q", msg)
		}
		wantSeeOther(t, "clear", officer.post("/officer/data/sources/"+f.vars["source"], url.Values{"_csrf": {officer.csrfToken()},
			"name": {"신문 기사"}, "rights_holder": {"한국언론진흥재단"}, "public_institution": {"1"}, "status": {"cleared"},
			"uses": {"training", "evaluation"}}), "/data/sources?done=updated")
		wantSeeOther(t, "deliver", officer.post(deliver, url.Values{"_csrf": {officer.csrfToken()}}),
			"/data/purchases/"+f.vars["own_purchase"]+"?done=delivered")
		// Projects: the team lists its own only; the officer's refused form keeps the input.
		doc = wantPage(t, "upstage projects", upstage.get("/data/projects"), http.StatusOK)
		if n := doc.Find(`[data-testid="project-row"]`).Length(); n != 1 {
			t.Errorf("upstage lists %d projects", n)
		}
		doc = wantPage(t, "bad project", officer.post("/officer/data/projects/"+f.vars["own_project"], url.Values{"_csrf": {officer.csrfToken()},
			"title": {"바뀐 사업명"}, "scope": {"범위"}, "provider": {"기관"}, "status": {"completed"}, "milestones": {"3월 말 납품"}}),
			http.StatusUnprocessableEntity)
		wantFieldError(t, "bad project", doc, "milestones")
		if v, _ := doc.Find("#title").Attr("value"); v != "바뀐 사업명" {
			t.Errorf("kept title: %q", v)
		}

		// Talent: the evidence is checked like every upload; a team lists its own lines.
		talent := func(name string, content []byte) *http.Response {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("_csrf", officer.csrfToken())
			for k, v := range map[string]string{"organisation_id": f.vars["own"], "kind": "training_places", "period": "2026-H2", "count": "12"} {
				w.WriteField(k, v)
			}
			fw, _ := w.CreateFormFile("evidence", name)
			fw.Write(content)
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, f.app.srv.URL+"/officer/talent", &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return officer.do(req)
		}
		doc = wantPage(t, "talent with a script", talent("증빙.pdf", []byte("#!/bin/sh\necho hi\n")), http.StatusUnprocessableEntity)
		wantFieldError(t, "talent with a script", doc, "evidence")
		if v, _ := doc.Find("#period").Attr("value"); v != "2026-H2" {
			t.Errorf("kept period: %q", v)
		}
		wantSeeOther(t, "talent", talent("교육 명단.pdf", offPDF), "/talent?done=talent")
		doc = wantPage(t, "upstage talent", upstage.get("/talent"), http.StatusOK)
		if n := doc.Find(`[data-testid="talent-row"][data-org-id="` + f.vars["other"] + `"]`).Length(); n != 0 {
			t.Errorf("upstage sees %d of KAIST's talent lines", n)
		}
		if n := doc.Find(`[data-testid="talent-row"]`).Length(); n != 2 {
			t.Errorf("upstage sees %d talent lines", n)
		}

		// Follow-up: KAIST, not selected in {call}, sees its own entry; Upstage none.
		wantSeeOther(t, "follow-up", officer.post("/officer/calls/"+f.vars["call"]+"/follow-up/"+f.vars["other"], url.Values{
			"_csrf": {officer.csrfToken()}, "programme": {"특화 모델 지원사업"}, "contact": {"담당 02-000-0000"}, "status": {"proposed"}}),
			"/officer/calls/"+f.vars["call"]+"/follow-up?done=follow_up")
		wantCode(t, "follow-up of a selected team", officer.post("/officer/calls/"+f.vars["call"]+"/follow-up/"+f.vars["own"], url.Values{
			"_csrf": {officer.csrfToken()}, "programme": {"x"}, "contact": {"y"}, "status": {"proposed"}}), http.StatusConflict)
		doc = wantPage(t, "kaist follow-up", kaistUser.get("/company/follow-up"), http.StatusOK)
		if got := testIDText(doc, "own-follow-up-programme"); got != "특화 모델 지원사업" {
			t.Errorf("kaist's follow-up: %q", got)
		}
		doc = wantPage(t, "upstage follow-up", upstage.get("/company/follow-up"), http.StatusOK)
		if doc.Find(`[data-testid="own-follow-up"]`).Length() != 0 || strings.Contains(doc.Text(), "특화 모델 지원사업") {
			t.Error("upstage sees another company's follow-up")
		}

		doc = wantPage(t, "upstage purchase delivered", upstage.get("/data/purchases/"+f.vars["own_purchase"]), http.StatusOK)
		if v, _ := doc.Find(`[data-testid="delivery-row"]`).Attr("data-delivered"); v != "true" {
			t.Errorf("delivered: %q", v)
		}

		// The summary: a team sees its own row; the CSV has every team and the total.
		doc = wantPage(t, "upstage summary", upstage.get("/support"), http.StatusOK)
		rows := doc.Find(`[data-testid="summary-row"]`)
		if v, _ := rows.Attr("data-org-id"); rows.Length() != 1 || v != f.vars["own"] || doc.Find(`[data-testid="export-csv"]`).Length() != 0 {
			t.Errorf("upstage's summary: %d rows", rows.Length())
		}
		resp := officer.get("/support/export?format=csv")
		body := readAll(resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\ufeff")), "\r\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "팀,데이터 수요,공동구매,데이터 제공") {
			t.Fatalf("export lines: %q", lines)
		}
		// Upstage: 1 demand line, 1 purchase delivered, 1 project, 2 talent lines (hires 4, training 12).
		if !strings.Contains(body, "업스테이지,1,1,1,1,1,0,12,4,") || !strings.HasPrefix(lines[3], "사업 전체,2,3,1,2,2,0,12,8,") {
			t.Errorf("export rows: %q", lines[1:])
		}
		resp = officer.get("/support/export?format=xlsx")
		if b := readAll(resp); resp.StatusCode != http.StatusOK || !strings.HasPrefix(b, "PK") {
			t.Errorf("xlsx export: %d", resp.StatusCode)
		}

		// The public page: totals only, no price, no team's demand.
		doc = wantPage(t, "public figures", f.app.client().get("/support/figures"), http.StatusOK)
		if got := testIDText(doc, "figure-deliveries"); got != "1" {
			t.Errorf("public deliveries %q", got)
		}
		if txt := doc.Text(); strings.Contains(txt, "123,456,789") || strings.Contains(txt, "KAIST 전용 데이터") || strings.Contains(txt, "업스테이지") {
			t.Error("the public page shows a price, a demand or a team")
		}

		// The survey closes to the second: the last second takes demand, the closing instant refuses it.
		var sv models.DataSurvey
		if err := f.app.db.First(&sv, survey).Error; err != nil {
			t.Fatal(err)
		}
		f.app.clock.Set(sv.ClosesAt.Add(-time.Minute))
		upstage = f.signIn("demo-company-upstage") // the earlier session has run out meanwhile
		f.app.clock.Set(sv.ClosesAt.Add(-time.Second))
		wantSeeOther(t, "the last second", demand(upstage, "마지막 순간"), "/data/surveys/"+survey+"?done=demand")
		f.app.clock.Set(sv.ClosesAt)
		doc = wantPage(t, "at the closing instant", demand(upstage, "늦은 수요"), http.StatusConflict)
		if msg := testIDText(doc, "error-message"); !strings.Contains(msg, "마감") {
			t.Errorf("closed survey message: %q", msg)
		}
	})
}
