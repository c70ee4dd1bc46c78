package models

// Korean public holidays (공휴일) for 2024–2030, as observed by government
// offices, which is what the appeal deadlines of 민법 §161 look at.
//
// Sources:
//   - 관공서의 공휴일에 관한 규정 (대통령령) §2 (the holidays) and §3 (대체공휴일),
//     with the 2023 amendment that extended substitute holidays to
//     부처님오신날 and 기독탄신일 (first applied on 2023-05-29); and
//     공휴일에 관한 법률 (2021), which gives 국경일 substitute holidays.
//   - 한국천문연구원 (KASI) 월력요항, published each June for the following
//     year, for the solar dates of 설날, 부처님오신날 and 추석. The lunar dates
//     below agree with KASI's tables; 설날 2027-02-07 and 2028-01-27 are one
//     day later than the Chinese new year because the new moon falls after
//     midnight in KST but before it in UTC+8.
//   - 공직선거법 §34 for election days, and the government's designations of
//     temporary holidays (임시공휴일).
//
// Only the lunar dates, the election days and the temporary holidays are
// data; the fixed days and every substitute holiday are derived by
// koreanYear, which implements §3, and the test pins the result against the
// announced lists (KASI 월력요항 2024, 2025 and 2026; later years derived by
// hand from the rules).
//
// 제헌절 (7/17) is a public holiday again from 2026: the amendment of
// 공휴일에 관한 법률 §2 passed by the National Assembly on 2026-01-29 makes
// every 국경일 of 국경일에 관한 법률 §2 (삼일절, 제헌절, 광복절, 개천절, 한글날)
// a public holiday; its promulgation was approved by the Cabinet in February
// 2026 and it took effect three months later, before 2026-07-17. As a
// 국경일 it takes the substitute rule of the other national days: 공휴일에
// 관한 법률 §3 and 관공서의 공휴일에 관한 규정 §3① give a 대체공휴일 when a
// 국경일 falls on a Saturday, a Sunday or another public holiday (so
// 2027-07-17, a Saturday, gives Monday 2027-07-19). Built-in version
// "2026.1" adds it; version "2024.1" (without it) is kept so that windows
// computed before this version took effect are reproduced exactly.
//
// Not included: 노동절 (5/1). 노동절 제정에 관한 법률 (passed 2025-10-26,
// in force 2026) renamed 근로자의 날 but left it a paid holiday for workers
// under 근로기준법, not a 관공서 공휴일; the bill to make it a public holiday
// was still before the 행정안전위원회 in the latest sources checked, and no
// amendment of 관공서의 공휴일에 관한 규정 adding it was found. Nor is any
// 임시공휴일 designated after 2025 (the government did not designate
// 2025-10-10). Such days reach the portal through an imported official list
// (holiday_import.go) or a one-off holiday an administrator adds.

import (
	"slices"
	"strings"
	"time"
)

const (
	koreanFirstYear = 2024
	koreanLastYear  = 2030
)

// koreanLunar holds the solar dates of 설날 (lunar 1/1), 부처님오신날 (lunar
// 4/8) and 추석 (lunar 8/15) in each year.
var koreanLunar = map[int]lunarDays{
	2024: {seollal: NewDate(2024, 2, 10), buddha: NewDate(2024, 5, 15), chuseok: NewDate(2024, 9, 17)},
	2025: {seollal: NewDate(2025, 1, 29), buddha: NewDate(2025, 5, 5), chuseok: NewDate(2025, 10, 6)},
	2026: {seollal: NewDate(2026, 2, 17), buddha: NewDate(2026, 5, 24), chuseok: NewDate(2026, 9, 25)},
	2027: {seollal: NewDate(2027, 2, 7), buddha: NewDate(2027, 5, 13), chuseok: NewDate(2027, 9, 15)},
	2028: {seollal: NewDate(2028, 1, 27), buddha: NewDate(2028, 5, 2), chuseok: NewDate(2028, 10, 3)},
	2029: {seollal: NewDate(2029, 2, 13), buddha: NewDate(2029, 5, 20), chuseok: NewDate(2029, 9, 22)},
	2030: {seollal: NewDate(2030, 2, 3), buddha: NewDate(2030, 5, 9), chuseok: NewDate(2030, 9, 12)},
}

