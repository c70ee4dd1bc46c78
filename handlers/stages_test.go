package handlers

import (
	"bytes"
	"io"
	"time"

	"kaiportal/models"
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
