package models_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestExtraHolidayInEffect(t *testing.T) {
	t.Parallel()
	added, removed := kst(2025, 8, 10, 10, 0, 0), kst(2025, 8, 20, 10, 0, 0)
	standing := models.ExtraHoliday{Date: "2025-08-14", AddedAt: added}
	gone := models.ExtraHoliday{Date: "2025-08-14", AddedAt: added, RemovedAt: &removed}
	cases := []struct {
		name string
		h    models.ExtraHoliday
		at   time.Time
		want bool
	}{
		// It stands from just after the instant it was added...
		{"before it was added", standing, added.Add(-time.Second), false},
		{"at the instant it was added", standing, added, false},
		{"a nanosecond later", standing, added.Add(time.Nanosecond), true},
		{"years later, never removed", standing, kst(2030, 1, 1, 0, 0, 0), true},
		// ...up to and including the instant it was removed.
		{"just before removal", gone, removed.Add(-time.Second), true},
		{"at the instant of removal", gone, removed, true},
		{"a nanosecond after removal", gone, removed.Add(time.Nanosecond), false},
		{"the same instant given in UTC", gone, removed.UTC(), true},
	}
	for _, tc := range cases {
		if got := tc.h.InEffect(tc.at); got != tc.want {
			t.Errorf("%s: InEffect = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHolidaysAt(t *testing.T) {
	t.Parallel()
	t1, t2, t3 := kst(2025, 8, 1, 9, 0, 0), kst(2025, 8, 10, 9, 0, 0), kst(2025, 8, 20, 9, 0, 0)
	extras := []models.ExtraHoliday{
		{Date: "2025-08-14", NameKO: "임시공휴일", AddedAt: t1},
		{Date: "2025-10-10", NameKO: "임시공휴일 2", AddedAt: t1, RemovedAt: &t2},
		{Date: "2025-12-26", NameKO: "연말 휴일", AddedAt: t2},
		{Date: "not a date", NameKO: "깨진 행", AddedAt: t1},
	}
	cases := []struct {
		at   time.Time
		want map[models.Date]string
	}{
		{t1, map[models.Date]string{}},
		{t1.Add(time.Second), map[models.Date]string{models.NewDate(2025, 8, 14): "임시공휴일", models.NewDate(2025, 10, 10): "임시공휴일 2"}},
		{t2, map[models.Date]string{models.NewDate(2025, 8, 14): "임시공휴일", models.NewDate(2025, 10, 10): "임시공휴일 2"}},
		{t3, map[models.Date]string{models.NewDate(2025, 8, 14): "임시공휴일", models.NewDate(2025, 12, 26): "연말 휴일"}},
	}
	for _, tc := range cases {
		got := models.HolidaysAt(extras, tc.at)
		if len(got) != len(tc.want) {
			t.Errorf("at %v: %v, want %v", tc.at, got, tc.want)
			continue
		}
		for d, name := range tc.want {
			if got[d] != name {
				t.Errorf("at %v: %s = %q, want %q", tc.at, d, got[d], name)
			}
		}
	}
}

// TestAppealWindowAsOf: a decision published at publishAt (Monday
// 2025-08-04 10:00 KST), civil rule, 10 days. Without extra holidays day 10
// is Thursday 08-14 and the window closes at appealCloses (08-15 00:00).
// With a one-off holiday on 08-14 the last day rolls over 08-14 (extra),
// 08-15 (광복절, Friday), 08-16 (Saturday), 08-17 (Sunday) to Monday
// 08-18: the window closes at 2025-08-19 00:00 KST.
func TestAppealWindowAsOf(t *testing.T) {
	t.Parallel()
	moved := kst(2025, 8, 19, 0, 0, 0)
	holiday := func(added time.Time, removed *time.Time) []models.ExtraHoliday {
		return []models.ExtraHoliday{{Date: "2025-08-14", NameKO: "임시공휴일", AddedAt: added, RemovedAt: removed}}
	}
	cases := []struct {
		name    string
		extras  []models.ExtraHoliday
		now     time.Time
		closes  time.Time
		lastDay models.Date
		open    bool
	}{
		{"no extra holiday, open", nil, kst(2025, 8, 10, 0, 0, 0), appealCloses, models.NewDate(2025, 8, 14), true},
		{"no extra holiday, closed", nil, kst(2025, 8, 20, 0, 0, 0), appealCloses, models.NewDate(2025, 8, 14), false},
		// (a) Added while the window is open: it moves.
		{"(a) added 08-10, seen 08-12", holiday(kst(2025, 8, 10, 10, 0, 0), nil), kst(2025, 8, 12, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), true},
		{"(a) added 08-10, seen after the first close", holiday(kst(2025, 8, 10, 10, 0, 0), nil), kst(2025, 8, 16, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), true},
		{"(a) added 08-10, seen long after", holiday(kst(2025, 8, 10, 10, 0, 0), nil), kst(2025, 9, 30, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), false},
		{"(a) added in the last second of the last day", holiday(appealCloses.Add(-time.Second), nil), kst(2025, 8, 16, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), true},
		{"(a) not yet added at the instant asked", holiday(kst(2025, 8, 10, 10, 0, 0), nil), kst(2025, 8, 10, 10, 0, 0),
			appealCloses, models.NewDate(2025, 8, 14), true},
		// (b) Added once the window had closed: it stays closed.
		{"(b) added at the closing instant", holiday(appealCloses, nil), kst(2025, 8, 16, 10, 0, 0),
			appealCloses, models.NewDate(2025, 8, 14), false},
		{"(b) added 08-16, seen 08-17", holiday(kst(2025, 8, 16, 10, 0, 0), nil), kst(2025, 8, 17, 10, 0, 0),
			appealCloses, models.NewDate(2025, 8, 14), false},
		{"(b) added 08-16, seen 08-25", holiday(kst(2025, 8, 16, 10, 0, 0), nil), kst(2025, 8, 25, 10, 0, 0),
			appealCloses, models.NewDate(2025, 8, 14), false},
		{"(b) added 08-25, seen 08-26", holiday(kst(2025, 8, 25, 10, 0, 0), nil), kst(2025, 8, 26, 10, 0, 0),
			appealCloses, models.NewDate(2025, 8, 14), false},
		// (c) Removed after the moved window closed: it still counts.
		{"(c) added 08-10, removed 08-20", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(kst(2025, 8, 20, 10, 0, 0))), kst(2025, 8, 25, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), false},
		{"(c) removed at the moved close", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(moved)), kst(2025, 8, 25, 10, 0, 0),
			moved, models.NewDate(2025, 8, 18), false},
		// (d) Removed while the window was open: it does not count.
		{"(d) added 08-10, removed 08-12, seen 08-13", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(kst(2025, 8, 12, 10, 0, 0))),
			kst(2025, 8, 13, 10, 0, 0), appealCloses, models.NewDate(2025, 8, 14), true},
		{"(d) added 08-10, removed 08-12, seen 08-25", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(kst(2025, 8, 12, 10, 0, 0))),
			kst(2025, 8, 25, 10, 0, 0), appealCloses, models.NewDate(2025, 8, 14), false},
		// Removed on 08-17, when the moved window (to 08-19) was still open:
		// from then on the window is the unmoved one, which had ended.
		{"(d) removed 08-17 while the moved window was open", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(kst(2025, 8, 17, 10, 0, 0))),
			kst(2025, 8, 25, 10, 0, 0), appealCloses, models.NewDate(2025, 8, 14), false},
		{"(d) ... and seen before the removal", holiday(kst(2025, 8, 10, 10, 0, 0), ptr(kst(2025, 8, 17, 10, 0, 0))),
			kst(2025, 8, 17, 9, 0, 0), moved, models.NewDate(2025, 8, 18), true},
		// A holiday elsewhere does not matter.
		{"a holiday on another date", []models.ExtraHoliday{{Date: "2025-08-13", NameKO: "다른 날", AddedAt: kst(2025, 8, 5, 0, 0, 0)}},
			kst(2025, 8, 12, 0, 0, 0), appealCloses, models.NewDate(2025, 8, 14), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := models.AppealWindowAsOf(publishAt, models.AppealDays, models.RuleCivil, models.KoreanHolidays, tc.extras, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Closes.Equal(tc.closes) || w.LastDay != tc.lastDay || w.Nominal != models.NewDate(2025, 8, 14) ||
				!w.Opens.Equal(publishAt) || w.IsOpen(tc.now) != tc.open {
				t.Errorf("window %+v (open at now: %v); want closing %v, last day %s, open %v", w, w.IsOpen(tc.now), tc.closes, tc.lastDay, tc.open)
			}
		})
	}
}

