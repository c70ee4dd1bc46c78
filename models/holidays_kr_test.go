package models

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKoreanHolidaysOfficialLists pins every public holiday of each year; a
// trailing "*" marks a 대체공휴일. 2024–2026 are the lists announced in KASI's
// 월력요항 plus the elections and temporary holidays designated later;
// 2027–2030 are derived by hand from 관공서의 공휴일에 관한 규정 §3 and the
// lunar dates, and agree with the substitutes commonly published for them.
func TestKoreanHolidaysOfficialLists(t *testing.T) {
	t.Parallel()
	want := map[int][]string{
		2024: {
			"01-01",
			"02-09", "02-10", "02-11", "02-12*", // 설날 Fri–Sun; 02-11 is a Sunday
			"03-01",
			"04-10",           // 22nd National Assembly election
			"05-05", "05-06*", // 어린이날 on a Sunday
			"05-15", "06-06", "08-15",
			"09-16", "09-17", "09-18", // 추석 Mon–Wed
			"10-01", // 임시공휴일, 국군의 날
			"10-03", "10-09", "12-25",
		},
		2025: {
			"01-01",
			"01-27",                   // 임시공휴일
			"01-28", "01-29", "01-30", // 설날 Tue–Thu
			"03-01", "03-03*", // 삼일절 on a Saturday (03-02 is a Sunday)
			"05-05", "05-06*", // 어린이날 and 부처님오신날 both on Monday: one substitute
			"06-03", // 21st presidential election
			"06-06", "08-15",
			"10-03",                             // 개천절, a Friday
			"10-05", "10-06", "10-07", "10-08*", // 추석 전날 on a Sunday
			"10-09", "12-25",
		},
		2026: {
			"01-01",
			"02-16", "02-17", "02-18",
			"03-01", "03-02*", // Sunday
			"05-05",
			"05-24", "05-25*", // 부처님오신날 on a Sunday
			"06-03",           // 9th local elections
			"06-06",           // 현충일 on a Saturday: no substitute
			"07-17",           // 제헌절, a public holiday again from 2026 (a Friday)
			"08-15", "08-17*", // Saturday
			"09-24", "09-25", "09-26", // 추석 Thu–Sat: no substitute for a Saturday
			"10-03", "10-05*", // Saturday
			"10-09", "12-25",
		},
		2027: {
			"01-01",
			"02-06", "02-07", "02-08", "02-09*", // 설날 on a Sunday
			"03-01", "05-05", "05-13",
			"06-06",           // Sunday, no substitute
			"07-17", "07-19*", // 제헌절 on a Saturday: substitute on Monday
			"08-15", "08-16*", // Sunday
			"09-14", "09-15", "09-16",
			"10-03", "10-04*", // Sunday
			"10-09", "10-11*", // Saturday
			"12-25", "12-27*", // Saturday
		},
		2028: {
			"01-01", // Saturday, no substitute
			"01-26", "01-27", "01-28",
			"03-01",
			"04-12", // 23rd National Assembly election
			"05-02", "05-05", "06-06",
			"07-17", // Monday
			"08-15",
			"10-02", "10-03", "10-04", "10-05*", // 추석 on 개천절
			"10-09", "12-25",
		},
		2029: {
			"01-01",
			"02-12", "02-13", "02-14",
			"03-01",
			"05-05", "05-07*", // Saturday
			"05-20", "05-21*", // 부처님오신날 on a Sunday
			"06-06",
			"07-17", // Tuesday
			"08-15",
			"09-21", "09-22", "09-23", "09-24*", // 추석 다음날 on a Sunday
			"10-03", "10-09", "12-25",
		},
		2030: {
			"01-01",
			"02-02", "02-03", "02-04", "02-05*", // 설날 on a Sunday
			"03-01",
			"03-27",           // 22nd presidential election, computed (unsure)
			"05-05", "05-06*", // Sunday
			"05-09", "06-06",
			"06-12", // 10th local elections, computed (unsure)
			"07-17", // Wednesday
			"08-15",
			"09-11", "09-12", "09-13",
			"10-03", "10-09", "12-25",
		},
	}
	for year := 2024; year <= 2030; year++ {
		var got []string
		for _, h := range KoreanHolidays.Year(year) {
			s := h.Date.String()[5:]
			if h.Substitute {
				s += "*"
			}
			got = append(got, s)
		}
		if !slices.Equal(got, want[year]) {
			t.Errorf("%d:\n got  %v\n want %v", year, got, want[year])
		}
	}
}

func TestKoreanHolidaysNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date string
		name string // "" means not a holiday
	}{
		{"2025-08-15", "광복절"},
		{"2025-05-05", "어린이날·부처님오신날"},
		{"2028-10-03", "개천절·추석"},
		{"2025-10-05", "추석 전날"},
		{"2025-10-07", "추석 다음날"},
		{"2025-10-08", "대체공휴일(추석)"},
		{"2025-05-06", "대체공휴일(어린이날·부처님오신날)"},
		{"2027-12-27", "대체공휴일(기독탄신일)"},
		{"2025-06-03", "제21대 대통령선거일"},
		{"2025-08-14", ""},
		{"2025-08-17", ""},    // a plain Sunday is not listed; the rule handles it
		{"2026-07-17", "제헌절"}, // a public holiday again from 2026 (see holidays_kr.go)
		{"2027-07-19", "대체공휴일(제헌절)"},
		{"2025-07-17", ""}, // not yet a public holiday in 2025
		{"2026-05-01", ""}, // 노동절 is not a 관공서 공휴일 (see holidays_kr.go)
	}
	for _, tt := range tests {
		name, ok := KoreanHolidays.IsHoliday(mustDate(t, tt.date))
		if name != tt.name || ok != (tt.name != "") {
			t.Errorf("IsHoliday(%s) = %q, %v; want %q", tt.date, name, ok, tt.name)
		}
	}
}

// TestConstitutionDayByVersion pins 제헌절 in both built-in versions, with
// and without substitution, 2026–2030: version 2024.1 never lists it, version
// 2026.1 lists it from 2026 and gives a substitute when it falls on a
// Saturday or a Sunday.
func TestConstitutionDayByVersion(t *testing.T) {
	t.Parallel()
	old, ok := builtinCalendar("2024.1")
	if !ok {
		t.Fatal("version 2024.1 missing")
	}
	cur, ok := builtinCalendar("2026.1")
	if !ok {
		t.Fatal("version 2026.1 missing")
	}
	tests := []struct {
		year       int
		weekday    time.Weekday
		substitute string // "" when none
	}{
		{2026, time.Friday, ""},
		{2027, time.Saturday, "2027-07-19"},
		{2028, time.Monday, ""},
		{2029, time.Tuesday, ""},
		{2030, time.Wednesday, ""},
	}
	for _, tt := range tests {
		d := NewDate(tt.year, 7, 17)
		if d.Weekday() != tt.weekday {
			t.Fatalf("%s is a %s, not a %s", d, d.Weekday(), tt.weekday)
		}
		if _, ok := old.IsHoliday(d); ok {
			t.Errorf("2024.1 lists %s", d)
		}
		h, ok := cur.Holiday(d)
		if !ok || h.Name != "제헌절" || h.NameEN != "Constitution Day" {
			t.Errorf("2026.1 %s = %+v, %v; want 제헌절 / Constitution Day", d, h, ok)
		}
		var subs []string
		for _, y := range cur.Year(tt.year) {
			if y.Substitute && strings.Contains(y.Name, "제헌절") {
				subs = append(subs, y.Date.String())
			}
		}
		want := []string{}
		if tt.substitute != "" {
			want = []string{tt.substitute}
		}
		if !slices.Equal(append([]string{}, subs...), want) {
			t.Errorf("%d: substitutes for 제헌절 %v, want %v", tt.year, subs, want)
		}
	}
	// A week with no 제헌절 substitute in either version: 2025 is before the law.
	if _, ok := cur.IsHoliday(NewDate(2025, 7, 17)); ok {
		t.Error("2026.1 lists 2025-07-17")
	}
}

func TestHolidayNameEN(t *testing.T) {
	t.Parallel()
	for ko, en := range map[string]string{
		"광복절":         "Liberation Day",
		"어린이날·부처님오신날": "Children's Day · Buddha's Birthday",
		"대체공휴일(어린이날·부처님오신날)": "Substitute holiday (Children's Day, Buddha's Birthday)",
		"추석 전날":         "Day before Chuseok",
		"설날 다음날":        "Day after Seollal (Lunar New Year)",
		"제21대 대통령선거일":   "Presidential election day",
		"제9회 전국동시지방선거일": "Local elections day",
		"임시공휴일(국군의 날)":  "Temporary holiday (Armed Forces Day)",
		"1월1일":          "New Year's Day",
		"3·1절":          "Independence Movement Day",
		"모르는 날":         "모르는 날",
	} {
		if got := HolidayNameEN(ko); got != en {
			t.Errorf("HolidayNameEN(%q) = %q, want %q", ko, got, en)
		}
	}
}

