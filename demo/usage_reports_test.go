package demo_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestSeedUsageReports: the demo has, for October 2026, a report in each
// outcome and one returned and resubmitted; seeding again changes nothing.
func TestSeedUsageReports(t *testing.T) {
	t.Parallel()
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
			func() error { return demo.SeedGPUs(ctx, db, gpuNow) },
			func() error { return demo.SeedUsageReports(ctx, db, gpuNow) },
			func() error { return demo.SeedUsageReports(ctx, db, gpuNow) }, // idempotent
		} {
			if err := seed(); err != nil {
				t.Fatal(err)
			}
		}
		var rs []models.UsageReport
		if err := db.Preload("Organisation").Order("id").Find(&rs).Error; err != nil {
			t.Fatal(err)
		}
		got := map[string]models.UsageReport{}
		for _, r := range rs {
			got[r.Organisation.Code] = r
			if r.Month != "2026-10" {
				t.Errorf("%s reports %s, want 2026-10", r.Organisation.Code, r.Month)
			}
		}
		for code, want := range map[string][2]string{
			"naver-cloud":    {models.ReportSubmitted, models.OutcomeVerified},
			"upstage":        {models.ReportSubmitted, models.OutcomeVerified},
			"sk-telecom":     {models.ReportSubmitted, models.OutcomeDiscrepancy},
			"nc-ai":          {models.ReportSubmitted, models.OutcomeInsufficient},
			"lg-ai-research": {models.ReportDraft, ""},
		} {
			r, ok := got[code]
			if !ok || r.State != want[0] || r.Outcome != want[1] {
				t.Errorf("%s: %+v, want %v", code, r, want)
			}
		}
		if len(rs) != 5 {
			t.Errorf("%d reports, want 5", len(rs))
		}
		events, vs, err := models.ReportHistory(ctx, db, got["upstage"].ID)
		if err != nil || len(events) != 3 || events[1].Action != models.ReportActionReturn || len(vs) != 2 {
			t.Errorf("upstage's history: %+v, %d verifications, %v", events, len(vs), err)
		}
		var ls []models.InvoiceLine
		if err := db.Find(&ls).Error; err != nil || len(ls) != 1 || ls[0].Outcome != models.OutcomeDiscrepancy ||
			ls[0].OrganisationID != got["naver-cloud"].OrganisationID || ls[0].Month != "2026-10" {
			t.Errorf("invoice lines %+v %v, want naver-cloud's October with a discrepancy", ls, err)
		}
		if c := verify(t, db); !c.OK() {
			t.Errorf("audit chain broken at %d", c.BrokenID)
		}
	})
}
