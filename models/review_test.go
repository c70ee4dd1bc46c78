package models_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// rankCriteria: ID 1 weight 50 on a scale of 100, ID 2 weight 30 on 50, ID 3
// weight 20 on 10. A criterion's points are weight × mean ÷ scale.
var rankCriteria = []models.Criterion{
	{ID: 1, Position: 1, Weight: 50, MaxScore: 100},
	{ID: 2, Position: 2, Weight: 30, MaxScore: 50},
	{ID: 3, Position: 3, Weight: 20, MaxScore: 10},
}

func sheet(app uint, submitted time.Time, reviewers int, c1, c2, c3 []float64) models.ScoreSheet {
	return models.ScoreSheet{ApplicationID: app, SubmittedAt: submitted, Reviewers: reviewers,
		Scores: map[uint][]float64{1: c1, 2: c2, 3: c3}}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRankApplicationsWeights(t *testing.T) {
	t.Parallel()
	at := kst(2025, 7, 10, 9, 0, 0)
	sheets := []models.ScoreSheet{
		// App 10: c1 mean (80+90)/2 = 85 → 50×85/100 = 42.5; c2 mean 35 → 30×35/50 = 21;
		// c3 mean 8 → 20×8/10 = 16; total 79.5.
		sheet(10, at, 2, []float64{80, 90}, []float64{40, 30}, []float64{7, 9}),
		// App 11: c1 100 → 50; c2 25 → 15; c3 5 → 10; total 75.
		sheet(11, at, 1, []float64{100}, []float64{25}, []float64{5}),
		// App 12: c1 mean 70 → 35; c2 50 → 30; c3 10 → 20; total 85.
		sheet(12, at, 3, []float64{60, 70, 80}, []float64{50, 50, 50}, []float64{10, 10, 10}),
		// App 13: nobody scored it: 0 points, 0 reviewers, last.
		{ApplicationID: 13, SubmittedAt: at, Scores: map[uint][]float64{}},
	}
	want := []struct {
		app        uint
		total      float64
		per        [3]float64
		reviewers  int
		noCriteria bool
	}{
		{12, 85, [3]float64{35, 30, 20}, 3, false},
		{10, 79.5, [3]float64{42.5, 21, 16}, 2, false},
		{11, 75, [3]float64{50, 15, 10}, 1, false},
		{13, 0, [3]float64{}, 0, true},
	}
	got := models.RankApplications(rankCriteria, sheets)
	if len(got) != len(want) {
		t.Fatalf("ranked %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ApplicationID != w.app || g.Rank != i+1 || !near(g.Total, w.total) || g.Reviewers != w.reviewers || g.TieBreak != "" {
			t.Errorf("rank %d: %+v, want app %d, total %v, %d reviewers, no tie-break", i+1, g, w.app, w.total, w.reviewers)
		}
		if w.noCriteria {
			if len(g.PerCriterion) != 0 {
				t.Errorf("app %d: per criterion %v, want none", w.app, g.PerCriterion)
			}
			continue
		}
		for j, p := range w.per {
			if !near(g.PerCriterion[uint(j+1)], p) {
				t.Errorf("app %d criterion %d: %v points, want %v", w.app, j+1, g.PerCriterion[uint(j+1)], p)
			}
		}
	}
	if models.RankApplications(rankCriteria, nil) == nil {
		t.Error("an empty ranking is nil, want an empty list")
	}
}

func TestRankApplicationsTieBreaks(t *testing.T) {
	t.Parallel()
	early, late := kst(2025, 7, 10, 9, 0, 0), kst(2025, 7, 10, 9, 0, 1)
	cases := []struct {
		name     string
		criteria []models.Criterion
		sheets   []models.ScoreSheet
		order    []uint
		tieBreak string // of the second
	}{
		{
			// Both total 50: app 31 has c1 100 → 50 + 0 + 0; app 30 has
			// c1 0, c2 50 → 30, c3 10 → 20. The top criterion (weight 50)
			// puts 31 first although it has the higher number and the
			// later submission.
			name:     "highest-weighted criterion",
			criteria: rankCriteria,
			sheets: []models.ScoreSheet{
				sheet(30, early, 1, []float64{0}, []float64{50}, []float64{10}),
				sheet(31, late, 1, []float64{100}, []float64{0}, []float64{0}),
			},
			order: []uint{31, 30}, tieBreak: "criterion",
		},
		{
			// Same scores; 41 was submitted one second earlier than 40.
			name:     "earlier submission",
			criteria: rankCriteria,
			sheets: []models.ScoreSheet{
				sheet(40, late, 1, []float64{70}, []float64{20}, []float64{5}),
				sheet(41, early, 1, []float64{70}, []float64{20}, []float64{5}),
			},
			order: []uint{41, 40}, tieBreak: "submitted",
		},
		{
			// Same scores, same instant (in different zones): the lower number.
			name:     "lower application number",
			criteria: rankCriteria,
			sheets: []models.ScoreSheet{
				sheet(51, early, 1, []float64{70}, []float64{20}, []float64{5}),
				sheet(50, early.UTC(), 1, []float64{70}, []float64{20}, []float64{5}),
			},
			order: []uint{50, 51}, tieBreak: "number",
		},
		{
			// Two criteria of weight 40: the first by position is "the"
			// top one, whatever the order of the list. 61: c1 100 → 40,
			// c2 0; 60: c1 0, c2 100 → 40; c3 (weight 20) 0 for both.
			// Totals 40 and 40.
			name: "equal weights: the first by position counts",
			criteria: []models.Criterion{
				{ID: 2, Position: 2, Weight: 40, MaxScore: 100},
				{ID: 3, Position: 3, Weight: 20, MaxScore: 100},
				{ID: 1, Position: 1, Weight: 40, MaxScore: 100},
			},
			sheets: []models.ScoreSheet{
				sheet(60, early, 1, []float64{0}, []float64{100}, []float64{0}),
				sheet(61, late, 1, []float64{100}, []float64{0}, []float64{0}),
			},
			order: []uint{61, 60}, tieBreak: "criterion",
		},
		{
			// Different totals are never a tie, whatever the submission.
			name:     "no tie",
			criteria: rankCriteria,
			sheets: []models.ScoreSheet{
				sheet(70, early, 1, []float64{70}, []float64{20}, []float64{5}),
				sheet(71, late, 1, []float64{71}, []float64{20}, []float64{5}),
			},
			order: []uint{71, 70}, tieBreak: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := models.RankApplications(tc.criteria, tc.sheets)
			if len(got) != 2 || got[0].ApplicationID != tc.order[0] || got[1].ApplicationID != tc.order[1] {
				t.Fatalf("order %+v, want %v", got, tc.order)
			}
			if got[0].TieBreak != "" || got[1].TieBreak != tc.tieBreak {
				t.Errorf("tie-breaks %q, %q; want \"\", %q", got[0].TieBreak, got[1].TieBreak, tc.tieBreak)
			}
			if got[0].Rank != 1 || got[1].Rank != 2 {
				t.Errorf("ranks %d, %d", got[0].Rank, got[1].Rank)
			}
		})
	}
	if !strings.Contains(models.TieBreakRule, "highest-weighted criterion") {
		t.Errorf("TieBreakRule %q does not describe the criterion rule", models.TieBreakRule)
	}
}