func TestKoreanHolidaysCoverage(t *testing.T) {
	t.Parallel()
	for date, want := range map[string]bool{
		"2023-12-31": false, "2024-01-01": true, "2030-12-31": true, "2031-01-01": false,
	} {
		if got := KoreanHolidays.Covers(mustDate(t, date)); got != want {
			t.Errorf("Covers(%s) = %v, want %v", date, got, want)
		}
	}
	if KoreanHolidays.Year(2031) != nil {
		t.Error("Year(2031) is not nil")
	}
	// Year returns a copy: changing it leaves the table alone.
	y := KoreanHolidays.Year(2025)
	y[0].Name = "changed"
	if KoreanHolidays.Year(2025)[0].Name != "신정" {
		t.Error("Year returned the table itself")
	}
	// Lookups normalise the date: 2025-02-31 is 2025-03-03.
	if name, ok := KoreanHolidays.IsHoliday(Date{Year: 2025, Month: 2, Day: 31}); !ok || name != "대체공휴일(삼일절)" {
		t.Errorf("IsHoliday(2025-02-31) = %q, %v", name, ok)
	}
}

// TestKoreanHolidaysLunarDates checks the lunar table for what is always
// true: 설날 falls between 01-21 and 02-20, 부처님오신날 is about 3 lunar
// months later and 추석 about 7 after 설날 (lunar months are 29 or 30 days; a
// leap month may intervene).
func TestKoreanHolidaysLunarDates(t *testing.T) {
	t.Parallel()
	days := func(a, b Date) int { return int(b.Start().Sub(a.Start()).Hours() / 24) }
	for year := koreanFirstYear; year <= koreanLastYear; year++ {
		l, ok := koreanLunar[year]
		if !ok {
			t.Fatalf("no lunar dates for %d", year)
		}
		if l.seollal.Year != year || l.buddha.Year != year || l.chuseok.Year != year {
			t.Errorf("%d: lunar dates in the wrong year: %+v", year, l)
		}
		if l.seollal.Before(NewDate(year, 1, 21)) || l.seollal.After(NewDate(year, 2, 20)) {
			t.Errorf("%d: 설날 %s outside 01-21…02-20", year, l.seollal)
		}
		// 4/8 is 3 months + 7 days after 1/1: 3×29+7 … 4×30+7 with a leap month.
		if n := days(l.seollal, l.buddha); n < 94 || n > 127 {
			t.Errorf("%d: 부처님오신날 %d days after 설날", year, n)
		}
		// 8/15 is 7 months + 14 days after 1/1: 7×29+14 … 8×30+14.
		if n := days(l.seollal, l.chuseok); n < 217 || n > 254 {
			t.Errorf("%d: 추석 %d days after 설날", year, n)
		}
	}
}

// TestHolidaySubstituteRule exercises §3 on cases the 2024–2030 table lacks.
func TestHolidaySubstituteRule(t *testing.T) {
	t.Parallel()
	h := func(date string, rule substituteRule) baseHoliday {
		return baseHoliday{date: mustDate(t, date), name: date, group: date, rule: rule}
	}
	subs := func(hs []Holiday) string {
		var out []string
		for _, x := range hs {
			if x.Substitute {
				out = append(out, x.Date.String())
			}
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name string
		base []baseHoliday
		want string // substitute dates
	}{
		{
			// Two holidays on Sunday 2025-08-17: both lose their day, the
			// substitutes are Mon 08-18 and, by §3②, Tue 08-19.
			name: "two holidays on a Sunday",
			base: []baseHoliday{h("2025-08-17", pastWeekend), h("2025-08-17", pastWeekend)},
			want: "2025-08-18 2025-08-19",
		},
		{
			// Two on Friday 2025-08-22: one keeps the Friday, the other's
			// substitute skips the weekend to Mon 08-25.
			name: "two holidays on a Friday",
			base: []baseHoliday{h("2025-08-22", pastWeekend), h("2025-08-22", pastSunday)},
			want: "2025-08-25",
		},
		{
			// A holiday with no substitute (an election) keeps Wed 08-20; the
			// other gets Thu 08-21.
			name: "overlap with an election day",
			base: []baseHoliday{h("2025-08-20", noSubstitute), h("2025-08-20", pastWeekend)},
			want: "2025-08-21",
		},
		{
			// 신정 or 현충일 on Sunday 2025-08-17: none.
			name: "no-substitute holiday on a Sunday",
			base: []baseHoliday{h("2025-08-17", noSubstitute)},
			want: "",
		},
		{
			// A 설날/추석 day on Saturday 08-16: none; a national day on the
			// same Saturday gets Mon 08-18.
			name: "Saturday: 추석 keeps it, a national day does not",
			base: []baseHoliday{h("2025-08-16", pastSunday), h("2025-08-16", pastWeekend)},
			want: "2025-08-18",
		},
		{
			// Sunday 08-17 national day, Monday 08-18 holiday: the substitute
			// is the first day that is not a holiday, Tue 08-19.
			name: "substitute skips a following holiday",
			base: []baseHoliday{h("2025-08-17", pastWeekend), h("2025-08-18", pastWeekend)},
			want: "2025-08-19",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subs(withSubstitutes(tt.base)); got != tt.want {
				t.Errorf("substitutes = %q, want %q", got, tt.want)
			}
		})
	}

	// 2023, under the rules as amended that year: 설날 (01-21 Sat … 01-23
	// Mon, 설날 itself on Sunday 01-22) → 01-24; 부처님오신날 on Saturday
	// 05-27 → 05-29 (the first substitute for it). 신정 on Sunday 01-01,
	// 추석 on Thu–Sat 09-28…09-30: none. These are the announced ones.
	y2023 := koreanYear(2023, lunarDays{
		seollal: NewDate(2023, 1, 22), buddha: NewDate(2023, 5, 27), chuseok: NewDate(2023, 9, 29),
	}, nil)
	if got := subs(y2023); got != "2023-01-24 2023-05-29" {
		t.Errorf("2023 substitutes = %q, want 2023-01-24 2023-05-29", got)
	}
}

