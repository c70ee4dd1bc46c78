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

// TestSeedAdditionalCallWindowOpen: whatever day the demo is loaded on
// (weekdays, weekends, the eve of a long holiday, midnight, the last
// instant of a year), it holds a published decision whose appeal window,
// as the portal enforces it, is open at that instant and stays open for
// days, with the demo's KAIST user among those not selected; the notice
// states the window's last day; a second seed changes nothing.
func TestSeedAdditionalCallWindowOpen(t *testing.T) {
	t.Parallel()
	kst := func(y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, ns, models.KST)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"a Friday afternoon", kst(2026, 11, 27, 14, 0, 0, 0)},
		{"the eve of the 2025 Chuseok holidays", kst(2025, 10, 2, 18, 0, 0, 0)},
		{"inside the 2025 Chuseok holidays", kst(2025, 10, 7, 11, 0, 0, 0)},
		{"the day after the 2025 Chuseok holidays", kst(2025, 10, 10, 9, 0, 0, 0)},
		{"the last second before the 2026 Seollal weekend", kst(2026, 2, 13, 23, 59, 59, 0)},
		{"midnight after the 2026 Seollal holidays", kst(2026, 2, 19, 0, 0, 0, 0)},
		{"a Sunday", kst(2026, 3, 1, 10, 0, 0, 0)},
		{"a Monday at midnight", kst(2026, 3, 2, 0, 0, 0, 0)},
		{"the last instant of 2025", kst(2025, 12, 31, 23, 59, 59, 999_999_999)},
		{"the day after the 2025 decision", kst(2025, 8, 5, 12, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
				ctx := t.Context()
				now := tc.now
				db := testdb.Open(t, kind, func() time.Time { return now })
				files, err := models.NewFileStore(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if err := demo.Seed(ctx, db, now); err != nil {
					t.Fatal(err)
				}
				if err := demo.SeedAdditionalCall(ctx, db, files, now); err != nil {
					t.Fatalf("seed at %s: %v", now.Format(time.RFC3339Nano), err)
				}
				ds, err := models.ListDecisions(ctx, db)
				if err != nil || len(ds) != 1 {
					t.Fatalf("decisions = %d, %v; want the additional call's", len(ds), err)
				}
				d, err := models.GetDecision(ctx, db, ds[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				if at := demo.AdditionalDecisionAt(now); !d.PublishedAt.Equal(at) || d.PublishedAt.After(now) ||
					now.Sub(d.PublishedAt) > 5*24*time.Hour {
					t.Errorf("published %s (want %s), loaded %s: want a day or a few before", d.PublishedAt.In(models.KST), at.In(models.KST), now)
				}
				w, err := models.DecisionWindow(ctx, db, d, now)
				if err != nil {
					t.Fatal(err)
				}
				if !w.IsOpen(now) || w.Remaining(now) < 5*24*time.Hour {
					t.Errorf("loaded %s: window %s – %s, want open with days left", now, w.Opens, w.Closes)
				}
				if !strings.Contains(d.NoticeKO, w.LastDay.String()+" 24:00") || !strings.Contains(d.NoticeEN, w.LastDay.String()) {
					t.Errorf("the notice does not state the last day %s: %q", w.LastDay, d.NoticeKO)
				}
				kaist, err := models.GetOrganisationByCode(ctx, db, "kaist")
				if err != nil {
					t.Fatal(err)
				}
				if e, ok := d.Entry(kaist.ID); !ok || e.Selected {
					t.Errorf("KAIST entry %+v (found %v), want not selected", e, ok)
				}
				selected := 0
				for _, e := range d.Entries {
					if e.Selected {
						selected++
					}
				}
				if selected != 1 || len(d.Entries) != 4 || !d.VerifyContent() {
					t.Errorf("%d selected of %d ranked (content verifies: %v), want 1 of 4", selected, len(d.Entries), d.VerifyContent())
				}
				call, err := models.GetCall(ctx, db, d.CallID)
				if err != nil {
					t.Fatal(err)
				}
				if !call.IsClosed(d.PublishedAt) || call.Slots != 1 {
					t.Errorf("call %s – %s (%d slots), decision %s", call.OpensAt, call.ClosesAt, call.Slots, d.PublishedAt)
				}
				if check, err := models.VerifyAuditChain(ctx, db); err != nil || !check.OK() {
					t.Errorf("audit chain: %+v, %v", check, err)
				}
				audit := count(t, db, &models.AuditEntry{})
				if err := demo.SeedAdditionalCall(ctx, db, files, now.Add(30*24*time.Hour)); err != nil {
					t.Fatal(err)
				}
				if again := count(t, db, &models.AuditEntry{}); again != audit || count(t, db, &models.Decision{}) != 1 {
					t.Errorf("a second seed wrote %d audit rows and left %d decisions", again-audit, count(t, db, &models.Decision{}))
				}
			})
		})
	}
}

// TestSeedAdditionalCallAfterStory: on top of the 2025 story the
// additional call is a second call with its own decision; the 2025 call and
// its decision are unchanged.
func TestSeedAdditionalCallAfterStory(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedAdditionalCall(ctx, db, files, clock.Now()); err == nil {
			t.Error("before Seed: no error")
		}
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		before := countStory(t, db)
		if err := demo.SeedAdditionalCall(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		after := countStory(t, db)
		if after.apps != before.apps+4 || after.decisions != before.decisions+1 || after.entries != before.entries+4 {
			t.Errorf("counts %+v → %+v, want 4 more applications and one more decision", before, after)
		}
		ds, err := models.ListDecisions(ctx, db)
		if err != nil || len(ds) != 2 {
			t.Fatalf("decisions = %d, %v", len(ds), err)
		}
		first := ds[len(ds)-1]
		if !first.PublishedAt.Equal(demo.DecisionAt) || !first.VerifyContent() {
			t.Errorf("the 2025 decision changed: published %s, verifies %v", first.PublishedAt, first.VerifyContent())
		}

		// The external evaluator sat on the additional call's panel: scored
		// the selected application, recused from KAIST's.
		var ev models.User
		if err := db.Where("issuer = ? AND subject = ?", models.DemoIssuer, demo.DemoEvaluator).First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		as, err := models.AssignmentsOf(ctx, db, ev.ID)
		if err != nil || len(as) != 2 {
			t.Fatalf("the evaluator's assignments: %d, %v; want 2", len(as), err)
		}
		d, err := models.GetDecision(ctx, db, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			app, err := models.GetApplication(ctx, db, a.ApplicationID)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := d.Entry(app.LeadOrgID)
			switch {
			case app.LeadOrg.Code == "kaist":
				if a.Conflict != models.ConflictRecused || len(a.Scores) != 0 {
					t.Errorf("KAIST's application: the evaluator declared %q with %d scores, want a recusal", a.Conflict, len(a.Scores))
				}
			case e.Selected:
				if a.Conflict != models.ConflictNone || len(a.Scores) != 4 {
					t.Errorf("the selected application: the evaluator declared %q with %d scores, want none and 4", a.Conflict, len(a.Scores))
				}
			default:
				t.Errorf("the evaluator reviews %s's application, neither the selected one nor KAIST's", app.LeadOrg.Code)
			}
		}
	})
}
