package models_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestRankStage: weighted totals, and ties broken by the stated rule
// (the highest-weighted criterion's points, then the earlier agreement).
func TestRankStage(t *testing.T) {
	t.Parallel()
	crit := []models.StageCriterion{
		{ID: 1, Code: "tech", Kind: models.KindOfficer, Weight: 40, Scale: 100, Position: 1},
		{ID: 2, Code: "bench", Kind: models.KindGlobalBenchmark, Imported: true, Weight: 60, Scale: 50, Position: 2},
	}
	sheet := func(org uint, num string, tech []float64, bench float64) models.StageSheet {
		return models.StageSheet{OrganisationID: org, AgreementNumber: num, Scores: map[uint][]float64{1: tech},
			Results: map[uint]float64{2: bench}}
	}
	cases := []struct {
		name      string
		sheets    []models.StageSheet
		eliminate int
		order     []uint
		totals    []float64
		ties      []string
		out       []uint
	}{
		{"distinct totals", []models.StageSheet{sheet(1, "A1", []float64{50}, 25), sheet(2, "A2", []float64{100}, 50), sheet(3, "A3", []float64{80, 60}, 40)},
			1, []uint{2, 3, 1}, []float64{100, 76, 50}, []string{"", "", ""}, []uint{1}},
		// 1: 40·80/100 + 60·20/50 = 32+24 = 56; 2: 40·20/100 + 60·40/50 = 8+48 = 56: the benchmark (weight 60) decides.
		{"tie broken by the heaviest criterion", []models.StageSheet{sheet(1, "A1", []float64{80}, 20), sheet(2, "A2", []float64{20}, 40)},
			1, []uint{2, 1}, []float64{56, 56}, []string{"", "criterion"}, []uint{1}},
		// Equal on everything: the earlier agreement number first.
		{"full tie broken by the agreement number", []models.StageSheet{sheet(3, "KAI-2025-003", []float64{50}, 25), sheet(1, "KAI-2025-001", []float64{50}, 25), sheet(2, "KAI-2025-002", []float64{50}, 25)},
			2, []uint{1, 2, 3}, []float64{50, 50, 50}, []string{"", "agreement", "agreement"}, []uint{2, 3}},
		{"none eliminated", []models.StageSheet{sheet(1, "A1", []float64{50}, 25), sheet(2, "A2", []float64{60}, 25)},
			0, []uint{2, 1}, []float64{54, 50}, []string{"", ""}, nil},
	}
	for _, tc := range cases {
		got := models.RankStage(crit, tc.sheets, tc.eliminate)
		var out []uint
		for i, r := range got {
			if r.OrganisationID != tc.order[i] || r.Rank != i+1 || r.Total != tc.totals[i] || r.TieBreak != tc.ties[i] {
				t.Errorf("%s: place %d = %+v, want org %d total %g tie %q", tc.name, i+1, r, tc.order[i], tc.totals[i], tc.ties[i])
			}
			if r.Eliminated {
				out = append(out, r.OrganisationID)
			}
		}
		if fmt.Sprint(out) != fmt.Sprint(tc.out) {
			t.Errorf("%s: eliminated %v, want %v", tc.name, out, tc.out)
		}
	}
	missing := models.RankStage(crit, []models.StageSheet{{OrganisationID: 1, Scores: map[uint][]float64{}, Results: map[uint]float64{}}}, 0)
	if missing[0].Missing != 2 {
		t.Errorf("a team without scores: missing %d, want 2", missing[0].Missing)
	}
}

func TestDefaultStageDates(t *testing.T) {
	t.Parallel()
	got := models.DefaultStageDates(day("2025-08-11"), day("2027-06-30"))
	if fmt.Sprint(got) != "[2026-02-11 2026-08-11 2027-02-11]" {
		t.Errorf("DefaultStageDates = %v", got)
	}
}

// stageWorld: upstage and kakao were selected and have agreements in force
// from 2025-08-11 with K-AI names; a stage with three criteria (one
// scored, one global benchmark, one public evaluation).
type stageWorld struct {
	*world
	apps     map[string]*models.Application
	agr      map[string]*models.Agreement
	stage    *models.Stage
	reviewer *models.User
}