func TestValidateScores(t *testing.T) {
	t.Parallel()
	criteria := []models.Criterion{{ID: 1, MaxScore: 100}, {ID: 2, MaxScore: 50}}
	ok := func(id uint, v float64) models.ScoreInput {
		return models.ScoreInput{CriterionID: id, Value: v, Comment: "근거"}
	}
	cases := []struct {
		name string
		in   []models.ScoreInput
		want map[string]string
	}{
		{"complete", []models.ScoreInput{ok(1, 80), ok(2, 40)}, map[string]string{}},
		{"bounds 0 and the scale are allowed", []models.ScoreInput{ok(1, 0), ok(2, 50)}, map[string]string{}},
		{"fractions are allowed", []models.ScoreInput{ok(1, 99.5), ok(2, 0.5)}, map[string]string{}},
		{"nothing scored", nil, map[string]string{"score.1": "form.required", "score.2": "form.required"}},
		{"one missing", []models.ScoreInput{ok(1, 80)}, map[string]string{"score.2": "form.required"}},
		{"negative", []models.ScoreInput{ok(1, -1), ok(2, 40)}, map[string]string{"score.1": "review.error.range"}},
		{"above the scale", []models.ScoreInput{ok(1, 80), ok(2, 50.01)}, map[string]string{"score.2": "review.error.range"}},
		{"above a larger scale's own", []models.ScoreInput{ok(1, 100.5), ok(2, 40)}, map[string]string{"score.1": "review.error.range"}},
		{"NaN", []models.ScoreInput{ok(1, math.NaN()), ok(2, 40)}, map[string]string{"score.1": "review.error.range"}},
		{"infinity", []models.ScoreInput{ok(1, math.Inf(1)), ok(2, 40)}, map[string]string{"score.1": "review.error.range"}},
		{"no comment", []models.ScoreInput{ok(1, 80), {CriterionID: 2, Value: 40, Comment: " \n\t"}},
			map[string]string{"score.2": "review.error.comment"}},
		{"unknown criterion", []models.ScoreInput{ok(1, 80), ok(2, 40), ok(99, 1)},
			map[string]string{"scores": "review.error.unknown_criterion"}},
		{"unknown instead of a known one", []models.ScoreInput{ok(1, 80), ok(99, 40)},
			map[string]string{"score.2": "form.required", "scores": "review.error.unknown_criterion"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := models.ValidateScores(criteria, tc.in)
			if len(got) != len(tc.want) {
				t.Errorf("ValidateScores = %v, want %v", got, tc.want)
			}
			for f, id := range tc.want {
				if got[f] != id {
					t.Errorf("%s: %q, want %q", f, got[f], id)
				}
			}
		})
	}
}