type lunarDays struct {
	seollal, buddha, chuseok Date
}

// koreanOneOff holds election days and temporary holidays. Election days of
// 공직선거법 §34: the first Wednesday on or after the 70th (president), 50th
// (National Assembly) or 30th (local) day before the term ends, moved to the
// next Wednesday when that day, or the day before or after it, is a holiday.
var koreanOneOff = []struct {
	date Date
	name string
}{
	{NewDate(2024, 4, 10), "제22대 국회의원선거일"}, // term ends 2024-05-29; −50 days = 04-09 (Tue)
	{NewDate(2024, 10, 1), "임시공휴일(국군의 날)"},
	{NewDate(2025, 1, 27), "임시공휴일"},
	// Early election after the office fell vacant (not a term expiry),
	// designated a temporary holiday.
	{NewDate(2025, 6, 3), "제21대 대통령선거일"},
	{NewDate(2026, 6, 3), "제9회 전국동시지방선거일"}, // term ends 2026-06-30; −30 days = 05-31 (Sun)
	{NewDate(2028, 4, 12), "제23대 국회의원선거일"}, // term ends 2028-05-29; −50 days = 04-09 (Sun)
	// UNSURE: computed, not announced. The 21st president took office on
	// 2025-06-04 for five years, so the term ends 2030-06-03; −70 days =
	// 03-25 (Mon) → Wednesday 03-27, with no holiday beside it. A
	// constitutional or statutory change could move it.
	{NewDate(2030, 3, 27), "제22대 대통령선거일"},
	// UNSURE: computed, not announced. Term ends 2030-06-30; −30 days =
	// 05-31 (Fri) → Wednesday 06-05, but 06-06 (현충일) is the day after, so
	// §34② moves it to 06-12.
	{NewDate(2030, 6, 12), "제10회 전국동시지방선거일"},
}

// Holiday is one public holiday.
type Holiday struct {
	Date Date
	// Name is the Korean name; names are joined with "·" when two holidays
	// fall on the same date (2025-05-05 어린이날·부처님오신날).
	Name string
	// NameEN is the English name.
	NameEN string
	// Substitute marks a 대체공휴일.
	Substitute bool
}

// LocalName is the holiday's name in lang ("en" or Korean otherwise).
func (h Holiday) LocalName(lang string) string {
	if lang == "en" && h.NameEN != "" {
		return h.NameEN
	}
	return h.Name
}

// KoreanCalendar is a built-in HolidayCalendar of Korean public holidays,
// 2024–2030 inclusive, as one version of the built-in rules knows them. It
// covers only those years: AppealWindow returns ErrNoHolidayData rather than
// guess outside them.
type KoreanCalendar struct {
	v *builtinTable
}

// builtinTable is one version of the built-in rules, expanded.
type builtinTable struct {
	version string
	// constitutionDayFrom is the first year in which 제헌절 is a public
	// holiday; 0 when this version does not list it.
	constitutionDayFrom int
	byYear              map[int][]Holiday
	byDate              map[Date]Holiday
}

// builtinVersions are the versions of the built-in table in the order they
// shipped. Old ones stay so that a window computed while one was in effect is
// computed again the same way (see HolidayRecords). Add a version, with a
// migration recording when it took effect, whenever the rules change.
var builtinVersions = []*builtinTable{
	buildKoreanTable("2024.1", 0),
	buildKoreanTable("2026.1", 2026),
}

// KoreanHolidays is the built-in calendar of Korean public holidays, in its
// current version.
var KoreanHolidays = KoreanCalendar{v: builtinVersions[len(builtinVersions)-1]}

// BuiltinHolidayVersion is the version of the current built-in table.
var BuiltinHolidayVersion = KoreanHolidays.Version()