var (
	stageCreated  = kst(2025, 11, 3, 10, 0, 0)
	opinionsClose = kst(2025, 11, 14, 18, 0, 0)
	reportDue     = kst(2025, 12, 1, 18, 0, 0)
	stagePublish  = kst(2025, 12, 15, 10, 0, 0) // a Monday
	// The window of a decision published at stagePublish (civil rule):
	// day 1 is 12-16, day 10 is 12-25 (Christmas, a holiday), so it ends
	// at the end of 12-26: 2025-12-27 00:00 KST.
	stageWindowCloses = kst(2025, 12, 27, 0, 0, 0)
)

func newStageWorld(t *testing.T, db *gorm.DB, clock *testdb.Clock) *stageWorld {
	t.Helper()
	ctx := t.Context()
	w := newWorld(t, db, clock)
	_, apps := w.decide(w.call, standardApplicants, publishAt, nil)
	sw := &stageWorld{world: w, apps: apps, agr: map[string]*models.Agreement{}}
	for _, code := range []string{"upstage", "kakao"} {
		sw.agr[code] = giveAgreement(t, db, apps[code], "2025-08-11", "2027-12-31", true, w.officer, kst(2025, 8, 6, 10, 0, 0))
	}
	s, errs, err := models.CreateStage(ctx, db, models.StageInput{NameKO: "1차 단계평가", NameEN: "Stage 1", StartsOn: "2025-08-11",
		EvaluatedOn: "2026-02-11", ReportDue: reportDue.Format(models.StageInstantLayout), Eliminate: "1"}, w.officer, stageCreated)
	if err != nil {
		t.Fatalf("CreateStage: %v %v", err, errs)
	}
	for _, c := range []models.CriterionInput{
		{Code: "tech", Kind: string(models.KindOfficer), NameKO: "기술력", NameEN: "Technology", Weight: "40"},
		{Code: "mmlu", Kind: string(models.KindGlobalBenchmark), NameKO: "MMLU", NameEN: "MMLU", Weight: "30"},
		{Code: "public", Kind: string(models.KindPublicEval), NameKO: "대국민 평가", NameEN: "Public evaluation", Weight: "30", Scale: "10"},
	} {
		if errs, err := models.AddCriterion(ctx, db, s.ID, c, w.officer, stageCreated); err != nil {
			t.Fatalf("AddCriterion %s: %v %v", c.Code, err, errs)
		}
	}
	sw.stage = sw.load(s.ID)
	sw.reviewer = reviewerUser(t, db, "reviewer-ext")
	return sw
}

