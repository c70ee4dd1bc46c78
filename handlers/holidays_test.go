package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

func holForm(date, ko, en string) url.Values {
	return url.Values{"date": {date}, "name_ko": {ko}, "name_en": {en}}
}

func TestHolidaysPage(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		admin := app.client()
		admin.signInDemo("demo-admin")

		// The built-in table of this year and the next, substitutes marked, the source noted.
		resp := admin.get("/admin/holidays")
		wantCode(t, "GET /admin/holidays", resp, http.StatusOK)
		doc := admin.page(resp)
		for _, y := range []string{"2026", "2027"} {
			table := doc.Find(`[data-testid="builtin-holidays"][data-year="` + y + `"]`)
			if table.Find(`[data-testid="builtin-holiday"]`).Length() < 15 {
				t.Errorf("%s: %d built-in holidays listed", y, table.Find(`[data-testid="builtin-holiday"]`).Length())
			}
			if table.Find(`[data-substitute="true"] [data-testid="substitute"]`).Length() == 0 {
				t.Errorf("%s: no substitute holiday marked", y)
			}
		}
		// 2026-03-02 is the substitute for 삼일절 on a Sunday.
		if doc.Find(`[data-testid="builtin-holiday"][data-date="2026-03-02"][data-substitute="true"]`).Length() != 1 {
			t.Error("2026-03-02 is not marked as a substitute holiday")
		}
		if !strings.Contains(nmText(doc.Find(`[data-testid="holiday-source"]`)), "월력요항") {
			t.Error("the source of the table is not noted")
		}
		if !strings.Contains(nmText(doc.Find(`[data-testid="holiday-rule"]`)), "이미 마감된") {
			t.Error("the page does not say that closed windows do not move")
		}
		if doc.Find(`[data-testid="no-extra-holidays"]`).Length() != 1 {
			t.Error("no one-off holiday yet, but the page does not say so")
		}

		// Add one.
		resp = admin.post("/admin/holidays", holForm(" 2026-12-07 ", "임시공휴일", "Temporary holiday"))
		wantCode(t, "add", resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/admin/holidays?done=added" {
			t.Errorf("redirect to %q", loc)
		}
		if n := auditRows(t, app, "holiday.add", "2026-12-07"); n != 1 {
			t.Errorf("%d holiday.add audit rows, want 1", n)
		}
		doc = admin.page(admin.get("/admin/holidays?done=added"))
		row := doc.Find(`[data-testid="extra-holiday"][data-date="2026-12-07"]`)
		if row.Length() != 1 {
			t.Fatal("the added holiday is not listed")
		}
		if r, _ := row.Attr("data-removed"); r != "false" {
			t.Errorf("data-removed %q", r)
		}
		if got := nmText(row.Find(`[data-testid="extra-added"]`)); !strings.Contains(got, "이시스템") || !strings.Contains(got, "2026-11-27 14:00:00 KST") {
			t.Errorf("added by %q", got)
		}
		if doc.Find(`[data-testid="notice"]`).Length() != 1 {
			t.Error("no notice after adding")
		}

		// The same date again; a malformed date; a built-in holiday; no names.
		for _, c := range []struct {
			form  url.Values
			field string
			want  string // in the field's message
		}{
			{holForm("2026-12-07", "또 다른 휴일", "Another"), "date", "이미 임시공휴일"},
			{holForm("2026-12-32", "임시공휴일", "Temporary holiday"), "date", "YYYY-MM-DD"},
			{holForm("2026-12-25", "성탄절", "Christmas"), "date", "내장된 공휴일"},
			{holForm("2026-12-08", "", " "), "name_ko", "필수"},
		} {
			resp = admin.post("/admin/holidays", c.form)
			wantCode(t, "add "+c.form.Encode(), resp, http.StatusUnprocessableEntity)
			doc = admin.page(resp)
			if got := nmText(doc.Find(`[data-testid="error-` + c.field + `"]`)); !strings.Contains(got, c.want) {
				t.Errorf("add %v: %s error %q, want %q", c.form, c.field, got, c.want)
			}
			form := doc.Find(`[data-testid="holiday-form"]`)
			for _, name := range []string{"date", "name_ko", "name_en"} {
				if v, _ := form.Find(`input[name="` + name + `"]`).Attr("value"); v != c.form.Get(name) {
					t.Errorf("add %v: %s kept as %q", c.form, name, v)
				}
			}
		}
		if n := count(t, app, &models.ExtraHoliday{}, "1 = 1"); n != 1 {
			t.Errorf("%d one-off holidays after refusals, want 1", n)
		}

		// Remove it: the row stays, marked removed; a second removal conflicts.
		hs, err := models.ListExtraHolidays(t.Context(), app.db)
		if err != nil || len(hs) != 1 {
			t.Fatalf("holidays = %d, %v", len(hs), err)
		}
		app.clock.Advance(10 * time.Minute)
		path := "/admin/holidays/" + itoa(hs[0].ID) + "/remove"
		resp = admin.post(path, nil)
		wantCode(t, "remove", resp, http.StatusSeeOther)
		if n := auditRows(t, app, "holiday.remove", "2026-12-07"); n != 1 {
			t.Errorf("%d holiday.remove audit rows, want 1", n)
		}
		doc = admin.page(admin.get("/admin/holidays"))
		row = doc.Find(`[data-testid="extra-holiday"][data-date="2026-12-07"]`)
		if r, _ := row.Attr("data-removed"); r != "true" {
			t.Errorf("after removal data-removed %q", r)
		}
		if row.Find(`[data-testid="remove-form"]`).Length() != 0 {
			t.Error("a removed holiday still offers removal")
		}
		if got := nmText(row.Find(`[data-testid="extra-removed"]`)); !strings.Contains(got, "2026-11-27 14:10:00 KST") {
			t.Errorf("removed %q", got)
		}
		wantCode(t, "remove twice", admin.post(path, nil), http.StatusConflict)
		wantCode(t, "remove a missing holiday", admin.post("/admin/holidays/999999/remove", nil), http.StatusNotFound)
		wantCode(t, "remove holiday abc", admin.post("/admin/holidays/abc/remove", nil), http.StatusNotFound)

		// The date is free again.
		resp = admin.post("/admin/holidays", holForm("2026-12-07", "임시공휴일", "Temporary holiday"))
		wantCode(t, "add again after removal", resp, http.StatusSeeOther)
	})
}

