package demo_test

import (
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestSeedStages: on top of the whole demo, the first stage is complete
// (opinions answered, set frozen, results imported, NC AI eliminated and
// the decision final, its agreement, names and allocation ended) and the
// second is in its opinion period now; seeding again changes nothing.
func TestSeedStages(t *testing.T) {
	t.Parallel()
	for _, now := range []time.Time{gpuNow, time.Date(2027, 3, 2, 9, 0, 0, 0, models.KST)} {
		t.Run(now.Format("2006-01-02"), func(t *testing.T) {
			t.Parallel()
			seedStagesAt(t, now)
		})
	}
}

func seedStagesAt(t *testing.T, gpuNow time.Time) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []func() error{
			func() error { return demo.Seed(ctx, db, gpuNow) },
			func() error { return demo.SeedApplications(ctx, db, files, gpuNow) },
			func() error { return demo.SeedAgreements(ctx, db, files, gpuNow) },
			func() error { return demo.SeedConsortia(ctx, db, gpuNow) },
			func() error { return demo.SeedGPUs(ctx, db, gpuNow) },
			func() error { return demo.SeedUsageReports(ctx, db, gpuNow) },
			func() error { return demo.SeedAdditionalCall(ctx, db, files, gpuNow) },
			func() error {
				return db.Create(&models.User{Issuer: models.DemoIssuer, Subject: "stage-test-reviewer", Name: "평가위원",
					Role: models.RoleReviewer, ProviderRole: models.RoleReviewer}).Error
			},
			func() error { return demo.SeedStages(ctx, db, files, gpuNow) },
			func() error { return demo.SeedStages(ctx, db, files, gpuNow) }, // idempotent
		} {
			if err := seed(); err != nil {
				t.Fatal(err)
			}
		}
		stages, err := models.ListStages(ctx, db)
		if err != nil || len(stages) != 2 {
			t.Fatalf("stages %d, %v", len(stages), err)
		}
		s1, s2 := stages[0], stages[1]
		if !s1.Frozen() || s1.DecisionID == nil {
			t.Fatalf("stage 1: %+v", s1)
		}
		if s1.FinalAt == nil {
			// Early in a month the decision becomes final later this month.
			if gpuNow.Day() > 3 {
				t.Errorf("stage 1 not final on %s", gpuNow)
			}
			gpuNow = gpuNow.AddDate(0, 0, 3)
			if n, err := models.FinaliseStageDecisions(ctx, db, gpuNow); err != nil || n != 1 {
				t.Fatalf("finalise later: %d %v", n, err)
			}
			stages, _ = models.ListStages(ctx, db)
			s1 = stages[0]
		}
		if s1.Phase(gpuNow) != "final" {
			t.Errorf("stage 1: %s", s1.Phase(gpuNow))
		}
		if ops, _ := models.ListOpinions(ctx, db, s1.ID, &models.User{Role: models.RoleOfficer}); len(ops) != 2 || ops[0].AnsweredAt == nil {
			t.Errorf("stage 1 opinions: %+v", ops)
		}
		d, err := models.GetDecision(ctx, db, *s1.DecisionID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range d.Entries {
			if !e.Selected {
				out = append(out, e.NameEN)
			}
		}
		ncai, err := models.GetOrganisationByCode(ctx, db, "nc-ai")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Entries) != 5 || len(out) != 1 || d.Entries[4].OrganisationID != ncai.ID {
			t.Errorf("stage 1 decision: eliminated %v, entries %d", out, len(d.Entries))
		}
		a, err := models.TeamAgreement(ctx, db, ncai.ID)
		if err != nil || a.TerminatedOn == "" || a.State(models.DateOf(gpuNow)) != models.AgreementTerminated {
			t.Errorf("NC AI's agreement: %+v %v", a, err)
		}
		grants, _ := models.ListGrants(ctx, db)
		for _, g := range grants {
			if g.HolderID == ncai.ID && (g.RevokedAt == nil || !strings.Contains(g.RevocationReason, "탈락")) {
				t.Errorf("NC AI's grant %d not ended: %+v", g.ID, g)
			}
		}
		var allocs []models.Allocation
		db.Where("organisation_id = ?", ncai.ID).Find(&allocs)
		for _, al := range allocs {
			if !al.OwnGPUs && !al.Ended() {
				t.Errorf("NC AI's allocation %d not ended", al.ID)
			}
		}
		// It ended in the month of now: in force for the month the usage reports tell.
		for _, al := range allocs {
			today := models.DateOf(gpuNow)
			if lastReported := models.NewDate(today.Year, today.Month, 1).AddDays(-1).String(); !al.OwnGPUs && al.PeriodTo < lastReported {
				t.Errorf("NC AI's allocation ends %s, before the reported month is over", al.PeriodTo)
			}
		}
		if teams, _ := models.AgreementTeams(ctx, db); len(teams) != 4 {
			t.Errorf("teams in force %d, want 4", len(teams))
		}
		if !s2.OpinionsOpen(gpuNow) || s2.Frozen() || len(s2.Criteria) < 4 || models.WeightTotal(s2.Criteria) != 100 {
			t.Errorf("stage 2: open %v, %d criteria, weights %g", s2.OpinionsOpen(gpuNow), len(s2.Criteria), models.WeightTotal(s2.Criteria))
		}
		for _, s := range []models.Stage{s1, s2} {
			evs, _ := models.ListStageEvaluators(ctx, db, s.ID)
			if len(evs) == 0 || evs[len(evs)-1].User.Role != models.RoleReviewer {
				t.Errorf("stage %d: the demo's external evaluator is not assigned", s.Number)
			}
		}
		if check := verify(t, db); check.BrokenID != 0 {
			t.Errorf("audit chain: %+v", check)
		}
	})
}
