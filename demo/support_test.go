package demo_test

import (
	"testing"

	"gorm.io/gorm"
	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestSeedSupport: a closed survey whose purchase went to three teams, an
// open survey, a ledger with a refused and an expiring source; a second
// run changes nothing.
func TestSeedSupport(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx, now := t.Context(), clock.Now()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, now); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedApplications(ctx, db, files, now); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedAgreements(ctx, db, files, now); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := demo.SeedSupport(ctx, db, files, now); err != nil {
				t.Fatal(err)
			}
		}
		surveys, err := models.ListSurveys(ctx, db)
		if err != nil || len(surveys) != 2 || !surveys[0].OpenAt(now) || surveys[1].OpenAt(now) {
			t.Fatalf("surveys: %+v %v", surveys, err)
		}
		officer := &models.User{Role: models.RoleOfficer}
		ps, err := models.ListPurchases(ctx, db, surveys[1].ID, officer)
		if err != nil || len(ps) != 1 {
			t.Fatalf("purchases: %+v %v", ps, err)
		}
		delivered := 0
		for _, d := range ps[0].Deliveries {
			if d.Delivered() {
				delivered++
			}
		}
		if delivered != 3 {
			t.Errorf("delivered to %d teams", delivered)
		}
		sources, _ := models.ListSources(ctx, db)
		refused := 0
		for _, s := range sources {
			if s.Status == models.ClearanceRefused {
				refused++
			}
		}
		if refused != 1 || len(models.ExpiriesAhead(sources, now, 90)) != 1 || !sources[0].PublicInstitution {
			t.Errorf("ledger: %+v", sources)
		}
		if n := count(t, db, &models.DatasetProject{}); n != 2 {
			t.Errorf("%d dataset projects", n)
		}
		if n := count(t, db, &models.TalentLine{}); n != 6 {
			t.Errorf("%d talent lines", n)
		}
		if n := count(t, db, &models.FollowUp{}); n != 5 {
			t.Errorf("%d follow-ups", n)
		}
		if check := verify(t, db); check.BrokenID != 0 {
			t.Errorf("audit chain: %+v", check)
		}
	})
}