func TestExtraHolidayStore(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		at := kst(2025, 8, 10, 10, 0, 0)

		for _, bad := range []struct{ date, ko, en string }{
			{"2025/08/14", "휴일", "Holiday"}, {"2025-02-30", "휴일", "Holiday"}, {"", "휴일", "Holiday"},
			{"2025-08-14", " ", "Holiday"}, {"2025-08-14", "휴일", ""},
		} {
			_, err := models.AddExtraHoliday(ctx, db, bad.date, bad.ko, bad.en, w.admin, at)
			wantErr(t, "add "+bad.date+"/"+bad.ko+"/"+bad.en, err, models.ErrInvalid)
		}
		// A date the lists already give (광복절) is refused, by the check
		// the form uses and by the store.
		if errs, err := models.CheckExtraHoliday(ctx, db, "2025-08-15", "휴일", "Holiday", at); err != nil || errs["date"] != "holiday.error.builtin" {
			t.Errorf("CheckExtraHoliday(2025-08-15) = %v, %v; want holiday.error.builtin", errs, err)
		}
		_, err := models.AddExtraHoliday(ctx, db, "2025-08-15", "휴일", "Holiday", w.admin, at)
		wantErr(t, "add a built-in holiday", err, models.ErrInvalid)
		h, err := models.AddExtraHoliday(ctx, db, " 2025-08-14 ", " 임시공휴일 ", "Temporary holiday", w.admin, at)
		if err != nil || h.Date != "2025-08-14" || h.NameKO != "임시공휴일" || !h.AddedAt.Equal(at) || h.AddedByID != w.admin.ID {
			t.Fatalf("AddExtraHoliday = %+v, %v", h, err)
		}
		_, err = models.AddExtraHoliday(ctx, db, "2025-08-14", "또", "Again", w.admin, at.Add(time.Minute))
		wantErr(t, "the same date twice", err, models.ErrConflict)
		if n := countAudit(t, db, "holiday.add", "2025-08-14"); n != 1 {
			t.Errorf("holiday.add rows = %d, want 1", n)
		}

		// The stored holiday moves an open window (case a, through the store).
		d := &models.Decision{PublishedAt: publishAt, CountingRule: models.RuleCivil}
		win, err := models.DecisionWindow(ctx, db, d, kst(2025, 8, 12, 0, 0, 0))
		if err != nil || !win.Closes.Equal(kst(2025, 8, 19, 0, 0, 0)) {
			t.Errorf("window with the holiday: %+v, %v; want closing 2025-08-19 00:00 KST", win, err)
		}
		// (e) A notice's own closing instant ignores every holiday.
		explicit := kst(2025, 8, 14, 18, 0, 0)
		d.ExplicitClose = &explicit
		win, err = models.DecisionWindow(ctx, db, d, kst(2025, 8, 12, 0, 0, 0))
		if err != nil || !win.Closes.Equal(explicit) || !win.Explicit || win.LastDay != models.NewDate(2025, 8, 14) {
			t.Errorf("explicit window: %+v, %v; want closing %v", win, err, explicit)
		}
		d.ExplicitClose = nil

		// Removal keeps the row; twice is refused.
		removeAt := kst(2025, 8, 12, 10, 0, 0)
		wantErr(t, "remove", models.RemoveExtraHoliday(ctx, db, h.ID, w.admin, removeAt), nil)
		wantErr(t, "remove twice", models.RemoveExtraHoliday(ctx, db, h.ID, w.admin, removeAt.Add(time.Minute)), models.ErrInvalidTransition)
		wantErr(t, "remove nothing", models.RemoveExtraHoliday(ctx, db, h.ID+100, w.admin, removeAt), models.ErrNotFound)
		list, err := models.ListExtraHolidays(ctx, db)
		if err != nil || len(list) != 1 || list[0].RemovedAt == nil || !list[0].RemovedAt.Equal(removeAt) ||
			list[0].RemovedByID == nil || *list[0].RemovedByID != w.admin.ID {
			t.Errorf("after removal: %+v, %v; want the row kept with its removal", list, err)
		}
		if n := countAudit(t, db, "holiday.remove", "2025-08-14"); n != 1 {
			t.Errorf("holiday.remove rows = %d, want 1", n)
		}
		// (d) Removed before the close: the window is back to 08-15.
		win, err = models.DecisionWindow(ctx, db, d, kst(2025, 8, 25, 0, 0, 0))
		if err != nil || !win.Closes.Equal(appealCloses) {
			t.Errorf("window after the removal: %+v, %v; want closing %v", win, err, appealCloses)
		}
		// The date may be listed again once removed.
		h2, err := models.AddExtraHoliday(ctx, db, "2025-08-14", "임시공휴일", "Temporary holiday", w.admin, removeAt.Add(time.Hour))
		if err != nil {
			t.Fatalf("re-adding a removed date: %v", err)
		}
		list, _ = models.ListExtraHolidays(ctx, db)
		if len(list) != 2 || list[0].ID != h.ID || list[1].ID != h2.ID {
			t.Errorf("ListExtraHolidays = %+v, want both rows by date then id", list)
		}
		chainOK(t, db)
	})
}
