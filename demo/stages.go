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

// The demo's stage evaluations (단계평가): the first stage, evaluated on
// 2025-12-15 (the agreements' first stage date), is complete: its criteria
// were published for the teams' opinions, answered and frozen, the teams
// submitted their reports, the demo officer scored, the benchmark and
// public-evaluation results were imported, and the decision eliminating
// one team (NC AI, ranked last) became final, which ended its agreement,
// its K-AI names and its GPU allocation. The second stage carries the
// first's criteria over, adds the year-end benchmarks and the public
// evaluation, and is in its opinion period at the instant the demo is
// loaded, so that a team can send an opinion at once.

// Instants of the first stage (KST).
var (
	demoStage1Created  = time.Date(2025, 10, 20, 10, 0, 0, 0, models.KST)
	demoStage1Opinions = time.Date(2025, 11, 7, 18, 0, 0, 0, models.KST) // opinions close
	demoStage1Frozen   = time.Date(2025, 11, 10, 14, 0, 0, 0, models.KST)
	demoStage1Due      = time.Date(2025, 12, 5, 18, 0, 0, 0, models.KST) // stage reports due
	demoStage1Scored   = time.Date(2025, 12, 12, 16, 0, 0, 0, models.KST)
	demoStage1Decision = time.Date(2025, 12, 22, 10, 0, 0, 0, models.KST)
)

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
// SeedGPUs and SeedUsageReports, whose teams are all in force: NC AI's
// allocation ends with its standing). It needs the clock past the first
// stage's appeal window; before, it does nothing. It is idempotent: once a
// stage exists it changes nothing.
func SeedStages(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	if now.Before(demoStage1Decision.Add(30 * 24 * time.Hour)) {
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
		StartsOn: DemoAgreementStart, EvaluatedOn: "2025-12-15", ReportDue: demoStage1Due.Format(models.StageInstantLayout),
		Eliminate: "1"}, officer, demoStage1Created)
	if err := step("stage 1", errs, err); err != nil {
		return err
	}
	for _, c := range []models.CriterionInput{
		{Code: "tech", Kind: string(models.KindOfficer), NameKO: "기술력과 개발 성과", NameEN: "Technology and progress", Weight: "50"},
		{Code: "mmlu", Kind: string(models.KindGlobalBenchmark), NameKO: "MMLU-Pro", NameEN: "MMLU-Pro", Weight: "30"},
		{Code: "kmmlu", Kind: string(models.KindGovDataset), NameKO: "KMMLU (한국어)", NameEN: "KMMLU (Korean)", Weight: "20"},
	} {
		errs, err := models.AddCriterion(ctx, db, s1.ID, c, officer, demoStage1Created)
		if err := step("criterion "+c.Code, errs, err); err != nil {
			return err
		}
	}
	errs, err = models.OpenOpinions(ctx, db, s1.ID, demoStage1Opinions.Format(models.StageInstantLayout), officer, demoStage1Created.Add(time.Hour))
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
		u, err := stageTeamUser(ctx, db, byCode[code])
		if err != nil {
			return err
		}
		errs, err := models.SendOpinion(ctx, db, s1.ID, text, u, demoStage1Created.Add(5*24*time.Hour))
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
		if errs, err := models.AnswerOpinion(ctx, db, s1.ID, o.ID, answer, officer, demoStage1Frozen.Add(-time.Hour)); err != nil {
			return step("answer", errs, err)
		}
	}
	errs, err = models.FreezeStage(ctx, db, s1.ID, officer, demoStage1Frozen)
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
	if err := models.AssignStageEvaluator(ctx, db, s1.ID, officer.ID, officer, demoStage1Frozen); err != nil {
		return step("evaluator", nil, err)
	}
	var csv strings.Builder
	csv.WriteString("team,criterion,value\n")
	for _, t := range teams {
		r, ok := demoStage1Results[t.Code]
		if !ok {
			r = demoStage1Results["sk-telecom"]
		}
		u, err := stageTeamUser(ctx, db, t)
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
			Uploads: models.UploadPolicy{MaxBytes: 1 << 20, Allowed: []models.FileKind{models.FilePDF}}}, u, demoStage1Due.Add(-48*time.Hour))
		if err := step("report of "+t.Code, errs, err); err != nil {
			return err
		}
		if err := models.DeclareStageConflict(ctx, db, s1.ID, t.ID, models.ConflictNone, officer, demoStage1Scored); err != nil {
			return step("declaration", nil, err)
		}
		errs, err = models.SaveStageScores(ctx, db, s1.ID, t.ID, map[uint]string{techID: fmt.Sprint(r.tech)}, officer, demoStage1Scored)
		if err := step("scores of "+t.Code, errs, err); err != nil {
			return err
		}
		fmt.Fprintf(&csv, "%s,mmlu,%g\n%s,kmmlu,%g\n", t.Code, r.mmlu, t.Code, r.kmmlu)
	}
	if probs, _, err := models.ImportStageResults(ctx, db, s1.ID, strings.NewReader(csv.String()), officer, demoStage1Scored.Add(time.Hour)); err != nil {
		return fmt.Errorf("store: seed demo stages: import: %w (%v)", err, probs)
	}
	_, errs, err = models.PublishStageDecision(ctx, db, models.StageDecisionInput{StageID: s1.ID,
		NoticeKO:     "독자 AI 파운데이션 모델 프로젝트 1차 단계평가 결과를 다음과 같이 공고합니다.",
		NoticeEN:     "The result of the first stage evaluation of the sovereign AI foundation model project is announced as follows.",
		CountingRule: models.RuleCivil}, officer, demoStage1Decision)
	if err := step("stage 1 decision", errs, err); err != nil {
		return err
	}
	if _, err := models.FinaliseStageDecisions(ctx, db, now); err != nil {
		return err
	}

	// The second stage: in its opinion period now.
	today := models.DateOf(now)
	s2, errs, err := models.CreateStage(ctx, db, models.StageInput{NameKO: "2차 단계평가 (연말 평가)", NameEN: "Stage evaluation 2 (year-end)",
		StartsOn: "2025-12-15", EvaluatedOn: today.AddDays(60).String(),
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
	return step("stage 2 opinions", errs, err)
}

// stageTeamUser is a company user of the team who acts for it.
func stageTeamUser(ctx context.Context, db *gorm.DB, team models.Organisation) (*models.User, error) {
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
		Name: team.NameKO + " 단계평가 담당자", Role: models.RoleCompany, OrganisationID: &id}, demoStage1Created)
}
