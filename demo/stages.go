package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// The demo's stage evaluations (단계평가): the first stage, evaluated a few
// weeks before the demo is loaded, is complete: its criteria
// were published for the teams' opinions, answered and frozen, the teams
// submitted their reports, the demo officer scored, the benchmark and
// public-evaluation results were imported, and the decision eliminating
// one team (NC AI, ranked last) became final, which ended its agreement,
// its K-AI names and its GPU allocation. The second stage carries the
// first's criteria over, adds the year-end benchmarks and the public
// evaluation, and is in its opinion period at the instant the demo is
// loaded, so that a team can send an opinion at once.

// demoStage1 are the first stage's instants, counted back from its
// decision (see demoStage1Decision).
type demoStage1 struct {
	created, opinions, frozen, due, scored, decision time.Time
}

// demoStage1Decision picks the instant of the first stage's decision: a
// weekday morning whose appeal window has closed by now and made the
// decision final on a day of the month now is in, so that the eliminated
// team's allocation ends after the month the demo's usage reports tell
// (the month before now) and every team is in force for it.
func demoStage1Decision(ctx context.Context, db *gorm.DB, now time.Time) (demoStage1, error) {
	today := models.DateOf(now)
	monthStart := models.NewDate(today.Year, today.Month, 1)
	var pick, later time.Time
	for back := 11; back <= 30 && pick.IsZero(); back++ {
		p := today.AddDays(-back).Start().Add(10 * time.Hour)
		if wd := p.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		w, err := models.DecisionWindow(ctx, db, &models.Decision{PublishedAt: p, CountingRule: models.RuleCivil}, now)
		if err != nil {
			return demoStage1{}, err
		}
		if models.DateOf(w.Closes.Add(-time.Nanosecond)).AddDays(1).Before(monthStart) {
			continue
		}
		if w.Closes.After(now) {
			later = p
			continue
		}
		pick = p
	}
	if pick.IsZero() {
		// In the first days of a month no window can have closed within
		// it: the decision is published so that it becomes final later
		// this month, when the background task ends NC AI's standing.
		pick = later
	}
	if pick.IsZero() {
		pick = today.AddDays(-14).Start().Add(10 * time.Hour)
	}
	return demoStage1{created: pick.AddDate(0, 0, -50), opinions: pick.AddDate(0, 0, -35).Add(8 * time.Hour),
		frozen: pick.AddDate(0, 0, -34).Add(4 * time.Hour), due: pick.AddDate(0, 0, -10).Add(8 * time.Hour),
		scored: pick.AddDate(0, 0, -4).Add(6 * time.Hour), decision: pick}, nil
}

// demoStage1Results are the first stage's imported results and the demo
// officer's technology score, by team: NC AI is last.
var demoStage1Results = map[string]struct {
	tech, mmlu, kmmlu float64
}{
	"lg-ai-research": {88, 79.5, 71.2},
	"upstage":        {86, 77.1, 73.8},
	"sk-telecom":     {84, 76.4, 70.9},
	"naver-cloud":    {83, 75.2, 72.5},
	"nc-ai":          {78, 70.3, 66.0},
}

// SeedStages seeds the two demo stages (after SeedAgreements, and after
// SeedGPUs and SeedUsageReports, whose teams are all in force for the
// month they tell: NC AI's allocation ends with its standing, in the month
// of now). Before the agreements have run four months it does nothing. It
// is idempotent: once a stage exists it changes nothing.
func SeedStages(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	if now.Before(demoAgreementMinistry.AddDate(0, 4, 0)) {
		return nil
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Instances starting together seed one after the other.
		if err := lockSeeding(tx); err != nil {
			return err
		}
		return seedStages(ctx, tx, files, now)
	})
}

