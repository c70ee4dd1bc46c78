package handlers

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestDemoAppealRightAway: a new user of the demo, signed in as the demo
// KAIST user, finds among the published decisions one whose appeal window
// is open on the day the demo was loaded and files an appeal against it
// through the pages, on an ordinary Friday after the 2025 story and on the
// last second before the 2026 Seollal weekend.
func TestDemoAppealRightAway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		now   time.Time
		story bool // the 2025 story is seeded too
	}{
		{"after the 2025 story", testStart, true},
		{"before the Seollal weekend", time.Date(2026, 2, 13, 23, 59, 59, 0, models.KST), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
				app := newTestApp(t, kind, nil)
				app.clock.Set(tc.now)
				ctx := t.Context()
				if tc.story {
					if err := demo.SeedApplications(ctx, app.db, app.h.files, app.clock.Now()); err != nil {
						t.Fatal(err)
					}
				}
				if err := demo.SeedAdditionalCall(ctx, app.db, app.h.files, app.clock.Now()); err != nil {
					t.Fatal(err)
				}
				c := app.client()
				c.signInDemo("demo-company-kaist")

				// The decisions list, then each decision: exactly one offers to appeal.
				list := wantPage(t, "decisions", c.get("/decisions"), http.StatusOK)
				var appealable []string
				rows := list.Find(`[data-testid="decision-row"]`)
				if want := map[bool]int{true: 2, false: 1}[tc.story]; rows.Length() != want {
					t.Fatalf("decisions listed: %d, want %d", rows.Length(), want)
				}
				for i := range rows.Length() {
					id, _ := rows.Eq(i).Attr("data-decision")
					doc := wantPage(t, "decision "+id, c.get("/decisions/"+id), http.StatusOK)
					if doc.Find(`[data-testid="appeal-link"]`).Length() == 1 {
						appealable = append(appealable, id)
					}
				}
				if len(appealable) != 1 {
					t.Fatalf("decisions KAIST may appeal now: %v, want exactly one", appealable)
				}
				d, err := models.GetDecision(ctx, app.db, mustID(t, appealable[0]))
				if err != nil {
					t.Fatal(err)
				}
				f := &aplFixture{story: storyOf(t, app), t: t, decision: d}
				id := f.fileAs(c, "데모: 평가 절차에 하자가 있었습니다.")
				a := f.appeal(id)
				if a.DecisionID != d.ID || a.Status != models.AppealReceived {
					t.Errorf("appeal %+v, want received against decision %d", a, d.ID)
				}
				wantPage(t, "the receipt", c.get("/appeals/"+itoa(id)+"?filed=1"), http.StatusOK)
			})
		})
	}
}

func mustID(t *testing.T, s string) uint {
	t.Helper()
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return uint(id)
}