// electionDay applies 공직선거법 §34: the first Wednesday on or after the day
// daysBefore days before termEnd; if that day is a holiday, or the day
// before or after it is, the Wednesday of the following week.
func electionDay(termEnd Date, daysBefore int, cal HolidayCalendar) Date {
	d := termEnd.AddDays(-daysBefore)
	for d.Weekday() != time.Wednesday {
		d = d.AddDays(1)
	}
	for _, x := range []Date{d.AddDays(-1), d, d.AddDays(1)} {
		if _, ok := cal.IsHoliday(x); ok {
			return d.AddDays(7)
		}
	}
	return d
}

// TestHolidayElectionDays checks the rule on past elections, then the table's
// regular election days against it.
func TestHolidayElectionDays(t *testing.T) {
	t.Parallel()
	past := []struct {
		name       string
		termEnd    string
		daysBefore int
		holidays   HolidaySet
		want       string
	}{
		// 19th president's term ended 2022-05-09; −70 = 02-28 → Wed 03-02,
		// but 03-01 is 삼일절 → 03-09, the actual 20th presidential election.
		{"2022 presidential", "2022-05-09", 70, HolidaySet{NewDate(2022, 3, 1): "삼일절"}, "2022-03-09"},
		// 2012-12-19: term ended 2013-02-24; −70 = 2012-12-16 (Sun).
		{"2012 presidential", "2013-02-24", 70, nil, "2012-12-19"},
		// 2020-04-15: term ended 2020-05-29; −50 = 04-09 (Thu).
		{"2020 National Assembly", "2020-05-29", 50, nil, "2020-04-15"},
		// 2018-06-13: −30 = 05-31 (Thu) → Wed 06-06 is 현충일 → 06-13.
		{"2018 local", "2018-06-30", 30, HolidaySet{NewDate(2018, 6, 6): "현충일"}, "2018-06-13"},
		// 2022-06-01: −30 = 05-31 (Tue) → Wed 06-01.
		{"2022 local", "2022-06-30", 30, nil, "2022-06-01"},
	}
	for _, tt := range past {
		if got := electionDay(mustDate(t, tt.termEnd), tt.daysBefore, tt.holidays).String(); got != tt.want {
			t.Errorf("%s: electionDay = %s, want %s", tt.name, got, tt.want)
		}
	}

	// The table's regular elections, checked against the calendar without
	// the one-off days (an election day must not move itself).
	table := []struct {
		termEnd    string
		daysBefore int
		want       string
	}{
		{"2024-05-29", 50, "2024-04-10"},
		{"2026-06-30", 30, "2026-06-03"},
		{"2028-05-29", 50, "2028-04-12"},
		{"2030-06-03", 70, "2030-03-27"},
		{"2030-06-30", 30, "2030-06-12"},
	}
	for _, tt := range table {
		end := mustDate(t, tt.termEnd)
		cal := HolidaySet{}
		for _, h := range koreanYear(end.Year, koreanLunar[end.Year], nil) {
			cal[h.Date] = h.Name
		}
		got := electionDay(end, tt.daysBefore, cal)
		if got.String() != tt.want {
			t.Errorf("term ending %s: electionDay = %s, want %s", tt.termEnd, got, tt.want)
		}
		if _, ok := KoreanHolidays.IsHoliday(got); !ok {
			t.Errorf("election day %s missing from the table", got)
		}
	}
}