func seedStages(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	at, err := demoStage1Decision(ctx, db, now)
	if err != nil {
		return err
	}
	stages, err := models.ListStages(ctx, db)
	if err != nil || len(stages) > 0 {
		return err
	}
	teams, err := models.AgreementTeams(ctx, db)
	if err != nil {
		return err
	}
	if len(teams) == 0 {
		return nil
	}
	officer, err := demoOfficer(ctx, db)
	if err != nil {
		return fmt.Errorf("store: seed demo stages: the demo officer: %w", err)
	}
	step := func(what string, errs models.FieldErrors, err error) error {
		if err != nil {
			return fmt.Errorf("store: seed demo stages: %s: %w (%v)", what, err, errs)
		}
		return nil
	}
	s1, errs, err := models.CreateStage(ctx, db, models.StageInput{NameKO: "1차 단계평가", NameEN: "Stage evaluation 1",
		StartsOn: DemoAgreementStart, EvaluatedOn: models.DateOf(at.decision).AddDays(-7).String(), ReportDue: at.due.Format(models.StageInstantLayout),
		Eliminate: "1"}, officer, at.created)
	if err := step("stage 1", errs, err); err != nil {
		return err
	}
	for _, c := range []models.CriterionInput{
		{Code: "tech", Kind: string(models.KindOfficer), NameKO: "기술력과 개발 성과", NameEN: "Technology and progress", Weight: "50"},
		{Code: "mmlu", Kind: string(models.KindGlobalBenchmark), NameKO: "MMLU-Pro", NameEN: "MMLU-Pro", Weight: "30"},
		{Code: "kmmlu", Kind: string(models.KindGovDataset), NameKO: "KMMLU (한국어)", NameEN: "KMMLU (Korean)", Weight: "20"},
	} {
		errs, err := models.AddCriterion(ctx, db, s1.ID, c, officer, at.created)
		if err := step("criterion "+c.Code, errs, err); err != nil {
			return err
		}
	}
	errs, err = models.OpenOpinions(ctx, db, s1.ID, at.opinions.Format(models.StageInstantLayout), officer, at.created.Add(time.Hour))
	if err := step("stage 1 opinions", errs, err); err != nil {
		return err
	}
	byCode := map[string]models.Organisation{}
	for _, t := range teams {
		byCode[t.Code] = t
	}
	opinions := map[string]string{
		"upstage": "MMLU-Pro는 영어 위주입니다. 한국어 벤치마크의 가중치를 높여 주십시오. (MMLU-Pro is English-centred; please weigh the Korean benchmark more.)",
		"nc-ai":   "정부 데이터셋 벤치마크의 평가 방식(few-shot 수)을 미리 알려 주십시오. (Please state the government benchmark's few-shot setting.)",
	}
	for code, text := range opinions {
		u, err := stageTeamUser(ctx, db, byCode[code], at.created)
		if err != nil {
			return err
		}
		errs, err := models.SendOpinion(ctx, db, s1.ID, text, u, at.created.Add(5*24*time.Hour))
		if err := step("opinion of "+code, errs, err); err != nil {
			return err
		}
	}
	ops, err := models.ListOpinions(ctx, db, s1.ID, officer)
	if err != nil {
		return err
	}
	for _, o := range ops {
		answer := "5-shot으로 평가하며 평가 전에 스크립트를 공개합니다. (Evaluated 5-shot; the script is published beforehand.)"
		if strings.Contains(o.Text, "MMLU-Pro") {
			answer = "한국어 벤치마크를 유지하되, 2차 평가부터 가중치를 높입니다. (Kept; its weight rises from stage 2.)"
		}
		if errs, err := models.AnswerOpinion(ctx, db, s1.ID, o.ID, answer, officer, at.frozen.Add(-time.Hour)); err != nil {
			return step("answer", errs, err)
		}
	}
	errs, err = models.FreezeStage(ctx, db, s1.ID, officer, at.frozen)
	if err := step("freeze stage 1", errs, err); err != nil {
		return err
	}
	s1, err = models.GetStage(ctx, db, s1.ID)
	if err != nil {
		return err
	}
	techID := uint(0)
	for _, c := range s1.Criteria {
		if c.Code == "tech" {
			techID = c.ID
		}
	}
	if err := models.AssignStageEvaluator(ctx, db, s1.ID, officer.ID, officer, at.frozen); err != nil {
		return step("evaluator", nil, err)
	}
	var csv strings.Builder
	csv.WriteString("team,criterion,value\n")
	for _, t := range teams {
		r, ok := demoStage1Results[t.Code]
		if !ok {
			r = demoStage1Results["sk-telecom"]
		}
		u, err := stageTeamUser(ctx, db, t, at.created)
		if err != nil {
			return err
		}
		errs, err := models.SubmitStageReport(ctx, db, models.StageReportInput{StageID: s1.ID,
			ModelVersions:      demoModelNames[t.Code] + " (2025-11)",
			ServiceName:        t.NameKO + " AI 체험",
			ServiceURL:         "https://" + t.Code + ".demo.k-ai.invalid/try",
			ServiceDescription: "누구나 써 볼 수 있는 대화형 서비스입니다. (A chat service anyone can try.)",
			Documents: []*models.UploadedFile{demoPDF([]string{"Stage report 1 (demo)", t.NameEN,
				"Demo document generated by the portal's demo seed."})}, Files: files,
			Uploads: models.UploadPolicy{MaxBytes: 1 << 20, Allowed: []models.FileKind{models.FilePDF}}}, u, at.due.Add(-48*time.Hour))
		if err := step("report of "+t.Code, errs, err); err != nil {
			return err
		}
		if err := models.DeclareStageConflict(ctx, db, s1.ID, t.ID, models.ConflictNone, officer, at.scored); err != nil {
			return step("declaration", nil, err)
		}
		errs, err = models.SaveStageScores(ctx, db, s1.ID, t.ID, map[uint]string{techID: fmt.Sprint(r.tech)}, officer, at.scored)
		if err := step("scores of "+t.Code, errs, err); err != nil {
			return err
		}
		fmt.Fprintf(&csv, "%s,mmlu,%g\n%s,kmmlu,%g\n", t.Code, r.mmlu, t.Code, r.kmmlu)
	}
	if probs, _, err := models.ImportStageResults(ctx, db, s1.ID, strings.NewReader(csv.String()), officer, at.scored.Add(time.Hour)); err != nil {
		return fmt.Errorf("store: seed demo stages: import: %w (%v)", err, probs)
	}
	_, errs, err = models.PublishStageDecision(ctx, db, models.StageDecisionInput{StageID: s1.ID,
		NoticeKO:     "독자 AI 파운데이션 모델 프로젝트 1차 단계평가 결과를 다음과 같이 공고합니다.",
		NoticeEN:     "The result of the first stage evaluation of the sovereign AI foundation model project is announced as follows.",
		CountingRule: models.RuleCivil}, officer, at.decision)
	if err := step("stage 1 decision", errs, err); err != nil {
		return err
	}
	if _, err := models.FinaliseStageDecisions(ctx, db, now); err != nil {
		return err
	}

	// The second stage: in its opinion period now.
	today := models.DateOf(now)
	s2, errs, err := models.CreateStage(ctx, db, models.StageInput{NameKO: "2차 단계평가 (연말 평가)", NameEN: "Stage evaluation 2 (year-end)",
		StartsOn: models.DateOf(at.decision).AddDays(-7).String(), EvaluatedOn: today.AddDays(60).String(),
		ReportDue: today.AddDays(45).Start().Add(18 * time.Hour).Format(models.StageInstantLayout), Eliminate: "1", CarryOver: true},
		officer, now.Add(-3*24*time.Hour))
	if err := step("stage 2", errs, err); err != nil {
		return err
	}
	s2, err = models.GetStage(ctx, db, s2.ID)
	if err != nil {
		return err
	}
	for _, c := range s2.Criteria {
		if c.Code == "tech" {
			if err := models.RemoveCriterion(ctx, db, s2.ID, c.ID, officer, now.Add(-3*24*time.Hour)); err != nil {
				return step("stage 2 criteria", nil, err)
			}
		}
	}
	for _, c := range []models.CriterionInput{
		{Code: "tech", Kind: string(models.KindOfficer), NameKO: "기술력과 개발 성과", NameEN: "Technology and progress", Weight: "30"},
		{Code: "public", Kind: string(models.KindPublicEval), NameKO: "대국민 평가", NameEN: "Public evaluation", Weight: "20", Scale: "5"},
	} {
		errs, err := models.AddCriterion(ctx, db, s2.ID, c, officer, now.Add(-3*24*time.Hour))
		if err := step("stage 2 criterion "+c.Code, errs, err); err != nil {
			return err
		}
	}
	closes := today.AddDays(14).Start().Add(18 * time.Hour)
	errs, err = models.OpenOpinions(ctx, db, s2.ID, closes.Format(models.StageInstantLayout), officer, now.Add(-2*24*time.Hour))
	if err := step("stage 2 opinions", errs, err); err != nil {
		return err
	}
	// A demo external evaluator, where the demo has one, evaluates both
	// stages (the first's scores are the officer's).
	reviewer, err := demoUserWhere(ctx, db, "reviewer", func(u *models.User) bool { return u.Role == models.RoleReviewer })
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	for _, id := range []uint{s1.ID, s2.ID} {
		if err := models.AssignStageEvaluator(ctx, db, id, reviewer.ID, officer, now.Add(-2*24*time.Hour)); err != nil {
			return step("evaluator", nil, err)
		}
	}
	return nil
}

// stageTeamUser is a company user of the team who acts for it.
func stageTeamUser(ctx context.Context, db *gorm.DB, team models.Organisation, at time.Time) (*models.User, error) {
	u, err := demoUserWhere(ctx, db, "company of "+team.Code, func(u *models.User) bool {
		return u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == team.ID
	})
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	id := team.ID
	return models.UpsertUser(ctx, db, models.Identity{Issuer: "demo-stage", Subject: "stage-" + team.Code,
		Name: team.NameKO + " 단계평가 담당자", Role: models.RoleCompany, OrganisationID: &id}, at)
}