func TestReviewStore(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		up := w.submit(w.call, "upstage", inWindow)
		ka := w.submit(w.call, "kaist", inWindow.Add(time.Hour))
		r0, r1, r2, r3 := w.reviewer(0), w.reviewer(1), w.reviewer(2), w.reviewer(3)

		// Assigning needs a closed call, an officer, once.
		wantErr(t, "assign before the close", models.AssignReviewer(ctx, db, up.ID, r0.ID, w.officer, callCloses.Add(-time.Second)),
			models.ErrReviewBeforeClose)
		if s := w.load(up.ID).Status; s != models.StatusSubmitted {
			t.Errorf("status after a refused assignment = %s, want submitted", s)
		}
		wantErr(t, "assign a company user", models.AssignReviewer(ctx, db, up.ID, w.company("kaist").ID, w.officer, reviewAt),
			models.ErrInvalid)
		as0 := w.assignment(up.ID, r0, reviewAt)
		if s := w.load(up.ID).Status; s != models.StatusUnderReview {
			t.Errorf("status after assignment = %s, want under_review", s)
		}
		wantErr(t, "assign twice", models.AssignReviewer(ctx, db, up.ID, r0.ID, w.officer, reviewAt), models.ErrConflict)

		// Scores need a declaration of no conflict, made once, by the reviewer.
		scores := scoreInputs(w.call, [3]float64{80, 40, 8})
		wantErr(t, "score undeclared", models.SaveScores(ctx, db, as0.ID, scores, r0, reviewAt), models.ErrConflictNotStated)
		wantErr(t, "declare for another", models.DeclareConflict(ctx, db, as0.ID, models.ConflictNone, r1, reviewAt), models.ErrNotAssigned)
		wantErr(t, "declare nonsense", models.DeclareConflict(ctx, db, as0.ID, "maybe", r0, reviewAt), models.ErrInvalid)
		wantErr(t, "declare none", models.DeclareConflict(ctx, db, as0.ID, models.ConflictNone, r0, reviewAt), nil)
		wantErr(t, "declare again", models.DeclareConflict(ctx, db, as0.ID, models.ConflictRecused, r0, reviewAt), models.ErrInvalidTransition)
		wantErr(t, "declare none again", models.DeclareConflict(ctx, db, as0.ID, models.ConflictNone, r0, reviewAt), models.ErrInvalidTransition)
		wantErr(t, "score by another", models.SaveScores(ctx, db, as0.ID, scores, r1, reviewAt), models.ErrNotAssigned)
		wantErr(t, "score incomplete", models.SaveScores(ctx, db, as0.ID, scores[:2], r0, reviewAt), models.ErrInvalid)
		wantErr(t, "score", models.SaveScores(ctx, db, as0.ID, scores, r0, reviewAt), nil)
		// Saving again replaces, it does not add rows.
		scores[0].Value = 82
		wantErr(t, "score again", models.SaveScores(ctx, db, as0.ID, scores, r0, reviewAt.Add(time.Minute)), nil)
		if n := countAudit(t, db, "review.conflict", ""); n != 1 {
			t.Errorf("review.conflict rows = %d, want 1", n)
		}

		// A recused reviewer does not score; one who never declared does
		// not either; one missing a criterion counts for nothing. Their
		// rows can only come from outside the store functions, so they
		// are written directly, to show the ranking ignores them.
		as1 := w.assignment(up.ID, r1, reviewAt)
		wantErr(t, "recuse", models.DeclareConflict(ctx, db, as1.ID, models.ConflictRecused, r1, reviewAt), nil)
		wantErr(t, "score recused", models.SaveScores(ctx, db, as1.ID, scores, r1, reviewAt), models.ErrRecused)
		as2 := w.assignment(up.ID, r2, reviewAt)
		as3 := w.assignment(up.ID, r3, reviewAt)
		wantErr(t, "declare none r3", models.DeclareConflict(ctx, db, as3.ID, models.ConflictNone, r3, reviewAt), nil)
		for _, row := range []models.Score{
			{AssignmentID: as1.ID, CriterionID: w.call.Criteria[0].ID, Value: 0, Comment: "x"},
			{AssignmentID: as1.ID, CriterionID: w.call.Criteria[1].ID, Value: 0, Comment: "x"},
			{AssignmentID: as1.ID, CriterionID: w.call.Criteria[2].ID, Value: 0, Comment: "x"},
			{AssignmentID: as2.ID, CriterionID: w.call.Criteria[0].ID, Value: 0, Comment: "x"},
			{AssignmentID: as2.ID, CriterionID: w.call.Criteria[1].ID, Value: 0, Comment: "x"},
			{AssignmentID: as2.ID, CriterionID: w.call.Criteria[2].ID, Value: 0, Comment: "x"},
			{AssignmentID: as3.ID, CriterionID: w.call.Criteria[0].ID, Value: 0, Comment: "x"},
			{AssignmentID: as3.ID, CriterionID: w.call.Criteria[1].ID, Value: 0, Comment: "x"},
		} {
			if err := db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
		}

		// Two reviewers of kaist save at once: both keep their scores.
		ka0, ka1 := w.assignment(ka.ID, r0, reviewAt), w.assignment(ka.ID, r1, reviewAt)
		for _, p := range []struct {
			as  models.ReviewAssignment
			rev *models.User
		}{{ka0, r0}, {ka1, r1}} {
			wantErr(t, "declare none", models.DeclareConflict(ctx, db, p.as.ID, models.ConflictNone, p.rev, reviewAt), nil)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, p := range []struct {
			as  models.ReviewAssignment
			rev *models.User
			v   [3]float64
		}{{ka0, r0, [3]float64{60, 30, 6}}, {ka1, r1, [3]float64{70, 20, 4}}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = models.SaveScores(ctx, db, p.as.ID, scoreInputs(w.call, p.v), p.rev, reviewAt.Add(time.Hour))
			}()
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent saves: %v", err)
		}
		list, err := models.ListAssignments(ctx, db, ka.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, as := range list {
			want := map[uint]float64{ka0.ID: 60, ka1.ID: 70}[as.ID]
			if len(as.Scores) != 3 {
				t.Errorf("assignment %d keeps %d scores, want 3", as.ID, len(as.Scores))
				continue
			}
			for _, s := range as.Scores {
				if s.CriterionID == w.call.Criteria[0].ID && s.Value != want {
					t.Errorf("assignment %d technology = %v, want %v", as.ID, s.Value, want)
				}
			}
		}

		// The score sheets count r0 alone for upstage, r0 and r1 for kaist.
		call, err := models.GetCall(ctx, db, w.call.ID)
		if err != nil {
			t.Fatal(err)
		}
		sheets, err := models.LoadScoreSheets(ctx, db, call)
		if err != nil {
			t.Fatal(err)
		}
		if len(sheets) != 2 {
			t.Fatalf("%d sheets, want 2", len(sheets))
		}
		bySheet := map[uint]models.ScoreSheet{sheets[0].ApplicationID: sheets[0], sheets[1].ApplicationID: sheets[1]}
		su, sk := bySheet[up.ID], bySheet[ka.ID]
		if su.Reviewers != 1 || len(su.Scores[call.Criteria[0].ID]) != 1 || su.Scores[call.Criteria[0].ID][0] != 82 {
			t.Errorf("upstage sheet %+v: want one reviewer (r0) scoring technology 82", su)
		}
		if !su.SubmittedAt.Equal(inWindow) {
			t.Errorf("upstage submitted %v, want %v", su.SubmittedAt, inWindow)
		}
		if sk.Reviewers != 2 {
			t.Errorf("kaist sheet %+v: want two reviewers", sk)
		}
		// upstage: 50×82/100 + 30×40/50 + 20×8/10 = 41 + 24 + 16 = 81.
		// kaist: technology mean 65 → 32.5; commercialisation mean 25 →
		// 15; impact mean 5 → 10; total 57.5.
		ranking := models.RankApplications(call.Criteria, sheets)
		if ranking[0].ApplicationID != up.ID || !near(ranking[0].Total, 81) || ranking[1].ApplicationID != ka.ID || !near(ranking[1].Total, 57.5) {
			t.Errorf("ranking %+v, want upstage 81, kaist 57.5", ranking)
		}
		chainOK(t, db)
	})
}