// builtinCalendar returns the built-in calendar of a version, or false.
func builtinCalendar(version string) (KoreanCalendar, bool) {
	for _, t := range builtinVersions {
		if t.version == version {
			return KoreanCalendar{v: t}, true
		}
	}
	return KoreanCalendar{}, false
}

// Version names the version of the built-in rules.
func (c KoreanCalendar) Version() string { return c.table().version }

func (c KoreanCalendar) table() *builtinTable {
	if c.v == nil {
		return builtinVersions[len(builtinVersions)-1]
	}
	return c.v
}

// IsHoliday implements HolidayCalendar. Sundays are not listed unless they
// are also a named holiday.
func (c KoreanCalendar) IsHoliday(d Date) (string, bool) {
	h, ok := c.table().byDate[NewDate(d.Year, d.Month, d.Day)]
	return h.Name, ok
}

// Holiday returns the holiday on d with both names.
func (c KoreanCalendar) Holiday(d Date) (Holiday, bool) {
	h, ok := c.table().byDate[NewDate(d.Year, d.Month, d.Day)]
	return h, ok
}

// Covers reports whether the table has data for d's year.
func (KoreanCalendar) Covers(d Date) bool {
	return d.Year >= koreanFirstYear && d.Year <= koreanLastYear
}

// Year returns the holidays of year in date order, or nil for a year the
// table does not cover.
func (c KoreanCalendar) Year(year int) []Holiday {
	return slices.Clone(c.table().byYear[year])
}

func buildKoreanTable(version string, constitutionDayFrom int) *builtinTable {
	t := &builtinTable{version: version, constitutionDayFrom: constitutionDayFrom,
		byYear: make(map[int][]Holiday), byDate: make(map[Date]Holiday)}
	for year := koreanFirstYear; year <= koreanLastYear; year++ {
		var extra []baseHoliday
		for _, o := range koreanOneOff {
			if o.date.Year == year {
				extra = append(extra, baseHoliday{date: o.date, name: o.name})
			}
		}
		if constitutionDayFrom != 0 && year >= constitutionDayFrom {
			extra = append(extra, baseHoliday{date: NewDate(year, 7, 17), name: "제헌절", group: "제헌절", rule: pastWeekend})
		}
		hs := koreanYear(year, koreanLunar[year], extra)
		for i := range hs {
			hs[i].NameEN = HolidayNameEN(hs[i].Name)
		}
		t.byYear[year] = hs
		for _, h := range hs {
			t.byDate[h.Date] = h
		}
	}
	return t
}

// substituteRule says when a holiday gets a 대체공휴일 (관공서의 공휴일에 관한
// 규정 §3①).
type substituteRule int

const (
	// noSubstitute: 신정, 현충일, election days, temporary holidays.
	noSubstitute substituteRule = iota
	// pastWeekend: the national days (삼일절, 제헌절 from 2026, 광복절,
	// 개천절, 한글날), 어린이날, 부처님오신날 and 기독탄신일 move past a
	// Saturday, a Sunday or another holiday.
	pastWeekend
	// pastSunday: the three days of 설날 and of 추석 move past a Sunday or
	// another holiday, not past a Saturday.
	pastSunday
)

type baseHoliday struct {
	date Date
	name string
	// group names the holiday in its substitute's name ("설날" for 설날 전날).
	group string
	rule  substituteRule
}

// koreanYear lists the public holidays of year: the fixed days, the lunar
// ones from l, the one-off days in extra, and the substitute holidays they
// give rise to, in date order.
func koreanYear(year int, l lunarDays, extra []baseHoliday) []Holiday {
	fixed := func(m time.Month, d int, name string, rule substituteRule) baseHoliday {
		return baseHoliday{date: NewDate(year, m, d), name: name, group: name, rule: rule}
	}
	base := []baseHoliday{
		fixed(1, 1, "신정", noSubstitute),
		fixed(3, 1, "삼일절", pastWeekend),
		fixed(5, 5, "어린이날", pastWeekend),
		fixed(6, 6, "현충일", noSubstitute),
		fixed(8, 15, "광복절", pastWeekend),
		fixed(10, 3, "개천절", pastWeekend),
		fixed(10, 9, "한글날", pastWeekend),
		fixed(12, 25, "기독탄신일", pastWeekend),
	}
	if !l.seollal.IsZero() {
		base = append(base, koreanSeason(l.seollal, "설날")...)
	}
	if !l.buddha.IsZero() {
		base = append(base, baseHoliday{date: l.buddha, name: "부처님오신날", group: "부처님오신날", rule: pastWeekend})
	}
	if !l.chuseok.IsZero() {
		base = append(base, koreanSeason(l.chuseok, "추석")...)
	}
	base = append(base, extra...)
	return withSubstitutes(base)
}