// reviewerUser creates an external evaluator (role reviewer) directly.
func reviewerUser(t *testing.T, db *gorm.DB, subject string) *models.User {
	t.Helper()
	u := &models.User{Issuer: "test", Subject: subject, Name: "평가위원 " + subject, Role: models.RoleReviewer,
		ProviderRole: models.RoleReviewer}
	if err := db.Create(u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *stageWorld) load(id uint) *models.Stage {
	w.t.Helper()
	s, err := models.GetStage(w.t.Context(), w.db, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *stageWorld) crit(code string) models.StageCriterion {
	for _, c := range w.stage.Criteria {
		if c.Code == code {
			return c
		}
	}
	w.t.Fatalf("no criterion %s", code)
	return models.StageCriterion{}
}

// frozen publishes the set, lets the period close and freezes it.
func (w *stageWorld) frozen() {
	w.t.Helper()
	ctx := w.t.Context()
	if errs, err := models.OpenOpinions(ctx, w.db, w.stage.ID, opinionsClose.Format(models.StageInstantLayout), w.officer, stageCreated); err != nil {
		w.t.Fatalf("OpenOpinions: %v %v", err, errs)
	}
	if errs, err := models.FreezeStage(ctx, w.db, w.stage.ID, w.officer, opinionsClose); err != nil {
		w.t.Fatalf("FreezeStage: %v %v", err, errs)
	}
	w.stage = w.load(w.stage.ID)
}

// scored has the officer score both teams (upstage 90, kakao 60) and
// imports the results (upstage higher), then publishes the decision.
func (w *stageWorld) decided() *models.Decision {
	w.t.Helper()
	ctx := w.t.Context()
	w.frozen()
	if err := models.AssignStageEvaluator(ctx, w.db, w.stage.ID, w.officer.ID, w.officer, reportDue); err != nil {
		w.t.Fatal(err)
	}
	for code, v := range map[string]string{"upstage": "90", "kakao": "60"} {
		org := w.org(code).ID
		if err := models.DeclareStageConflict(ctx, w.db, w.stage.ID, org, models.ConflictNone, w.officer, reportDue); err != nil {
			w.t.Fatal(err)
		}
		if errs, err := models.SaveStageScores(ctx, w.db, w.stage.ID, org, map[uint]string{w.crit("tech").ID: v}, w.officer, reportDue); err != nil {
			w.t.Fatalf("scores: %v %v", err, errs)
		}
	}
	csv := "team,criterion,value\nupstage,mmlu,80\nkakao,mmlu,70\nupstage,public,9\nkakao,public,7\n"
	if probs, _, err := models.ImportStageResults(ctx, w.db, w.stage.ID, strings.NewReader(csv), w.officer, reportDue); err != nil {
		w.t.Fatalf("import: %v %v", err, probs)
	}
	w.clock.Set(stagePublish)
	d, errs, err := models.PublishStageDecision(ctx, w.db, models.StageDecisionInput{StageID: w.stage.ID, NoticeKO: "1차 단계평가 결과를 공고합니다.",
		NoticeEN: "The result of stage 1 is announced.", CountingRule: models.RuleCivil}, w.officer, stagePublish)
	if err != nil {
		w.t.Fatalf("PublishStageDecision: %v %v", err, errs)
	}
	w.stage = w.load(w.stage.ID)
	return d
}

// TestStageOpinionsAndFreeze: teams with an agreement in force send
// opinions until the closing instant; the set is frozen only after the
// period, with every opinion answered; a frozen set refuses every change
// and its revisions before the freeze are kept.
func TestStageOpinionsAndFreeze(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		id := w.stage.ID
		up := w.company("upstage")
		_, err := models.SendOpinion(ctx, db, id, "벤치마크가 영어 위주입니다.", up, stageCreated)
		wantErr(t, "an opinion before publication", err, models.ErrInvalidTransition)
		_, err = models.AddCriterion(ctx, db, id, models.CriterionInput{Code: "x", Kind: "officer", NameKO: "x", NameEN: "x", Weight: "1"}, up, stageCreated)
		wantErr(t, "a company adds a criterion", err, models.ErrForbidden)
		// The weights must add up to 100 before publication.
		if errs, err := models.AddCriterion(ctx, db, id, models.CriterionInput{Code: "kmmlu", Kind: string(models.KindGovDataset), NameKO: "정부 데이터셋",
			NameEN: "Government dataset", Weight: "10"}, w.officer, stageCreated); err != nil {
			t.Fatal(err, errs)
		}
		errs, err := models.OpenOpinions(ctx, db, id, opinionsClose.Format(models.StageInstantLayout), w.officer, stageCreated)
		if !errors.Is(err, models.ErrInvalid) || errs["criteria"] != "stage.error.weights" {
			t.Errorf("weights 110: %v %v", err, errs)
		}
		w.stage = w.load(id)
		if err := models.RemoveCriterion(ctx, db, id, w.crit("kmmlu").ID, w.officer, stageCreated); err != nil {
			t.Fatal(err)
		}
		if errs, err := models.OpenOpinions(ctx, db, id, opinionsClose.Format(models.StageInstantLayout), w.officer, stageCreated); err != nil {
			t.Fatal(err, errs)
		}
		// A team in force sends; a company without an agreement may not.
		if errs, err := models.SendOpinion(ctx, db, id, "벤치마크가 영어 위주입니다.", up, opinionsClose.Add(-time.Second)); err != nil {
			t.Fatal(err, errs)
		}
		_, err = models.SendOpinion(ctx, db, id, "의견", w.company("kaist"), stageCreated)
		wantErr(t, "a company without agreement", err, models.ErrForbidden)
		// At the closing instant, refused with the instant.
		_, err = models.SendOpinion(ctx, db, id, "늦은 의견", up, opinionsClose)
		var closed *models.StageClosedError
		if !errors.As(err, &closed) || !closed.Closes.Equal(opinionsClose) || !strings.Contains(err.Error(), "2025-11-14 18:00:00 KST") {
			t.Errorf("late opinion: %v", err)
		}
		// Not frozen while open, nor with an unanswered opinion.
		errs, _ = models.FreezeStage(ctx, db, id, w.officer, opinionsClose.Add(-time.Minute))
		if errs["freeze"] != "stage.error.opinions_open" {
			t.Errorf("freeze while open: %v", errs)
		}
		errs, _ = models.FreezeStage(ctx, db, id, w.officer, opinionsClose)
		if errs["freeze"] != "stage.error.unanswered" {
			t.Errorf("freeze with an unanswered opinion: %v", errs)
		}
		ops, _ := models.ListOpinions(ctx, db, id, w.officer)
		if len(ops) != 1 {
			t.Fatalf("opinions %d", len(ops))
		}
		if own, _ := models.ListOpinions(ctx, db, id, w.company("kakao")); len(own) != 0 {
			t.Errorf("kakao sees upstage's opinion")
		}
		// A change after the opinions, then the answer and the freeze.
		if _, err := models.AddCriterion(ctx, db, id, models.CriterionInput{Code: "kmmlu", Kind: string(models.KindGovDataset), NameKO: "정부 데이터셋",
			NameEN: "Government dataset", Weight: "10"}, w.officer, opinionsClose); err != nil {
			t.Fatal(err)
		}
		w.stage = w.load(id)
		if err := models.RemoveCriterion(ctx, db, id, w.crit("mmlu").ID, w.officer, opinionsClose); err != nil {
			t.Fatal(err)
		}
		if _, err := models.AddCriterion(ctx, db, id, models.CriterionInput{Code: "mmlu", Kind: string(models.KindGlobalBenchmark), NameKO: "MMLU (한국어 포함)",
			NameEN: "MMLU (with Korean)", Weight: "20"}, w.officer, opinionsClose); err != nil {
			t.Fatal(err)
		}
		if _, err := models.AnswerOpinion(ctx, db, id, ops[0].ID, "한국어 벤치마크를 추가했습니다.", w.officer, opinionsClose); err != nil {
			t.Fatal(err)
		}
		if errs, err := models.FreezeStage(ctx, db, id, w.officer, opinionsClose); err != nil {
			t.Fatal(err, errs)
		}
		w.stage = w.load(id)
		// Frozen: every change refused, by the model.
		frozenErr := []error{
			func() error {
				_, err := models.AddCriterion(ctx, db, id, models.CriterionInput{Code: "y", Kind: "officer", NameKO: "y", NameEN: "y", Weight: "1"}, w.officer, reportDue)
				return err
			}(),
			models.RemoveCriterion(ctx, db, id, w.crit("tech").ID, w.officer, reportDue),
			func() error {
				_, err := models.OpenOpinions(ctx, db, id, reportDue.Add(time.Hour).Format(models.StageInstantLayout), w.officer, reportDue)
				return err
			}(),
			func() error { _, err := models.FreezeStage(ctx, db, id, w.officer, reportDue); return err }(),
		}
		for i, err := range frozenErr {
			wantErr(t, fmt.Sprintf("change %d of a frozen set", i), err, models.ErrStageFrozen)
		}
		if got := w.load(id); len(got.Criteria) != 4 || models.WeightTotal(got.Criteria) != 100 {
			t.Errorf("frozen set changed: %+v", got.Criteria)
		}
		revs, _ := models.ListRevisions(ctx, db, id)
		if len(revs) != 10 || revs[len(revs)-1].Change != "frozen" || !strings.Contains(revs[2].Set, "public") {
			for _, r := range revs {
				t.Logf("%d %s", r.Revision, r.Change)
			}
			t.Errorf("revisions: %d", len(revs))
		}
		if n := countAudit(t, db, "stage.criteria", ""); n != int64(len(revs)) {
			t.Errorf("audit stage.criteria %d, revisions %d", n, len(revs))
		}
		chainOK(t, db)
	})
}

