package models_test

import (
	"testing"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestAssignmentDueDay: a review assignment is due on the day the officer
// names, or by default 14 days after the call closes (a working day); a
// past or malformed day is refused and assigns nobody.
func TestAssignmentDueDay(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		up := w.submit(w.call, "upstage", inWindow)
		r0, r1, r2 := w.reviewer(0), w.reviewer(1), w.reviewer(2)

		wantErr(t, "a past day", models.AssignReviewerDue(ctx, db, up.ID, r1.ID, "2025-07-21", w.officer, reviewAt), models.ErrInvalidDue)
		wantErr(t, "not a day", models.AssignReviewerDue(ctx, db, up.ID, r1.ID, "next week", w.officer, reviewAt), models.ErrInvalidDue)
		if n := len(w.assignmentsOf(up.ID)); n != 0 {
			t.Fatalf("%d assignments after refusals, want none", n)
		}
		mustDo(t, models.AssignReviewer(ctx, db, up.ID, r0.ID, w.officer, reviewAt))
		mustDo(t, models.AssignReviewerDue(ctx, db, up.ID, r1.ID, "2025-07-22", w.officer, reviewAt)) // today
		mustDo(t, models.AssignReviewerDue(ctx, db, up.ID, r2.ID, "2025-07-31", w.officer, reviewAt))
		got := map[uint]string{}
		for _, a := range w.assignmentsOf(up.ID) {
			got[a.ReviewerID] = a.DueOn
		}
		want := map[uint]string{r0.ID: "2025-08-04", r1.ID: "2025-07-22", r2.ID: "2025-07-31"}
		for id, d := range want {
			if got[id] != d {
				t.Errorf("reviewer %d due %q, want %q", id, got[id], d)
			}
		}
	})
}

func (w *world) assignmentsOf(appID uint) []models.ReviewAssignment {
	w.t.Helper()
	as, err := models.ListAssignments(w.t.Context(), w.db, appID)
	if err != nil {
		w.t.Fatal(err)
	}
	return as
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
