package handlers

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// storyStage is a stage of the story with the objects the tests name.
type storyStage struct {
	*models.Stage
	opinion uint            // the first team's opinion
	reports map[string]uint // report id by organisation code
	files   map[string]uint // the report's first document by organisation code
	crit    map[string]uint // criterion id by code
	teams   map[string]*models.User
}

// stage defines a stage for the teams with an agreement in force: a scored
// criterion "tech" (60) and an imported global benchmark "bench" (40),
// published for opinions until opinionsFor from now, reports due in ten
// days; each of the codes sends an opinion and a report.
func (s *story) stage(name string, opinionsFor time.Duration, codes ...string) *storyStage {
	s.t.Helper()
	ctx, db, now := s.t.Context(), s.app.db, s.now()
	officer := s.officer()
	st, errs, err := models.CreateStage(ctx, db, models.StageInput{NameKO: name, NameEN: name, StartsOn: "2026-06-01",
		EvaluatedOn: "2026-12-31", ReportDue: now.Add(10 * 24 * time.Hour).In(models.KST).Format(models.StageInstantLayout),
		Eliminate: "1"}, officer, now)
	if err != nil {
		s.t.Fatalf("stage: %v %v", err, errs)
	}
	for _, c := range []models.CriterionInput{
		{Code: "tech", Kind: string(models.KindOfficer), NameKO: "기술력", NameEN: "Technology", Weight: "60"},
		{Code: "bench", Kind: string(models.KindGlobalBenchmark), NameKO: "벤치마크", NameEN: "Benchmark", Weight: "40"},
	} {
		if errs, err := models.AddCriterion(ctx, db, st.ID, c, officer, now); err != nil {
			s.t.Fatalf("criterion: %v %v", err, errs)
		}
	}
	closes := now.Add(opinionsFor).In(models.KST).Format(models.StageInstantLayout)
	if errs, err := models.OpenOpinions(ctx, db, st.ID, closes, officer, now); err != nil {
		s.t.Fatalf("open opinions: %v %v", err, errs)
	}
	out := &storyStage{reports: map[string]uint{}, files: map[string]uint{}, crit: map[string]uint{}, teams: map[string]*models.User{}}
	for _, code := range codes {
		u := s.companyUser(code)
		out.teams[code] = u
		if errs, err := models.SendOpinion(ctx, db, st.ID, "벤치마크 의견 "+code, u, now); err != nil {
			s.t.Fatalf("opinion: %v %v", err, errs)
		}
		doc := &models.UploadedFile{Name: "report.pdf", Size: int64(len(offPDF)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(offPDF)), nil
		}}
		if errs, err := models.SubmitStageReport(ctx, db, models.StageReportInput{StageID: st.ID, ModelVersions: "v1", ServiceName: "Service " + code,
			ServiceURL: "https://" + code + ".example/try", ServiceDescription: "체험 서비스", Documents: []*models.UploadedFile{doc},
			Files: s.app.h.files, Uploads: s.app.h.uploads}, u, now); err != nil {
			s.t.Fatalf("report: %v %v", err, errs)
		}
		var rep models.StageReport
		if err := db.Preload("Files").Where("stage_id = ? AND organisation_id = ?", st.ID, *u.OrganisationID).Take(&rep).Error; err != nil {
			s.t.Fatal(err)
		}
		out.reports[code], out.files[code] = rep.ID, rep.Files[0].ID
	}
	ops, err := models.ListOpinions(ctx, db, st.ID, officer)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(ops) > 0 {
		out.opinion = ops[0].ID
	}
	if out.Stage, err = models.GetStage(ctx, db, st.ID); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range out.Criteria {
		out.crit[c.Code] = c.ID
	}
	return out
}

// freezeStage answers the stage's opinions and freezes its set at the
// instant at (after the opinions closed), with the demo officer assigned
// as its evaluator.
func (s *story) freezeStage(st *storyStage, at time.Time) {
	s.t.Helper()
	ctx, db := s.t.Context(), s.app.db
	officer := s.officer()
	ops, err := models.ListOpinions(ctx, db, st.ID, officer)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, o := range ops {
		if _, err := models.AnswerOpinion(ctx, db, st.ID, o.ID, "반영하겠습니다.", officer, at); err != nil {
			s.t.Fatal(err)
		}
	}
	if errs, err := models.FreezeStage(ctx, db, st.ID, officer, at); err != nil {
		s.t.Fatalf("freeze: %v %v", err, errs)
	}
	if err := models.AssignStageEvaluator(ctx, db, st.ID, officer.ID, officer, at); err != nil {
		s.t.Fatal(err)
	}
	st.Stage, _ = models.GetStage(ctx, db, st.ID)
}