// TestHolidayMovesOnlyOpenWindows: a one-off holiday added on the last day
// of a window that is still open moves its close; one added later on the
// last day of a window that has closed does not.
func TestHolidayMovesOnlyOpenWindows(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind) // the demo decision of 2025-08-04 10:00 KST
		ctx := t.Context()
		kst := models.KST
		window := func(now time.Time) models.Window {
			t.Helper()
			w, err := models.DecisionWindow(ctx, f.app.db, f.decision, now)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}

		// 2025-08-10, inside the window: last day 2025-08-14 (Thu), closing 08-15 00:00.
		f.app.clock.Set(time.Date(2025, 8, 10, 10, 0, 0, 0, kst))
		w := window(f.app.clock.Now())
		if w.LastDay.String() != "2025-08-14" || !w.Closes.Equal(time.Date(2025, 8, 15, 0, 0, 0, 0, kst)) {
			t.Fatalf("before: last day %s, closes %s", w.LastDay, w.Closes)
		}
		admin := f.app.client()
		admin.signInDemo("demo-admin")
		resp := admin.post("/admin/holidays", holForm("2025-08-14", "임시공휴일", "Temporary holiday"))
		wantCode(t, "add on the last day of an open window", resp, http.StatusSeeOther)
		f.app.clock.Advance(time.Minute) // it stands from the instant after it was added
		// 08-14 is now a holiday, 08-15 광복절, 08-16/17 the weekend: Monday 08-18.
		w = window(f.app.clock.Now())
		if w.LastDay.String() != "2025-08-18" || !w.Closes.Equal(time.Date(2025, 8, 19, 0, 0, 0, 0, kst)) {
			t.Errorf("open window after the holiday: last day %s, closes %s; want 2025-08-18, 2025-08-19 00:00 KST", w.LastDay, w.Closes)
		}

		// Back to 2026-11-27: the window closed with the holiday standing and stays moved.
		f.app.clock.Set(testStart)
		w = window(f.app.clock.Now())
		if w.LastDay.String() != "2025-08-18" {
			t.Errorf("closed window read later: last day %s, want 2025-08-18", w.LastDay)
		}

		// A holiday added now on its last day does not move the closed window…
		admin = f.app.client()
		admin.signInDemo("demo-admin")
		resp = admin.post("/admin/holidays", holForm("2025-08-18", "임시공휴일", "Temporary holiday"))
		wantCode(t, "add on the last day of a closed window", resp, http.StatusSeeOther)
		w = window(f.app.clock.Now())
		if w.LastDay.String() != "2025-08-18" || !w.Closes.Equal(time.Date(2025, 8, 19, 0, 0, 0, 0, kst)) {
			t.Errorf("closed window after a later holiday: last day %s, closes %s; want unchanged", w.LastDay, w.Closes)
		}
		// …and neither does removing the one that stood when it closed.
		hs, err := models.ListExtraHolidays(ctx, f.app.db)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if h.Date == "2025-08-14" {
				wantCode(t, "remove", admin.post("/admin/holidays/"+itoa(h.ID)+"/remove", nil), http.StatusSeeOther)
			}
		}
		w = window(f.app.clock.Now())
		if w.LastDay.String() != "2025-08-18" {
			t.Errorf("closed window after removing its holiday: last day %s, want unchanged", w.LastDay)
		}
	})
}

// TestHolidayDoesNotMoveClosedWindow: the demo decision's window closed on
// 2025-08-15 00:00 KST; a holiday added in 2026 on its last day changes nothing.
func TestHolidayDoesNotMoveClosedWindow(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)
		admin := f.app.client()
		admin.signInDemo("demo-admin")
		resp := admin.post("/admin/holidays", holForm("2025-08-14", "임시공휴일", "Temporary holiday"))
		wantCode(t, "add on the last day of a closed window", resp, http.StatusSeeOther)
		w, err := models.DecisionWindow(t.Context(), f.app.db, f.decision, f.app.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if w.LastDay.String() != "2025-08-14" || !w.Closes.Equal(time.Date(2025, 8, 15, 0, 0, 0, 0, models.KST)) {
			t.Errorf("closed window moved: last day %s, closes %s", w.LastDay, w.Closes)
		}
	})
}