// TestMayReviewByRole: officers, administrators and external evaluators
// may be assigned reviews; companies and auditors may not.
func TestMayReviewByRole(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		role models.Role
		want bool
	}{
		{models.RoleAnonymous, false},
		{models.RoleReviewer, true},
		{models.RoleCompany, false},
		{models.RoleAuditor, false},
		{models.RoleOfficer, true},
		{models.RoleAdmin, true},
	} {
		u := &models.User{Role: tt.role}
		if got := u.MayReview(); got != tt.want {
			t.Errorf("MayReview() of a %q user = %v, want %v", tt.role, got, tt.want)
		}
		own, ok := u.OrganisationScope()
		if tt.role == models.RoleReviewer && (ok || own != nil || u.MaySeeOrganisation(1)) {
			t.Errorf("an external evaluator may see organisations' data (scope %v, %v)", own, ok)
		}
	}
}

// TestEvaluatorReadsOnlyAssigned: an external evaluator is offered among
// the reviewers, may be assigned, and reads an application only while
// assigned to it and not recused; every other case is ErrNotFound.
func TestEvaluatorReadsOnlyAssigned(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		up := w.submit(w.call, "upstage", inWindow)
		ka := w.submit(w.call, "kaist", inWindow.Add(time.Hour))
		lg := w.submit(w.call, "lg-ai-research", inWindow.Add(2*time.Hour))
		ev := mustUser(t, db, seedAt, "evaluator-1", models.RoleReviewer, nil)
		ev2 := mustUser(t, db, seedAt, "evaluator-2", models.RoleReviewer, nil)

		reviewers, err := models.ListReviewers(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		offered := map[uint]bool{}
		for _, u := range reviewers {
			offered[u.ID] = true
		}
		if !offered[ev.ID] || !offered[w.officer.ID] || offered[w.company("kaist").ID] {
			t.Errorf("reviewers offered %v: want the evaluator and the officer, no company user", offered)
		}

		asUp := w.assignment(up.ID, ev, reviewAt)
		asKa := w.assignment(ka.ID, ev, reviewAt)
		wantErr(t, "recuse", models.DeclareConflict(ctx, db, asKa.ID, models.ConflictRecused, ev, reviewAt), nil)
		wantErr(t, "score recused", models.SaveScores(ctx, db, asKa.ID, scoreInputs(w.call, [3]float64{80, 40, 8}), ev, reviewAt),
			models.ErrRecused)
		w.assignment(lg.ID, w.officer, reviewAt)

		for _, tt := range []struct {
			name string
			app  uint
			user *models.User
			want error
		}{
			{"assigned, undeclared", up.ID, ev, nil},
			{"assigned, recused", ka.ID, ev, models.ErrNotFound},
			{"not assigned", lg.ID, ev, models.ErrNotFound},
			{"another evaluator", up.ID, ev2, models.ErrNotFound},
			{"missing application", 999999, ev, models.ErrNotFound},
			{"an officer (reads through MaySee instead)", lg.ID, w.officer, models.ErrNotFound},
			{"nobody", up.ID, nil, models.ErrNotFound},
		} {
			a, err := models.GetApplicationToReview(ctx, db, tt.app, tt.user)
			if !errors.Is(err, tt.want) || (err == nil && a.ID != tt.app) {
				t.Errorf("%s: %v, %v; want %v", tt.name, a, err, tt.want)
			}
		}
		wantErr(t, "declare none", models.DeclareConflict(ctx, db, asUp.ID, models.ConflictNone, ev, reviewAt), nil)
		if _, err := models.GetApplicationToReview(ctx, db, up.ID, ev); err != nil {
			t.Errorf("assigned, no conflict: %v", err)
		}
	})
}
