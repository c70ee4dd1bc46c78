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

// TestSeedAgreements: the five teams' agreements are in force from
// 2025-08-08, their K-AI names rest on them, and each stands somewhere
// else in its life: an amendment awaiting Upstage's own signer (the demo
// company user), one awaiting the ministry, one awaiting a member, a
// draft, a notification.
func TestSeedAgreements(t *testing.T) {
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
		if err := demo.SeedAgreements(ctx, db, files, clock.Now()); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("before the demo decision: %v, want ErrNotFound", err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedAgreements(ctx, db, files, time.Date(2025, 8, 4, 12, 0, 0, 0, models.KST)); err == nil {
			t.Error("seeding with a clock before the agreements: no error")
		}
		for range 2 { // idempotent
			if err := demo.SeedAgreements(ctx, db, files, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		as, err := models.ListAgreements(ctx, db, nil)
		if err != nil || len(as) != 5 {
			t.Fatalf("%d agreements, %v; want 5", len(as), err)
		}
		today := models.DateOf(clock.Now())
		want := map[string]struct {
			pending models.VersionStatus
			missing []string // roles still to sign
		}{
			"upstage":        {models.VersionOut, []string{models.SignerLead, models.SignerMinistry}},
			"sk-telecom":     {models.VersionOut, []string{models.SignerMinistry}},
			"nc-ai":          {models.VersionOut, []string{models.SignerMember, models.SignerMember, models.SignerMinistry}},
			"lg-ai-research": {models.VersionDraft, nil},
			"naver-cloud":    {"", nil},
		}
		for i := range as {
			a := &as[i]
			w, ok := want[a.Organisation.Code]
			if !ok {
				t.Errorf("agreement for %s", a.Organisation.Code)
				continue
			}
			if a.State(today) != models.AgreementEffective || a.InForce() == nil || a.InForce().EffectiveFrom != demo.DemoAgreementStart {
				t.Errorf("%s: %s, in force %+v", a.Organisation.Code, a.State(today), a.InForce())
			}
			if a.PendingStatus() != w.pending {
				t.Errorf("%s: pending %q, want %q", a.Organisation.Code, a.PendingStatus(), w.pending)
			}
			if p := a.Pending(); p != nil && p.Status == models.VersionOut {
				var roles []string
				for _, m := range p.Missing() {
					roles = append(roles, m.Role)
				}
				if len(roles) != len(w.missing) {
					t.Errorf("%s: still to sign %v, want %v", a.Organisation.Code, roles, w.missing)
				}
			}
		}
		if ns, _ := models.ListNotices(ctx, db, as[0].ID); as[0].Organisation.Code == "naver-cloud" && len(ns) != 1 {
			t.Errorf("naver-cloud's notices: %+v", ns)
		}
		// The demo company user is Upstage's authorised signer.
		var u models.User
		if err := db.Where("issuer = ? AND subject = ?", models.DemoIssuer, "demo-company-upstage").First(&u).Error; err != nil {
			t.Fatal(err)
		}
		if ok, err := models.IsSigner(ctx, db, &u); !ok || err != nil {
			t.Errorf("the demo company user signs for Upstage: %v %v", ok, err)
		}

		// The names rest on the agreements: 10 grants, from the agreements' start.
		gs, err := models.ListGrants(ctx, db)
		if err != nil || len(gs) != 10 {
			t.Fatalf("%d grants, %v; want 10", len(gs), err)
		}
		for _, g := range gs {
			if g.AgreementID == nil || g.ValidFrom != demo.DemoAgreementStart || g.ValidTo != demo.DemoAgreementEnd(clock.Now()) {
				t.Errorf("grant %+v", g)
			}
		}
		day := models.NewDate(2025, 8, 8)
		for _, c := range []struct {
			name  string
			on    models.Date
			valid bool
		}{
			{"업스테이지", day, true},
			{"Upstage", day.AddDays(400), true},
			{"solar pro", day, true},
			{"Solar Pro", day.AddDays(-1), false},
			{"Solar Pro 2", today, false}, // in the amendment awaiting signatures
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