// TestStageReportsAndEvaluators: reports by the due instant; evaluators
// see and score only their stage, after declaring per team.
func TestStageReportsAndEvaluators(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		id := w.stage.ID
		up := w.company("upstage")
		in := models.StageReportInput{StageID: id, ModelVersions: "Solar Pro 2 (2025-11)", ServiceName: "Solar Chat",
			ServiceURL: "https://chat.example.kr", ServiceDescription: "누구나 써 보는 대화 서비스",
			Documents: []*models.UploadedFile{agreementPDF("report")}, Files: w.files, Uploads: pdfPolicy}
		bad := in
		bad.ServiceURL = "javascript:alert(1)"
		if errs, _ := models.SubmitStageReport(ctx, db, bad, up, reportDue.Add(-time.Hour)); errs["service_url"] != "stage.error.url" {
			t.Errorf("bad url: %v", errs)
		}
		if errs, err := models.SubmitStageReport(ctx, db, in, up, reportDue.Add(-time.Second)); err != nil {
			t.Fatal(err, errs)
		}
		_, err := models.SubmitStageReport(ctx, db, in, up, reportDue)
		var closed *models.StageClosedError
		if !errors.As(err, &closed) || !strings.Contains(err.Error(), "2025-12-01 18:00:00 KST") {
			t.Errorf("late report: %v", err)
		}
		reps, _ := models.ListStageReports(ctx, db, id, w.company("kakao"), false)
		if len(reps) != 0 {
			t.Errorf("kakao sees upstage's report")
		}
		reps, _ = models.ListStageReports(ctx, db, id, w.officer, false)
		if len(reps) != 1 || len(reps[0].Files) != 1 || reps[0].ServiceName != "Solar Chat" {
			t.Errorf("reports %+v", reps)
		}

		w.frozen()
		err = models.AssignStageEvaluator(ctx, db, id, up.ID, w.officer, reportDue)
		wantErr(t, "a company user as evaluator", err, models.ErrInvalid)
		if err := models.AssignStageEvaluator(ctx, db, id, w.reviewer.ID, w.officer, reportDue); err != nil {
			t.Fatal(err)
		}
		other := reviewerUser(t, db, "reviewer-other")
		_, err = models.LoadEvaluation(ctx, db, id, other)
		wantErr(t, "an unassigned reviewer reads", err, models.ErrForbidden)
		if got, _ := models.StageAssignments(ctx, db, other); len(got) != 0 {
			t.Errorf("unassigned reviewer has assignments %v", got)
		}
		upID, kakaoID := w.org("upstage").ID, w.org("kakao").ID
		tech := map[uint]string{w.crit("tech").ID: "80"}
		_, err = models.SaveStageScores(ctx, db, id, upID, tech, other, reportDue)
		wantErr(t, "an unassigned reviewer scores", err, models.ErrForbidden)
		_, err = models.SaveStageScores(ctx, db, id, upID, tech, w.reviewer, reportDue)
		wantErr(t, "score before the declaration", err, models.ErrConflictNotStated)
		if err := models.DeclareStageConflict(ctx, db, id, upID, models.ConflictNone, w.reviewer, reportDue); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "declare twice", models.DeclareStageConflict(ctx, db, id, upID, models.ConflictRecused, w.reviewer, reportDue), models.ErrConflict)
		if err := models.DeclareStageConflict(ctx, db, id, kakaoID, models.ConflictRecused, w.reviewer, reportDue); err != nil {
			t.Fatal(err)
		}
		if errs, _ := models.SaveStageScores(ctx, db, id, upID, map[uint]string{w.crit("tech").ID: "101"}, w.reviewer, reportDue); errs[fmt.Sprintf("score.%d", w.crit("tech").ID)] != "stage.error.score" {
			t.Errorf("score above the scale: %v", errs)
		}
		if errs, err := models.SaveStageScores(ctx, db, id, upID, tech, w.reviewer, reportDue); err != nil {
			t.Fatal(err, errs)
		}
		_, err = models.SaveStageScores(ctx, db, id, kakaoID, tech, w.reviewer, reportDue)
		wantErr(t, "a recused evaluator scores", err, models.ErrRecused)
		ev, err := models.LoadEvaluation(ctx, db, id, w.reviewer)
		if err != nil || len(ev.Teams) != 2 || ev.Scores[upID][w.crit("tech").ID] != 80 || ev.Declarations[kakaoID] != models.ConflictRecused {
			t.Errorf("evaluation %+v %v", ev, err)
		}
	})
}

