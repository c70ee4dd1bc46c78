package models_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// kasiXML2027 is KASI's special-day answer as served (getRestDeInfo,
// solYear=2027), trimmed to a few items, with an item marked not a holiday.
const kasiXML2027 = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<response><header><resultCode>00</resultCode><resultMsg>NORMAL SERVICE.</resultMsg></header><body><items>
<item><dateKind>01</dateKind><dateName>1월1일</dateName><isHoliday>Y</isHoliday><locdate>20270101</locdate><seq>1</seq></item>
<item><dateKind>01</dateKind><dateName>제헌절</dateName><isHoliday>Y</isHoliday><locdate>20270717</locdate><seq>1</seq></item>
<item><dateKind>01</dateKind><dateName>대체공휴일</dateName><isHoliday>Y</isHoliday><locdate>20270719</locdate><seq>1</seq></item>
<item><dateKind>01</dateKind><dateName>어린이날</dateName><isHoliday>Y</isHoliday><locdate>20270505</locdate><seq>1</seq></item>
<item><dateKind>02</dateKind><dateName>식목일</dateName><isHoliday>N</isHoliday><locdate>20270405</locdate><seq>1</seq></item>
<item><dateKind>01</dateKind><dateName>신정</dateName><isHoliday>Y</isHoliday><locdate>20280101</locdate><seq>1</seq></item>
</items><numOfRows>100</numOfRows><pageNo>1</pageNo><totalCount>6</totalCount></body></response>`

func TestParseHolidayFile(t *testing.T) {
	t.Parallel()
	type day struct{ date, ko, en string }
	cases := []struct {
		name    string
		data    string
		year    int
		format  string
		want    []day
		ignored int
		errID   string // message ID of the refusal; "" when accepted
		errLine int
	}{
		{name: "KASI XML", data: kasiXML2027, year: 2027, format: models.HolidayFormatKASIXML,
			want: []day{{"2027-01-01", "1월1일", "New Year's Day"}, {"2027-05-05", "어린이날", "Children's Day"},
				{"2027-07-17", "제헌절", "Constitution Day"}, {"2027-07-19", "대체공휴일", "Substitute holiday"}},
			ignored: 2},
		{name: "KASI JSON, array, two holidays on one date", year: 2025, format: models.HolidayFormatKASIJSON,
			data: `{"response":{"header":{"resultCode":"00","resultMsg":"NORMAL SERVICE."},"body":{"items":{"item":[
				{"dateKind":"01","dateName":"어린이날","isHoliday":"Y","locdate":20250505,"seq":1},
				{"dateKind":"01","dateName":"부처님오신날","isHoliday":"Y","locdate":20250505,"seq":2},
				{"dateKind":"01","dateName":"대체공휴일","isHoliday":"Y","locdate":20250506,"seq":1}]},
				"numOfRows":10,"pageNo":1,"totalCount":3}}}`,
			want: []day{{"2025-05-05", "어린이날·부처님오신날", "Children's Day · Buddha's Birthday"},
				{"2025-05-06", "대체공휴일", "Substitute holiday"}}},
		{name: "KASI JSON, a single item is an object", year: 2026, format: models.HolidayFormatKASIJSON,
			data: `{"response":{"header":{"resultCode":"00","resultMsg":"NORMAL SERVICE."},"body":{"items":{"item":
				{"dateKind":"01","dateName":"노동절","isHoliday":"Y","locdate":20260501,"seq":1}},"totalCount":1}}}`,
			want: []day{{"2026-05-01", "노동절", "Labour Day"}}},
		{name: "KASI JSON, no items", year: 2026,
			data:  `{"response":{"header":{"resultCode":"00"},"body":{"items":"","totalCount":0}}}`,
			errID: "holidays.import.error.no_days"},
		{name: "KASI error answer", year: 2026,
			data:  `<response><header><resultCode>30</resultCode><resultMsg>SERVICE KEY IS NOT REGISTERED ERROR.</resultMsg></header></response>`,
			errID: "holidays.import.error.source"},
		{name: "KASI page 1 of 2", year: 2027,
			data:  strings.Replace(kasiXML2027, "<totalCount>6</totalCount>", "<totalCount>19</totalCount>", 1),
			errID: "holidays.import.error.partial"},
		{name: "KASI bad date", year: 2027,
			data:  strings.Replace(kasiXML2027, "20270717", "2027717", 1),
			errID: "holidays.import.error.date", errLine: 2},
		{name: "iCalendar with folded lines and a three-day event", year: 2027, format: models.HolidayFormatICal,
			data: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270206\r\nDTEND;VALUE=DATE:20270209\r\n" +
				"SUMMARY;LANGUAGE=ko:설\r\n 날\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20270815T000000\r\nSUMMARY:광복절\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			want: []day{{"2027-02-06", "설날", "Seollal (Lunar New Year)"}, {"2027-02-07", "설날", "Seollal (Lunar New Year)"},
				{"2027-02-08", "설날", "Seollal (Lunar New Year)"}, {"2027-08-15", "광복절", "Liberation Day"}}},
		{name: "iCalendar recurring event refused", year: 2027,
			data:  "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nRRULE:FREQ=YEARLY\nSUMMARY:신정\nEND:VEVENT\nEND:VCALENDAR\n",
			errID: "holidays.import.error.recurring", errLine: 4},
		{name: "CSV with BOM, header and English names", year: 2027, format: models.HolidayFormatCSV,
			data: "\xef\xbb\xbfdate,name_ko,name_en\n2027-01-01,신정,New Year's Day\n2027.03.01,삼일절,\n20271225,기독탄신일,Christmas\n2026-12-25,기독탄신일,\n",
			want: []day{{"2027-01-01", "신정", "New Year's Day"}, {"2027-03-01", "삼일절", "Independence Movement Day"},
				{"2027-12-25", "기독탄신일", "Christmas"}},
			ignored: 1},
		{name: "CSV bad date on line 3", year: 2027,
			data:  "date,name\n2027-01-01,신정\n2027-02-30,없는 날\n",
			errID: "holidays.import.error.date", errLine: 3},
		{name: "CSV without a name", year: 2027, data: "2027-01-01\n", errID: "holidays.import.error.name", errLine: 1},
		{name: "CSV of another year only", year: 2027, data: "2026-01-01,신정\n", errID: "holidays.import.error.no_days"},
		{name: "empty", year: 2027, data: "", errID: "holidays.import.error.empty"},
		{name: "not UTF-8", year: 2027, data: "2027-01-01,\xbd\xc5\xc1\xa4\n", errID: "holidays.import.error.encoding"},
		{name: "NUL byte", year: 2027, data: "2027-01-01,신\x00정\n", errID: "holidays.import.error.encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := models.ParseHolidayFile([]byte(tc.data), tc.year)
			if tc.errID != "" {
				var fe *models.HolidayFileError
				if !errors.As(err, &fe) || fe.MessageID != tc.errID || fe.Line != tc.errLine || !errors.Is(err, models.ErrInvalid) {
					t.Fatalf("err = %v; want %s at line %d (an ErrInvalid)", err, tc.errID, tc.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Format != tc.format || got.Ignored != tc.ignored || got.Year != tc.year {
				t.Errorf("format %s, ignored %d, year %d; want %s, %d, %d", got.Format, got.Ignored, got.Year, tc.format, tc.ignored, tc.year)
			}
			var gotDays []day
			for _, h := range got.Days {
				gotDays = append(gotDays, day{h.Date.String(), h.Name, h.NameEN})
			}
			if fmt.Sprint(gotDays) != fmt.Sprint(tc.want) {
				t.Errorf("days\n got  %v\n want %v", gotDays, tc.want)
			}
		})
	}
}

// TestBuiltinVersionChangeMovesOnlyOpenWindows: 제헌절 2026 (a Friday) came
// with built-in version 2026.1. A decision announced Tuesday 2026-07-07 10:00
// (civil rule) has day 10 on 07-17: under 2024.1 it closes 07-18 00:00;
// under 2026.1 the last day rolls over 07-17 (제헌절), 07-18 and 07-19 to
// Monday 07-20, closing 07-21 00:00. Whether the version change moves it
// depends on whether the window was still open when the version took effect.
func TestBuiltinVersionChangeMovesOnlyOpenWindows(t *testing.T) {
	t.Parallel()
	announced := kst(2026, 7, 7, 10, 0, 0)
	oldClose, newClose := kst(2026, 7, 18, 0, 0, 0), kst(2026, 7, 21, 0, 0, 0)
	cases := []struct {
		name      string
		effective time.Time // when 2026.1 took effect
		now       time.Time
		closes    time.Time
		moved     bool
	}{
		{"version in effect before the announcement", kst(2026, 5, 1, 0, 0, 0), kst(2026, 7, 10, 0, 0, 0), newClose, false},
		{"version takes effect while the window is open", kst(2026, 7, 15, 9, 0, 0), kst(2026, 7, 16, 0, 0, 0), newClose, true},
		{"... seen before it took effect", kst(2026, 7, 15, 9, 0, 0), kst(2026, 7, 15, 8, 0, 0), oldClose, false},
		{"version takes effect the instant the window closes", oldClose, kst(2026, 12, 1, 0, 0, 0), oldClose, false},
		{"version takes effect after the window closed", kst(2026, 12, 1, 9, 0, 0), kst(2026, 12, 2, 0, 0, 0), oldClose, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := models.HolidayRecords{Builtins: []models.BuiltinHolidayRecord{
				{Version: "2024.1"}, {Version: "2026.1", InEffectFrom: tc.effective}}}
			w, moves, err := r.WindowAsOf(announced, models.AppealDays, models.RuleCivil, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Closes.Equal(tc.closes) {
				t.Errorf("closes %v, want %v", w.Closes, tc.closes)
			}
			if tc.moved != (len(moves) == 1) {
				t.Fatalf("moves %+v, want moved=%v", moves, tc.moved)
			}
			if tc.moved {
				m := moves[0]
				if !m.At.Equal(tc.effective) || !m.From.Equal(oldClose) || !m.To.Equal(newClose) ||
					m.Cause.Kind != models.ChangeBuiltin || m.Cause.Version != "2026.1" {
					t.Errorf("move %+v", m)
				}
			}
			if len(w.Sources) != 1 || w.Sources[0].Year != 2026 || w.Sources[0].Builtin == "" {
				t.Errorf("sources %+v, want the built-in table for 2026", w.Sources)
			}
		})
	}
}

// listCSV writes year's built-in holidays as CSV, without the dates in
// drop, with the dates in rename renamed and with the dates in add added.
func listCSV(year int, drop []string, rename, add map[string]string) string {
	var b strings.Builder
	b.WriteString("date,name_ko\n")
	for _, h := range models.KoreanHolidays.Year(year) {
		d := h.Date.String()
		if strings.Contains(strings.Join(drop, " "), d) {
			continue
		}
		name := h.Name
		if n, ok := rename[d]; ok {
			name = n
		}
		fmt.Fprintf(&b, "%s,%s\n", d, name)
	}
	for d, n := range add {
		fmt.Fprintf(&b, "%s,%s\n", d, n)
	}
	return b.String()
}

// TestHolidayListImportConfirm: an imported 2025 list that adds 08-14 and
// 08-18, drops 12-25 and renames 01-01 is shown as that difference; while
// pending it moves nothing; confirmed on 2025-08-16 it moves the window of
// a decision still open then (published 08-08, closing 08-19 → 08-20) and
// not the one that had closed (published 08-04, closed 08-15 00:00, whose
// last day 08-14 the list now calls a holiday).
func TestHolidayListImportConfirm(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		closed, _ := w.decide(w.call, standardApplicants, publishAt, nil)
		call2 := w.newCall("두 번째 공모", 5)
		open, _ := w.decide(call2, standardApplicants, kst(2025, 8, 8, 10, 0, 0), nil)
		openClose := kst(2025, 8, 19, 0, 0, 0)

		importAt := kst(2025, 8, 16, 9, 0, 0)
		data := listCSV(2025, []string{"2025-12-25"}, map[string]string{"2025-01-01": "1월1일"},
			map[string]string{"2025-08-14": "임시공휴일", "2025-08-18": "임시공휴일(가상)"})
		_, err := models.ImportHolidayList(ctx, db, 2025, "../2025.csv", []byte("date\n2025-01-01\n"), w.admin, importAt)
		wantErr(t, "a list without names", err, models.ErrInvalid)
		l, err := models.ImportHolidayList(ctx, db, 2025, "../2025.csv", []byte(data), w.admin, importAt)
		if err != nil {
			t.Fatal(err)
		}
		if l.FileName != "2025.csv" || l.Format != models.HolidayFormatCSV || !l.Pending() || len(l.SHA256) != 64 {
			t.Errorf("imported %+v", l)
		}

		confirmAt := kst(2025, 8, 16, 10, 0, 0)
		p, err := models.PreviewHolidayList(ctx, db, l.ID, confirmAt)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		for _, r := range p.Rows {
			if r.Status != models.DiffSame {
				status[r.Date.String()] = r.Status
			}
		}
		wantStatus := map[string]string{"2025-08-14": models.DiffAdded, "2025-08-18": models.DiffAdded,
			"2025-12-25": models.DiffRemoved, "2025-01-01": models.DiffRenamed}
		if fmt.Sprint(status) != fmt.Sprint(wantStatus) || p.Changed != 4 {
			t.Errorf("difference %v (changed %d), want %v", status, p.Changed, wantStatus)
		}
		if p.Source.Builtin != models.BuiltinHolidayVersion {
			t.Errorf("source before confirming %+v, want the built-in table", p.Source)
		}
		if len(p.Moves) != 1 || p.Moves[0].DecisionID != open.ID || !p.Moves[0].From.Equal(openClose) ||
			!p.Moves[0].To.Equal(kst(2025, 8, 20, 0, 0, 0)) {
			t.Errorf("preview moves %+v, want decision %d 08-19 → 08-20", p.Moves, open.ID)
		}
		// Pending, it counts for nothing.
		if win, err := models.DecisionWindow(ctx, db, open, confirmAt); err != nil || !win.Closes.Equal(openClose) {
			t.Errorf("window while the list is pending %v, %v", win.Closes, err)
		}

		moves, err := models.ConfirmHolidayList(ctx, db, l.ID, w.admin, confirmAt)
		if err != nil || len(moves) != 1 || moves[0].DecisionID != open.ID {
			t.Fatalf("confirm: %+v, %v", moves, err)
		}
		_, err = models.ConfirmHolidayList(ctx, db, l.ID, w.admin, confirmAt.Add(time.Minute))
		wantErr(t, "confirm twice", err, models.ErrInvalidTransition)
		wantErr(t, "discard a confirmed list", models.DiscardHolidayList(ctx, db, l.ID, w.admin, confirmAt), models.ErrInvalidTransition)

		later := kst(2025, 8, 17, 12, 0, 0)
		win, hist, err := models.DecisionWindowHistory(ctx, db, open, later)
		if err != nil || !win.Closes.Equal(kst(2025, 8, 20, 0, 0, 0)) || win.LastDay != models.NewDate(2025, 8, 19) {
			t.Errorf("open window after confirming %+v, %v; want closing 2025-08-20 00:00", win, err)
		}
		if len(hist) != 1 || !hist[0].At.Equal(confirmAt) || hist[0].Cause.Kind != models.ChangeList ||
			hist[0].Cause.ListID != l.ID || !hist[0].From.Equal(openClose) {
			t.Errorf("history %+v", hist)
		}
		if len(win.Sources) != 1 || win.Sources[0].ListID != l.ID || !win.Sources[0].ConfirmedAt.Equal(confirmAt) {
			t.Errorf("sources %+v, want the confirmed list", win.Sources)
		}
		win, hist, err = models.DecisionWindowHistory(ctx, db, closed, later)
		if err != nil || !win.Closes.Equal(appealCloses) || len(hist) != 0 {
			t.Errorf("closed window after confirming %+v, %v, %v; want it unmoved at %v", win.Closes, hist, err, appealCloses)
		}
		if n := countAudit(t, db, "holiday.list.confirm", fmt.Sprint(l.ID)); n != 1 {
			t.Errorf("confirm audit rows %d", n)
		}
		var summary string
		db.Model(&models.AuditEntry{}).Where("action = ?", "holiday.list.confirm").Pluck("summary", &summary)
		if !strings.Contains(summary, fmt.Sprintf("decision %d:", open.ID)) || strings.Contains(summary, fmt.Sprintf("decision %d:", closed.ID)) {
			t.Errorf("audit summary %q names the wrong windows", summary)
		}

		// A second list for the year replaces the first; a discarded one never counts.
		l2, err := models.ImportHolidayList(ctx, db, 2025, "2025-b.csv", []byte(listCSV(2025, nil, nil, nil)), w.admin, later)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "discard", models.DiscardHolidayList(ctx, db, l2.ID, w.admin, later), nil)
		if win, err := models.DecisionWindow(ctx, db, open, later.Add(time.Hour)); err != nil || !win.Closes.Equal(kst(2025, 8, 20, 0, 0, 0)) {
			t.Errorf("a discarded list moved the window: %v, %v", win.Closes, err)
		}
		chainOK(t, db)
	})
}

// TestImportedListExtendsCoverage: a deadline in a year the built-in table
// does not cover is refused until a list for that year is confirmed.
func TestImportedListExtendsCoverage(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		announced := kst(2030, 12, 28, 10, 0, 0) // day 10 is 2031-01-07
		at := kst(2030, 12, 1, 0, 0, 0)
		r, err := models.LoadHolidayRecords(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.WindowAsOf(announced, models.AppealDays, models.RuleCivil, announced); !errors.Is(err, models.ErrNoHolidayData) {
			t.Fatalf("2031 without a list: %v, want ErrNoHolidayData", err)
		}
		l, err := models.ImportHolidayList(ctx, db, 2031, "2031.csv", []byte("2031-01-01,신정\n2031-01-07,임시공휴일\n"), w.admin, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := models.ConfirmHolidayList(ctx, db, l.ID, w.admin, at); err != nil {
			t.Fatal(err)
		}
		r, _ = models.LoadHolidayRecords(ctx, db)
		win, _, err := r.WindowAsOf(announced, models.AppealDays, models.RuleCivil, announced)
		if err != nil || win.LastDay != models.NewDate(2031, 1, 8) {
			t.Errorf("2031 with the list: %+v, %v; want last day 2031-01-08", win, err)
		}
	})
}