// signInSession gives the browser a session of u made directly (external
// reviewers sign in through the identity provider, which the tests do
// not run).
func signInSession(t *testing.T, c *testClient, u *models.User) {
	t.Helper()
	token, _, err := models.CreateSession(t.Context(), c.app.db, u.ID, "", c.app.clock.Now(), c.app.h.policy)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(c.app.srv.URL)
	c.c.Jar.SetCookies(base, []*http.Cookie{{Name: c.app.h.sessionCookie(), Value: token, Path: "/"}})
}

// TestStagePages: a team's opinion after the close is refused with the
// closing instant; the public page lists the criteria and the teams'
// services; an external evaluator sees only the stage assigned to them
// and nothing else of the programme.
func TestStagePages(t *testing.T) {
	t.Parallel()
	s := newStory(t, testdb.SQLite, nil)
	decided := s.decidedCall("2027년 정예팀 공모", applicant{"upstage", 9, true}, applicant{"kaist", 8, true})
	s.agreements(decided.decision, true)
	st := s.stage("2027년 1차 단계평가", 10*time.Minute, "upstage")
	sid := itoa(st.ID)
	co := s.signIn("demo-company-upstage")
	wantPage(t, "", co.get("/stages/"+sid+"/team"), http.StatusOK)
	s.app.clock.Set(s.now().Add(10*time.Minute + time.Second))
	doc := wantPage(t, "late opinion", co.post("/stages/"+sid+"/opinions", url.Values{"text": {"늦은 의견"}}), http.StatusUnprocessableEntity)
	closes := st.OpinionsClose.In(models.KST).Format("2006-01-02 15:04:05") + " KST"
	if got := doc.Find(`[data-testid="closed"]`).Text(); !strings.Contains(got, closes) {
		t.Errorf("late opinion: %q, want the closing instant %s", got, closes)
	}
	if doc.Find(`[data-testid="opinion-form"]`).Length() != 0 {
		t.Error("the opinion form is offered after the close")
	}
	if v := doc.Find(`[data-testid="kept"]`).Text(); v != "늦은 의견" {
		t.Errorf("the typed opinion was not kept: %q", v)
	}

	pub := wantPage(t, "", s.app.client().get("/stages/"+sid), http.StatusOK)
	if n := pub.Find(`[data-testid="criterion"]`).Length(); n != 2 {
		t.Errorf("public page: %d criteria", n)
	}
	if href, _ := pub.Find(`[data-testid="service-link"]`).Attr("href"); href != "https://upstage.example/try" {
		t.Errorf("public page: service link %q", href)
	}

	reviewer := &models.User{Issuer: "test", Subject: "reviewer-1", Name: "외부 평가위원", Role: models.RoleReviewer, ProviderRole: models.RoleReviewer}
	if err := s.app.db.Create(reviewer).Error; err != nil {
		t.Fatal(err)
	}
	ev := s.app.client()
	signInSession(t, ev, reviewer)
	file := "/stages/" + sid + "/reports/" + itoa(st.reports["upstage"]) + "/files/" + itoa(st.files["upstage"])
	for path, want := range map[string]int{
		"/evaluations/" + sid:      http.StatusNotFound,
		file:                       http.StatusNotFound,
		"/officer/stages":          http.StatusForbidden,
		"/officer/stages/" + sid:   http.StatusForbidden,
		"/stages/" + sid + "/team": http.StatusForbidden,
		"/agreements":              http.StatusForbidden,
		"/appeals":                 http.StatusForbidden,
		"/organisations":           http.StatusForbidden,
	} {
		resp := ev.get(path)
		readAll(resp)
		if resp.StatusCode != want {
			t.Errorf("unassigned reviewer GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if n := wantPage(t, "", ev.get("/evaluations"), http.StatusOK).Find(`[data-testid="evaluation"]`).Length(); n != 0 {
		t.Errorf("unassigned reviewer lists %d evaluations", n)
	}
	if err := models.AssignStageEvaluator(t.Context(), s.app.db, st.ID, reviewer.ID, s.officer(), s.now()); err != nil {
		t.Fatal(err)
	}
	if n := wantPage(t, "", ev.get("/evaluations"), http.StatusOK).Find(`[data-testid="evaluation"]`).Length(); n != 1 {
		t.Errorf("assigned reviewer lists %d evaluations", n)
	}
	page := wantPage(t, "", ev.get("/evaluations/"+sid), http.StatusOK)
	if n := page.Find(`[data-testid="eval-team"]`).Length(); n != 2 {
		t.Errorf("assigned reviewer sees %d teams, want 2", n)
	}
	wantPage(t, "", ev.get(file), http.StatusOK)
	// Scoring before the freeze is refused; the declaration is kept.
	resp := ev.post("/evaluations/"+sid+"/teams/"+itoa(s.org("upstage").ID)+"/conflict", url.Values{"conflict": {models.ConflictNone}})
	readAll(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("declaration: %d", resp.StatusCode)
	}
	resp = ev.post("/evaluations/"+sid+"/teams/"+itoa(s.org("upstage").ID)+"/scores", url.Values{})
	readAll(resp)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("scores before the freeze: %d, want 409", resp.StatusCode)
	}
}
