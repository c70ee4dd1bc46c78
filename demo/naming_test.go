package demo_test

import (
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

func TestSeedNaming(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedNaming(ctx, db, clock.Now()); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("before the demo decision: %v, want ErrNotFound", err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedNaming(ctx, db, time.Date(2025, 8, 4, 12, 0, 0, 0, models.KST)); err == nil {
			t.Error("seeding with a clock before the grants: no error")
		}
		for range 2 { // idempotent
			if err := demo.SeedNaming(ctx, db, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}

		gs, err := models.ListGrants(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 10 {
			t.Fatalf("%d grants, want 10 (K-AI 기업 and K-AI 모델 for each of 5 teams)", len(gs))
		}
		var n int64
		if err := db.Model(&models.AuditEntry{}).Where("action = ?", "naming.grant").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 10 {
			t.Errorf("%d naming.grant audit rows, want 10", n)
		}
		kinds := map[string]map[models.NamingKind]bool{}
		for _, g := range gs {
			if g.ValidFrom != "2025-08-04" || g.ValidTo != "" || g.RevokedAt != nil || g.DecisionID == nil || g.Basis == "" {
				t.Errorf("grant %d: %+v", g.ID, g)
			}
			if kinds[g.Holder.Code] == nil {
				kinds[g.Holder.Code] = map[models.NamingKind]bool{}
			}
			kinds[g.Holder.Code][g.Kind] = true
		}
		for _, d := range demo.Organisations {
			k := kinds[d.Code]
			if d.Selected != (k[models.NamingCompany] && k[models.NamingModel]) || (!d.Selected && len(k) > 0) {
				t.Errorf("%s (selected %v) holds %v", d.Code, d.Selected, k)
			}
		}

		day := models.NewDate(2025, 8, 4)
		for _, c := range []struct {
			name  string
			on    models.Date
			valid bool
		}{
			{"업스테이지", day, true},
			{"Upstage", day.AddDays(400), true},
			{"solar pro", day, true},
			{"Solar Pro", day.AddDays(-1), false},
			{"EXAONE", day, true},
			{"Kakao", day, false},
		} {
			v, err := models.VerifyName(ctx, db, c.name, c.on)
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid != c.valid {
				t.Errorf("VerifyName(%q, %s) = %v, want %v", c.name, c.on, v.Valid, c.valid)
			}
		}
	})
}