// TestStageCSVImport: a file with bad rows imports nothing and lists each
// error by row and column; a good file imports every row.
func TestStageCSVImport(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		id := w.stage.ID
		good := "team,criterion,value\nupstage,mmlu,80\nkakao,mmlu,70\nupstage,public,9\nkakao,public,7\n"
		_, _, err := models.ImportStageResults(ctx, db, id, strings.NewReader(good), w.officer, stageCreated)
		wantErr(t, "import before the freeze", err, models.ErrInvalidTransition)
		w.frozen()
		cases := []struct {
			name, file string
			want       []models.CSVError
		}{
			{"bad header", "org,criterion,score\nupstage,mmlu,80\n", []models.CSVError{{Row: 1, Message: "stage.csv.header"}}},
			{"empty", "", []models.CSVError{{Row: 1, Message: "stage.csv.empty"}}},
			{"bad rows", "team,criterion,value\nupstage,mmlu,80\nkaist,mmlu,70\nkakao,tech,5\nkakao,public,11\nkakao,mmlu,abc\nupstage,mmlu,81\nkakao,nope,1\nupstage,public\n",
				[]models.CSVError{
					{Row: 3, Column: 1, Message: "stage.csv.team"},
					{Row: 4, Column: 2, Message: "stage.csv.scored"},
					{Row: 5, Column: 3, Message: "stage.csv.value"},
					{Row: 6, Column: 3, Message: "stage.csv.value"},
					{Row: 7, Column: 0, Message: "stage.csv.duplicate"},
					{Row: 8, Column: 2, Message: "stage.csv.criterion"},
					{Row: 9, Column: 0, Message: "stage.csv.fields"},
				}},
		}
		for _, tc := range cases {
			probs, n, err := models.ImportStageResults(ctx, db, id, strings.NewReader(tc.file), w.officer, reportDue)
			if !errors.Is(err, models.ErrCSVInvalid) || n != 0 {
				t.Errorf("%s: %v, %d imported", tc.name, err, n)
			}
			if len(probs) != len(tc.want) {
				t.Errorf("%s: %+v, want %+v", tc.name, probs, tc.want)
				continue
			}
			for i, p := range probs {
				if p.Row != tc.want[i].Row || p.Column != tc.want[i].Column || p.Message != tc.want[i].Message {
					t.Errorf("%s: problem %d = %+v, want %+v", tc.name, i, p, tc.want[i])
				}
			}
			var stored int64
			db.Model(&models.StageResult{}).Count(&stored)
			if stored != 0 {
				t.Errorf("%s: %d results stored", tc.name, stored)
			}
		}
		probs, n, err := models.ImportStageResults(ctx, db, id, strings.NewReader("\ufeff"+good), w.officer, reportDue)
		if err != nil || n != 4 || len(probs) != 0 {
			t.Fatalf("good file: %v %d %v", err, n, probs)
		}
		st, _ := models.RankStageTeams(ctx, db, w.stage)
		if v := st.Results[w.org("upstage").ID][w.crit("public").ID]; v != 9 {
			t.Errorf("imported public evaluation %g", v)
		}
	})
}