// koreanSeason returns the three days of 설날 or 추석 around day.
func koreanSeason(day Date, name string) []baseHoliday {
	return []baseHoliday{
		{date: day.AddDays(-1), name: name + " 전날", group: name, rule: pastSunday},
		{date: day, name: name, group: name, rule: pastSunday},
		{date: day.AddDays(1), name: name + " 다음날", group: name, rule: pastSunday},
	}
}

// withSubstitutes adds the substitute holidays of 관공서의 공휴일에 관한 규정
// §3 to base and returns all holidays in date order, one entry per date.
//
// Each holiday is meant to give one day off. On a date the holidays compete
// for that one day: a Sunday gives none (it is a holiday already); a
// Saturday gives one only to a 설날 or 추석 day (which get no substitute for a
// Saturday); a weekday gives one, taken first by a holiday that has no
// substitute (신정, 현충일, an election day). Every pastWeekend or pastSunday
// holiday left without the day gets a substitute: the first following day
// that is not a Saturday, a Sunday, a holiday or an earlier substitute (§3①,
// ②). So 2025-05-05 (어린이날 and 부처님오신날, a Monday) gives one
// substitute, 2025-05-06, as announced.
//
// §3 speaks of the first following 비공휴일; a Saturday is skipped too, as
// every announced substitute has been a weekday. No case in 2024–2030 would
// land on a Saturday either way.
func withSubstitutes(base []baseHoliday) []Holiday {
	byDate := make(map[Date][]baseHoliday)
	for _, h := range base {
		byDate[h.date] = append(byDate[h.date], h)
	}
	dates := make([]Date, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	slices.SortFunc(dates, Date.Compare)

	off := make(map[Date]bool, len(dates))
	out := make([]Holiday, 0, len(dates)+4)
	for _, d := range dates {
		off[d] = true
		names := make([]string, 0, len(byDate[d]))
		for _, h := range byDate[d] {
			names = append(names, h.name)
		}
		out = append(out, Holiday{Date: d, Name: strings.Join(names, "·")})
	}
	for _, d := range dates {
		n, groups := substitutesOwed(d, byDate[d])
		for range n {
			s := d.AddDays(1)
			for off[s] || s.Weekday() == time.Saturday || s.Weekday() == time.Sunday {
				s = s.AddDays(1)
			}
			off[s] = true
			out = append(out, Holiday{Date: s, Name: "대체공휴일(" + strings.Join(groups, "·") + ")", Substitute: true})
		}
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// substitutesOwed returns how many of the holidays hs on date d lose their day and
// so get a substitute, and the names of those that may.
func substitutesOwed(d Date, hs []baseHoliday) (int, []string) {
	var weekendRule, sundayRule, none int
	var groups []string
	for _, h := range hs {
		switch h.rule {
		case pastWeekend:
			weekendRule++
		case pastSunday:
			sundayRule++
		default:
			none++
		}
		if h.rule != noSubstitute && !slices.Contains(groups, h.group) {
			groups = append(groups, h.group)
		}
	}
	eligible := weekendRule + sundayRule
	n := eligible
	switch d.Weekday() {
	case time.Sunday:
		// Sunday holds the day itself.
	case time.Saturday:
		if none == 0 && sundayRule > 0 {
			n-- // a 설날 or 추석 day keeps the Saturday
		}
	default:
		if none == 0 && eligible > 0 {
			n-- // one holiday keeps the weekday
		}
	}
	return n, groups
}
