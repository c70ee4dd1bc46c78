package models

import (
	"errors"
	"testing"
	"time"
)

// kstTime parses "2006-01-02T15:04:05" (optionally with fractional seconds)
// as KST wall time.
func kstTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, KST)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// alwaysHoliday is a broken calendar that calls every day a holiday.
type alwaysHoliday struct{}

func (alwaysHoliday) IsHoliday(Date) (string, bool) { return "every day", true }

func TestAppealWindow(t *testing.T) {
	t.Parallel()
	// A hypothetical one-off holiday an administrator might add; 2025-08-14
	// was not a holiday.
	extra := WithExtra(KoreanHolidays, HolidaySet{NewDate(2025, 8, 14): "임시공휴일(가상)"})
	losAngeles := time.FixedZone("PDT", -7*60*60)

	tests := []struct {
		name      string
		announced time.Time
		days      int
		rule      CountingRule
		cal       HolidayCalendar
		nominal   string // last day as counted, before §161
		last      string
		closes    string // RFC 3339, must be in KST
	}{
		{
			// BRIEF example. Mon 08-04 10:00: the first day (08-04) is not
			// counted (§157); days 1–10 are 08-05…08-14 (Thu), not a holiday.
			// 광복절 on 08-15 does not matter: the period has ended.
			name: "brief example, civil", announced: kstTime(t, "2025-08-04T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-14", last: "2025-08-14", closes: "2025-08-15T00:00:00+09:00",
		},
		{
			// Same notice, announcement day counted: 08-04 is day 1, day 10 is
			// 08-13 (Wed).
			name: "brief example, announcement day", announced: kstTime(t, "2025-08-04T10:00:00"),
			days: 10, rule: RuleAnnouncementDay, cal: KoreanHolidays,
			nominal: "2025-08-13", last: "2025-08-13", closes: "2025-08-14T00:00:00+09:00",
		},
		{
			// Wed 09-03: days 09-04…09-13; 09-13 is a Saturday, 09-14 a
			// Sunday, so the period ends on Mon 09-15 (§161).
			name: "day 10 on Saturday rolls to Monday, civil", announced: kstTime(t, "2025-09-03T14:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-09-13", last: "2025-09-15", closes: "2025-09-16T00:00:00+09:00",
		},
		{
			// Friday announcement. Counted from the day after, 10 days from a
			// Friday end on a Monday (no roll); with 8 days the last day is
			// Sat 09-13 and rolls to Mon 09-15.
			name: "Friday announcement, 10 days end on Monday", announced: kstTime(t, "2025-09-05T17:30:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-09-15", last: "2025-09-15", closes: "2025-09-16T00:00:00+09:00",
		},
		{
			name: "Friday announcement, day 8 on Saturday rolls to Monday", announced: kstTime(t, "2025-09-05T17:30:00"),
			days: 8, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-09-13", last: "2025-09-15", closes: "2025-09-16T00:00:00+09:00",
		},
		{
			// Announcement-day rule: Thu 09-04 is day 1, day 10 is Sat 09-13
			// → Mon 09-15.
			name: "day 10 on Saturday rolls to Monday, announcement day", announced: kstTime(t, "2025-09-04T09:00:00"),
			days: 10, rule: RuleAnnouncementDay, cal: KoreanHolidays,
			nominal: "2025-09-13", last: "2025-09-15", closes: "2025-09-16T00:00:00+09:00",
		},
		{
			// Thu 09-04: days 09-05…09-14, a Sunday → Mon 09-15.
			name: "last day on Sunday", announced: kstTime(t, "2025-09-04T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-09-14", last: "2025-09-15", closes: "2025-09-16T00:00:00+09:00",
		},
		{
			// Fri 09-26: day 10 is 10-06 (추석). 10-07 추석 다음날, 10-08
			// 대체공휴일 (추석 전날 fell on Sunday 10-05), 10-09 한글날 → Fri 10-10.
			name: "last day on 추석 rolls past 추석, its substitute and 한글날", announced: kstTime(t, "2025-09-26T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-10-06", last: "2025-10-10", closes: "2025-10-11T00:00:00+09:00",
		},
		{
			// Tue 09-23: day 10 is Fri 10-03 (개천절); 10-04 Sat; 10-05…10-07
			// 추석; 10-08 substitute; 10-09 한글날 → Fri 10-10: seven days on.
			name: "last day on 개천절 rolls through the 2025 추석 break", announced: kstTime(t, "2025-09-23T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-10-03", last: "2025-10-10", closes: "2025-10-11T00:00:00+09:00",
		},
		{
			// Mon 2026-09-14: day 10 is Thu 09-24 (추석 전날); 09-25 추석, 09-26
			// (Sat) 추석 다음날, 09-27 Sun → Mon 09-28. No substitute: the
			// Saturday does not give 추석 one.
			name: "2026 추석 ending on a weekend", announced: kstTime(t, "2026-09-14T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2026-09-24", last: "2026-09-28", closes: "2026-09-29T00:00:00+09:00",
		},
		{
			// Fri 2026-02-20: day 10 is Mon 03-02, the substitute for 삼일절
			// (a Sunday in 2026) → Tue 03-03.
			name: "substitute holiday as last day", announced: kstTime(t, "2026-02-20T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2026-03-02", last: "2026-03-03", closes: "2026-03-04T00:00:00+09:00",
		},
		{
			// Fri 2025-04-25: day 10 is Mon 05-05 (어린이날 and 부처님오신날);
			// 05-06 is their one substitute → Wed 05-07.
			name: "어린이날·부처님오신날 and their substitute", announced: kstTime(t, "2025-04-25T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-05-05", last: "2025-05-07", closes: "2025-05-08T00:00:00+09:00",
		},
		{
			// Fri 2025-01-17: day 10 is Mon 01-27 (임시공휴일), then 01-28…01-30
			// 설날 → Fri 01-31.
			name: "temporary holiday then 설날", announced: kstTime(t, "2025-01-17T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-01-27", last: "2025-01-31", closes: "2025-02-01T00:00:00+09:00",
		},
		{
			// Mon 2025-12-22: day 10 is 2026-01-01 (신정, Thu) → Fri 01-02; the
			// window closes in the new year.
			name: "year boundary, civil", announced: kstTime(t, "2025-12-22T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2026-01-01", last: "2026-01-02", closes: "2026-01-03T00:00:00+09:00",
		},
		{
			// Tue 2025-12-23 is day 1, day 10 is 2026-01-01 → Fri 01-02.
			name: "year boundary, announcement day", announced: kstTime(t, "2025-12-23T16:00:00"),
			days: 10, rule: RuleAnnouncementDay, cal: KoreanHolidays,
			nominal: "2026-01-01", last: "2026-01-02", closes: "2026-01-03T00:00:00+09:00",
		},
		{
			// The period starts at exactly 00:00:00, so §157's proviso counts
			// the first day: 08-04…08-13.
			name: "midnight start counts the first day", announced: kstTime(t, "2025-08-04T00:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-13", last: "2025-08-13", closes: "2025-08-14T00:00:00+09:00",
		},
		{
			// One nanosecond later is no longer "from 00:00": 08-05…08-14.
			name: "a nanosecond after midnight does not", announced: kstTime(t, "2025-08-04T00:00:00.000000001"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-14", last: "2025-08-14", closes: "2025-08-15T00:00:00+09:00",
		},
		{
			// 2025-08-03T16:30Z is 08-04 01:30 KST: the announcement day is
			// 08-04, not 08-03, so days 08-05…08-14. Counting in UTC would
			// wrongly give 08-13.
			name: "UTC instant already the next day in KST", announced: time.Date(2025, 8, 3, 16, 30, 0, 0, time.UTC),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-14", last: "2025-08-14", closes: "2025-08-15T00:00:00+09:00",
		},
		{
			// 2025-08-03T15:00Z is exactly 08-04 00:00 KST: the midnight
			// proviso applies although the instant is not midnight in UTC.
			name: "UTC instant at KST midnight", announced: time.Date(2025, 8, 3, 15, 0, 0, 0, time.UTC),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-13", last: "2025-08-13", closes: "2025-08-14T00:00:00+09:00",
		},
		{
			// 2025-08-03 18:00 in Los Angeles (UTC−7) is 08-04 10:00 KST: the
			// brief example again.
			name: "instant in another zone", announced: time.Date(2025, 8, 3, 18, 0, 0, 0, losAngeles),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-14", last: "2025-08-14", closes: "2025-08-15T00:00:00+09:00",
		},
		{
			// The brief example with a one-off holiday added on 08-14: 08-14
			// extra, 08-15 광복절, 08-16 Sat, 08-17 Sun → Mon 08-18.
			name: "extra one-off holiday moves the window", announced: kstTime(t, "2025-08-04T10:00:00"),
			days: 10, rule: RuleCivil, cal: extra,
			nominal: "2025-08-14", last: "2025-08-18", closes: "2025-08-19T00:00:00+09:00",
		},
		{
			// Tue 08-05: day 10 is Fri 08-15 (광복절) → 08-16 Sat, 08-17 Sun →
			// Mon 08-18.
			name: "last day on 광복절", announced: kstTime(t, "2025-08-05T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-15", last: "2025-08-18", closes: "2025-08-19T00:00:00+09:00",
		},
		{
			// The same with no calendar: only weekends roll, so 광복절 is
			// treated as a working day. Documents what nil means.
			name: "nil calendar knows only weekends", announced: kstTime(t, "2025-08-05T10:00:00"),
			days: 10, rule: RuleCivil, cal: nil,
			nominal: "2025-08-15", last: "2025-08-15", closes: "2025-08-16T00:00:00+09:00",
		},
		{
			// Announced in 2023, outside the table, but the last day
			// (2024-01-07, a Sunday → Mon 01-08) is inside it.
			name: "announced before the table, ends inside it", announced: kstTime(t, "2023-12-28T10:00:00"),
			days: 10, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2024-01-07", last: "2024-01-08", closes: "2024-01-09T00:00:00+09:00",
		},
		{
			// A one-day period: announced Mon 10:00, the only day is Tue.
			name: "one day", announced: kstTime(t, "2025-08-04T10:00:00"),
			days: 1, rule: RuleCivil, cal: KoreanHolidays,
			nominal: "2025-08-05", last: "2025-08-05", closes: "2025-08-06T00:00:00+09:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := AppealWindow(tt.announced, tt.days, tt.rule, tt.cal)
			if err != nil {
				t.Fatalf("AppealWindow: %v", err)
			}
			if got := w.Nominal.String(); got != tt.nominal {
				t.Errorf("Nominal = %s, want %s", got, tt.nominal)
			}
			if got := w.LastDay.String(); got != tt.last {
				t.Errorf("LastDay = %s, want %s", got, tt.last)
			}
			if got := w.Closes.Format(time.RFC3339Nano); got != tt.closes {
				t.Errorf("Closes = %s, want %s", got, tt.closes)
			}
			if w.Closes.Location() != KST || w.Opens.Location() != KST {
				t.Errorf("Opens/Closes not in KST: %v, %v", w.Opens.Location(), w.Closes.Location())
			}
			if !w.Opens.Equal(tt.announced) {
				t.Errorf("Opens = %v, want %v", w.Opens, tt.announced)
			}
			if w.Rule != tt.rule || w.Explicit {
				t.Errorf("Rule, Explicit = %q, %v; want %q, false", w.Rule, w.Explicit, tt.rule)
			}
		})
	}
}

func TestAppealWindowErrors(t *testing.T) {
	t.Parallel()
	announced := kstTime(t, "2025-08-04T10:00:00")
	tests := []struct {
		name      string
		announced time.Time
		days      int
		rule      CountingRule
		noData    bool // want ErrNoHolidayData
	}{
		{name: "zero days", announced: announced, days: 0, rule: RuleCivil},
		{name: "negative days", announced: announced, days: -10, rule: RuleCivil},
		{name: "empty rule", announced: announced, days: 10, rule: ""},
		{name: "unknown rule", announced: announced, days: 10, rule: "Civil"},
		{name: "zero announcement", announced: time.Time{}, days: 10, rule: RuleCivil},
		// Sat 2030-12-28: day 10 is 2031-01-07, beyond the table.
		{name: "last day after the table", announced: kstTime(t, "2030-12-28T10:00:00"), days: 10, rule: RuleCivil, noData: true},
		// Fri 2023-12-01: day 10 is Mon 2023-12-11, before the table.
		{name: "last day before the table", announced: kstTime(t, "2023-12-01T10:00:00"), days: 10, rule: RuleCivil, noData: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := AppealWindow(tt.announced, tt.days, tt.rule, KoreanHolidays)
			if err == nil {
				t.Fatalf("AppealWindow = %+v, want an error", w)
			}
			if got := errors.Is(err, ErrNoHolidayData); got != tt.noData {
				t.Errorf("errors.Is(%v, ErrNoHolidayData) = %v, want %v", err, got, tt.noData)
			}
		})
	}

	// A calendar that never yields a working day must fail, not hang.
	if _, err := AppealWindow(announced, 10, RuleCivil, alwaysHoliday{}); err == nil {
		t.Error("AppealWindow with a calendar of only holidays: want an error")
	}

	// The last day of the table still works: Fri 2030-12-20 + 10 = Mon 12-30.
	w, err := AppealWindow(kstTime(t, "2030-12-20T10:00:00"), 10, RuleCivil, KoreanHolidays)
	if err != nil || w.LastDay != NewDate(2030, 12, 30) {
		t.Errorf("window ending 2030-12-30 = %v, %v", w.LastDay, err)
	}
}

func TestAppealWindowIsOpen(t *testing.T) {
	t.Parallel()
	// Brief example: open from 2025-08-04 10:00 KST until, not including,
	// 2025-08-15 00:00 KST.
	w, err := AppealWindow(kstTime(t, "2025-08-04T10:00:00"), 10, RuleCivil, KoreanHolidays)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		open bool
	}{
		{"a second before the announcement", kstTime(t, "2025-08-04T09:59:59"), false},
		{"at the announcement", kstTime(t, "2025-08-04T10:00:00"), true},
		{"during the first, uncounted day", kstTime(t, "2025-08-04T23:00:00"), true},
		{"one second before closing", kstTime(t, "2025-08-14T23:59:59"), true},
		{"one nanosecond before closing", kstTime(t, "2025-08-14T23:59:59.999999999"), true},
		{"at closing", kstTime(t, "2025-08-15T00:00:00"), false},
		{"after closing", kstTime(t, "2025-08-15T09:00:00"), false},
		// 2025-08-14T14:59:59Z is 23:59:59 KST, the last second.
		{"last second given in UTC", time.Date(2025, 8, 14, 14, 59, 59, 0, time.UTC), true},
		// 2025-08-14T15:00:00Z is 08-15 00:00 KST: closed, though still the
		// 14th in UTC.
		{"closing given in UTC", time.Date(2025, 8, 14, 15, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.IsOpen(tt.at); got != tt.open {
				t.Errorf("IsOpen(%s) = %v, want %v", tt.at.Format(time.RFC3339Nano), got, tt.open)
			}
		})
	}

	if got := w.Remaining(kstTime(t, "2025-08-14T23:59:59")); got != time.Second {
		t.Errorf("Remaining one second before closing = %v, want 1s", got)
	}
	if got := w.Remaining(kstTime(t, "2025-08-15T00:00:01")); got != 0 {
		t.Errorf("Remaining after closing = %v, want 0", got)
	}
	if (Window{}).IsOpen(kstTime(t, "2025-08-04T10:00:00")) {
		t.Error("the zero Window is open")
	}
}

func TestAppealWindowUntil(t *testing.T) {
	t.Parallel()
	announced := kstTime(t, "2025-08-04T10:00:00")
	tests := []struct {
		name   string
		closes time.Time
		last   string
		want   string // Closes, RFC 3339
	}{
		{
			// The notice says "until 18:00 on 08-14": that instant, not the
			// end of the day.
			name: "closing at 18:00", closes: kstTime(t, "2025-08-14T18:00:00"),
			last: "2025-08-14", want: "2025-08-14T18:00:00+09:00",
		},
		{
			// Closing at 00:00 of the 15th: the last day is the 14th.
			name: "closing at midnight, given in UTC", closes: time.Date(2025, 8, 14, 15, 0, 0, 0, time.UTC),
			last: "2025-08-14", want: "2025-08-15T00:00:00+09:00",
		},
		{
			// An explicit instant on a Saturday is not moved: the notice
			// governs, §161 applies only to counted periods.
			name: "closing on a Saturday is kept", closes: kstTime(t, "2025-08-16T18:00:00"),
			last: "2025-08-16", want: "2025-08-16T18:00:00+09:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := AppealWindowUntil(announced, tt.closes)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Explicit || w.Rule != "" {
				t.Errorf("Explicit, Rule = %v, %q; want true, empty", w.Explicit, w.Rule)
			}
			if got := w.LastDay.String(); got != tt.last {
				t.Errorf("LastDay = %s, want %s", got, tt.last)
			}
			if got := w.Closes.Format(time.RFC3339); got != tt.want {
				t.Errorf("Closes = %s, want %s", got, tt.want)
			}
			if w.IsOpen(tt.closes) || !w.IsOpen(tt.closes.Add(-time.Second)) {
				t.Error("IsOpen must be true a second before the explicit close and false at it")
			}
		})
	}

	for name, closes := range map[string]time.Time{
		"closing equals announcement": announced,
		"closing before announcement": announced.Add(-time.Hour),
		"zero closing":                {},
	} {
		t.Run(name, func(t *testing.T) {
			if w, err := AppealWindowUntil(announced, closes); err == nil {
				t.Errorf("AppealWindowUntil = %+v, want an error", w)
			}
		})
	}
}

// TestAppealWindowServerZone runs the brief example with the process's local
// zone set to Los Angeles: nothing may depend on it.
func TestAppealWindowServerZone(t *testing.T) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	time.Local = time.FixedZone("PDT", -7*60*60)

	// 2025-08-03 18:00 local (PDT) is 08-04 10:00 KST.
	announced := time.Date(2025, 8, 3, 18, 0, 0, 0, time.Local)
	w, err := AppealWindow(announced, 10, RuleCivil, KoreanHolidays)
	if err != nil {
		t.Fatal(err)
	}
	if w.LastDay != NewDate(2025, 8, 14) {
		t.Errorf("LastDay = %s, want 2025-08-14", w.LastDay)
	}
	if got := w.Closes.Format(time.RFC3339); got != "2025-08-15T00:00:00+09:00" {
		t.Errorf("Closes = %s, want 2025-08-15T00:00:00+09:00", got)
	}
	// In local time the close is 08-14 08:00, still the 14th: IsOpen must
	// compare instants, not local dates.
	if !w.IsOpen(time.Date(2025, 8, 14, 7, 59, 59, 0, time.Local)) || w.IsOpen(time.Date(2025, 8, 14, 8, 0, 0, 0, time.Local)) {
		t.Error("IsOpen depends on the local zone")
	}
	if got := DateOf(announced); got != NewDate(2025, 8, 4) {
		t.Errorf("DateOf = %s, want 2025-08-04", got)
	}
}

func TestAppealWindowParseRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    CountingRule
		wantErr bool
	}{
		{"civil", RuleCivil, false},
		{"announcement-day", RuleAnnouncementDay, false},
		{"", RuleCivil, false}, // unset means the default
		{"Civil", "", true},
		{"announcement_day", "", true},
		{"explicit", "", true},
	}
	for _, tt := range tests {
		got, err := ParseCountingRule(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCountingRule(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestHolidayWorkingDayOnOrAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, want string
	}{
		{"2025-08-14", "2025-08-14"}, // a Thursday is itself
		{"2025-08-15", "2025-08-18"}, // 광복절 (Fri), Sat, Sun
		{"2024-02-09", "2024-02-13"}, // 설날 Fri–Sun, substitute Mon 02-12
		{"2027-10-09", "2027-10-12"}, // 한글날 (Sat), Sun, substitute Mon 10-11
	}
	for _, tt := range tests {
		got, err := WorkingDayOnOrAfter(mustDate(t, tt.from), KoreanHolidays)
		if err != nil || got.String() != tt.want {
			t.Errorf("WorkingDayOnOrAfter(%s) = %s, %v; want %s", tt.from, got, err, tt.want)
		}
	}
	if _, err := WorkingDayOnOrAfter(mustDate(t, "2030-12-31"), KoreanHolidays); err != nil {
		t.Errorf("2030-12-31 (Tue) is covered: %v", err)
	}
	if _, err := WorkingDayOnOrAfter(mustDate(t, "2031-01-01"), KoreanHolidays); !errors.Is(err, ErrNoHolidayData) {
		t.Errorf("2031-01-01: err = %v, want ErrNoHolidayData", err)
	}
	// WithExtra keeps the base's coverage.
	if _, err := WorkingDayOnOrAfter(mustDate(t, "2031-01-01"), WithExtra(KoreanHolidays, nil)); !errors.Is(err, ErrNoHolidayData) {
		t.Errorf("2031-01-01 with extra: err = %v, want ErrNoHolidayData", err)
	}
}

func TestWithExtraHoliday(t *testing.T) {
	t.Parallel()
	cal := WithExtra(KoreanHolidays, HolidaySet{NewDate(2026, 5, 1): "노동절"})
	if name, ok := cal.IsHoliday(NewDate(2026, 5, 1)); !ok || name != "노동절" {
		t.Errorf("extra date = %q, %v; want 노동절", name, ok)
	}
	if name, ok := cal.IsHoliday(NewDate(2026, 5, 5)); !ok || name != "어린이날" {
		t.Errorf("base date = %q, %v; want 어린이날", name, ok)
	}
	if _, ok := cal.IsHoliday(NewDate(2026, 5, 4)); ok {
		t.Error("2026-05-04 is not a holiday")
	}
	if _, ok := WithExtra(nil, HolidaySet{NewDate(2026, 5, 1): "x"}).IsHoliday(NewDate(2026, 5, 1)); !ok {
		t.Error("WithExtra(nil, …) lost the extra date")
	}
}

func TestWindowDate(t *testing.T) {
	t.Parallel()
	d := mustDate(t, "2028-02-28")
	if got := d.AddDays(1).String(); got != "2028-02-29" { // 2028 is a leap year
		t.Errorf("AddDays(1) = %s", got)
	}
	if got := d.AddDays(2).String(); got != "2028-03-01" {
		t.Errorf("AddDays(2) = %s", got)
	}
	if got := NewDate(2025, 12, 32); got != NewDate(2026, 1, 1) {
		t.Errorf("NewDate normalises: got %s", got)
	}
	if got := NewDate(2025, 8, 15).Weekday(); got != time.Friday {
		t.Errorf("2025-08-15 weekday = %v", got)
	}
	if !NewDate(2025, 12, 31).Before(NewDate(2026, 1, 1)) || !NewDate(2026, 2, 1).After(NewDate(2026, 1, 31)) {
		t.Error("Before/After")
	}
	if got := NewDate(2025, 8, 15).Start().Format(time.RFC3339); got != "2025-08-15T00:00:00+09:00" {
		t.Errorf("Start = %s", got)
	}
	b, _ := NewDate(2025, 1, 2).MarshalText()
	var back Date
	if err := back.UnmarshalText(b); err != nil || back != NewDate(2025, 1, 2) || string(b) != "2025-01-02" {
		t.Errorf("text round trip: %s → %v, %v", b, back, err)
	}
	if _, err := ParseDate("2025-02-30"); err == nil {
		t.Error("ParseDate accepted 2025-02-30")
	}
	if !(Date{}).IsZero() || NewDate(2025, 1, 1).IsZero() {
		t.Error("IsZero")
	}
}