// TestStageDecisionCascade: the decision opens the appeal window as a
// selection does; only once final (window closed, nothing pending) are the
// eliminated team's agreement, names and allocations ended, exactly once,
// even when run concurrently.
func TestStageDecisionCascade(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		d := w.decided()
		if d.Kind != models.DecisionStage || len(d.Entries) != 2 || d.Entries[0].NameKO != w.org("upstage").NameKO || d.Entries[1].Selected {
			t.Fatalf("decision %+v", d)
		}
		win, err := models.DecisionWindow(ctx, db, d, stagePublish)
		if err != nil || !win.Closes.Equal(stageWindowCloses) {
			t.Errorf("window closes %v, want %v (%v)", win.Closes, stageWindowCloses, err)
		}
		_, _, err = models.PublishStageDecision(ctx, db, models.StageDecisionInput{StageID: w.stage.ID, NoticeKO: "x", NoticeEN: "x",
			CountingRule: models.RuleCivil}, w.officer, stagePublish)
		wantErr(t, "publish twice", err, models.ErrConflict)
		// The same appeal rule: kakao may appeal while open.
		if _, err := models.CheckAppealable(ctx, db, d, w.org("kakao").ID, stagePublish.Add(time.Hour)); err != nil {
			t.Errorf("kakao may not appeal: %v", err)
		}
		kakao := w.org("kakao").ID
		model := fmt.Sprint("Model of ", kakao)
		// Not final before the close.
		if n, err := models.FinaliseStageDecisions(ctx, db, stageWindowCloses.Add(-time.Second)); err != nil || n != 0 {
			t.Errorf("finalised before the close: %d %v", n, err)
		}
		if v, _ := models.VerifyName(ctx, db, model, day("2026-01-05")); !v.Valid {
			t.Errorf("kakao's name before the close: %+v", v)
		}
		// At the close, concurrently: exactly once.
		clock.Set(stageWindowCloses)
		var wg sync.WaitGroup
		total := 0
		var mu sync.Mutex
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := models.FinaliseStageDecisions(ctx, db, stageWindowCloses)
				if err != nil {
					t.Errorf("finalise: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 || countAudit(t, db, "stage.final", "") != 1 {
			t.Errorf("finalised %d times, audit %d", total, countAudit(t, db, "stage.final", ""))
		}
		revoked := countAudit(t, db, "naming.revoke", "")
		if revoked != 2 || countAudit(t, db, "agreement.standing_end", "") != 1 {
			t.Errorf("naming.revoke %d, standing_end %d", revoked, countAudit(t, db, "agreement.standing_end", ""))
		}
		if n, _ := models.FinaliseStageDecisions(ctx, db, stageWindowCloses.Add(time.Hour)); n != 0 || countAudit(t, db, "naming.revoke", "") != revoked {
			t.Errorf("finalised again")
		}
		if v, _ := models.VerifyName(ctx, db, model, day("2025-12-26")); !v.Valid {
			t.Errorf("kakao's name the day before: %+v", v)
		}
		v, _ := models.VerifyName(ctx, db, model, day("2025-12-27"))
		if v.Valid || v.Grant == nil || !strings.Contains(v.Grant.RevocationReason, "탈락") {
			t.Errorf("kakao's name from the effective day: %+v", v)
		}
		got, _ := models.GetAgreement(ctx, db, w.agr["kakao"].ID)
		if got.TerminatedOn != "2025-12-27" || got.State(day("2025-12-27")) != models.AgreementTerminated {
			t.Errorf("kakao's agreement: %q %s", got.TerminatedOn, got.State(day("2025-12-27")))
		}
		if up, _ := models.GetAgreement(ctx, db, w.agr["upstage"].ID); up.TerminatedOn != "" {
			t.Errorf("upstage's agreement terminated")
		}
		chainOK(t, db)
	})
}

