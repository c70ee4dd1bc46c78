package demo_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

func TestSeedGPUs(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		// Without selected teams there is nothing to seed.
		if err := demo.Seed(ctx, db, gpuNow); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedGPUs(ctx, db, gpuNow); err != nil {
			t.Fatal(err)
		}
		if cs, _ := models.ListClusters(ctx, db); len(cs) != 0 {
			t.Fatalf("%d clusters without selected teams", len(cs))
		}
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedApplications(ctx, db, files, gpuNow); err != nil {
			t.Fatal(err)
		}
		// Selected, but without agreements: no GPUs either.
		if err := demo.SeedGPUs(ctx, db, gpuNow); err != nil {
			t.Fatal(err)
		}
		if cs, _ := models.ListClusters(ctx, db); len(cs) != 0 {
			t.Fatalf("%d clusters for teams without agreements", len(cs))
		}
		if err := demo.SeedAgreements(ctx, db, files, gpuNow); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			if err := demo.SeedGPUs(ctx, db, gpuNow); err != nil {
				t.Fatal(err)
			}
		}
		cs, _ := models.ListClusters(ctx, db)
		as, _ := models.ListAllocations(ctx, db, nil)
		if len(cs) != 5 || len(as) != 5 {
			t.Fatalf("%d clusters and %d allocations, want one each per selected team", len(cs), len(as))
		}
		teams := map[string]bool{}
		for _, a := range as {
			teams[a.Organisation.Code] = true
			if a.Named < demo.GPUsPerTeam*9/10 || a.Named > demo.GPUsPerTeam || a.BlockKind != models.BlockCustom || a.OwnGPUs {
				t.Errorf("allocation of %s: %d GPUs named, block %s", a.Organisation.Code, a.Named, a.BlockKind)
			}
			u, err := models.AllocationUsage(ctx, db, a.ID, gpuNow.Add(-24*time.Hour), gpuNow, gpuNow)
			if err != nil {
				t.Fatal(err)
			}
			if u.Coverage() < 0.5 || u.MeanUtil() <= 0 || u.EnergyKWh() <= 0 {
				t.Errorf("demo telemetry of %s: coverage %.2f, util %.1f, %.1f kWh", a.Organisation.Code, u.Coverage(), u.MeanUtil(), u.EnergyKWh())
			}
		}
		for _, code := range []string{"naver-cloud", "upstage", "sk-telecom", "nc-ai", "lg-ai-research"} {
			if !teams[code] {
				t.Errorf("no demo allocation for %s", code)
			}
		}
	})
}