// TestStageUpheldAppealStopsCascade: an appeal pending at the close holds
// the cascade; upheld, it stops it (the decision is under re-review and a
// corrected decision can be published); dismissed, the decision becomes
// final from the dismissal.
func TestStageUpheldAppealStopsCascade(t *testing.T) {
	t.Parallel()
	for _, outcome := range []models.AppealAction{models.AppealUphold, models.AppealDismiss} {
		t.Run(string(outcome), func(t *testing.T) {
			t.Parallel()
			clock := testdb.NewClock(seedAt)
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				ctx := t.Context()
				w := newStageWorld(t, db, clock)
				d := w.decided()
				a, _, err := models.FileAppeal(ctx, db, appealIn(d, "stage"), nil, w.company("kakao"), 14, stagePublish.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				clock.Set(stageWindowCloses.Add(time.Hour))
				if n, _ := models.FinaliseStageDecisions(ctx, db, stageWindowCloses.Add(time.Hour)); n != 0 {
					t.Errorf("%s: finalised with an appeal pending", outcome)
				}
				decideAt := kst(2026, 1, 5, 15, 0, 0)
				if err := models.DecideAppeal(ctx, db, a.ID, models.AppealStartReview, "", w.officer, decideAt); err != nil {
					t.Fatal(err)
				}
				if err := models.DecideAppeal(ctx, db, a.ID, outcome, "평가 절차 검토 결과", w.officer, decideAt); err != nil {
					t.Fatal(err)
				}
				clock.Set(decideAt.Add(time.Hour))
				n, err := models.FinaliseStageDecisions(ctx, db, decideAt.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				model := fmt.Sprint("Model of ", w.org("kakao").ID)
				switch outcome {
				case models.AppealUphold:
					if n != 0 || countAudit(t, db, "naming.revoke", "") != 0 {
						t.Errorf("upheld: finalised %d", n)
					}
					if v, _ := models.VerifyName(ctx, db, model, day("2026-02-01")); !v.Valid {
						t.Errorf("upheld: kakao's name ended")
					}
					// The corrected decision replaces it (and is final in its turn).
					d2, errs, err := models.PublishStageDecision(ctx, db, models.StageDecisionInput{StageID: w.stage.ID, NoticeKO: "정정 공고",
						NoticeEN: "Corrected", CountingRule: models.RuleCivil}, w.officer, decideAt.Add(time.Hour))
					if err != nil || d2.SupersedesID == nil || *d2.SupersedesID != d.ID {
						t.Errorf("corrected decision: %+v %v %v", d2, err, errs)
					}
				default:
					if n != 1 {
						t.Errorf("dismissed: finalised %d", n)
					}
					// Final from the dismissal (15:00 on 01-05): the names end from 01-06.
					if v, _ := models.VerifyName(ctx, db, model, day("2026-01-05")); !v.Valid {
						t.Errorf("dismissed: the name on the day of the dismissal")
					}
					if v, _ := models.VerifyName(ctx, db, model, day("2026-01-06")); v.Valid {
						t.Errorf("dismissed: the name the day after")
					}
				}
			})
		})
	}
}

// TestStageFinalLocksAgreementsBeforeAudit: on PostgreSQL, finalising a
// stage decision locks the eliminated teams' agreements before it takes
// the allocation lock or the audit lock. A signer of such an agreement
// holds its row while it waits for the allocation lock, so the other order
// can deadlock. The signer is stood for by a transaction holding the row.
func TestStageFinalLocksAgreementsBeforeAudit(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	db := testdb.Open(t, testdb.Postgres, clock.Now)
	ctx := t.Context()
	w := newStageWorld(t, db, clock)
	w.decided()
	clock.Set(stageWindowCloses)

	var n int
	err := holdRowThenStep(t, db, "SELECT id FROM agreements WHERE organisation_id = ?", []any{w.org("kakao").ID},
		map[string]int{"audit": models.AuditLockKey, "allocation": models.AllocLockKey},
		func() (err error) { n, err = models.FinaliseStageDecisions(ctx, db, stageWindowCloses); return err })
	if err != nil || n != 1 {
		t.Errorf("finalised %d (%v), want 1", n, err)
	}
	chainOK(t, db)
}
