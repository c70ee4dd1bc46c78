package models

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// KST is Korea Standard Time, UTC+9. Korea has no daylight saving time, so a
// fixed zone is exact and does not depend on the server's tz database.
var KST = time.FixedZone("KST", 9*60*60)

// ErrNoHolidayData reports that a deadline would depend on a date the holiday
// calendar has no data for (the built-in table covers 2024–2030). A legal
// deadline is never computed from a calendar that might be missing holidays.
var ErrNoHolidayData = errors.New("no public holiday data for date")

// Date is a civil date in Korea, with no time of day and no zone. Build it
// with NewDate, DateOf or ParseDate so that it is normalised (month 1–12, day
// within the month); normalised Dates compare with == and work as map keys.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date year-month-day, normalised the way time.Date
// normalises (2025-02-30 becomes 2025-03-02).
func NewDate(year int, month time.Month, day int) Date {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// DateOf returns the KST calendar date of the instant t, whatever t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.In(KST).Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("models: parse date %q: %w", s, err)
	}
	return NewDate(t.Year(), t.Month(), t.Day()), nil
}

// String formats the date as "2006-01-02".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n days after d (before, when n is negative).
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	if c := cmp.Compare(d.Year, o.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, o.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, o.Day)
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Start returns 00:00:00 KST at the beginning of d, in the KST location.
func (d Date) Start() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, KST)
}

// MarshalText implements encoding.TextMarshaler ("2006-01-02").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("2006-01-02").
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// HolidayCalendar tells whether a civil date is a public holiday (공휴일) and
// its name. Saturdays and Sundays need not be listed: the deadline rules treat
// them as non-working days themselves.
//
// A calendar whose data covers a limited range may also implement
//
//	Covers(d Date) bool
//
// and AppealWindow then refuses, with ErrNoHolidayData, to end a period on a
// date outside that range. KoreanCalendar does.
type HolidayCalendar interface {
	IsHoliday(d Date) (name string, ok bool)
}

type coverer interface {
	Covers(d Date) bool
}

// HolidaySet is a holiday calendar given as a table of dates and names, such
// as the one-off holidays that administrators add. Keys must be normalised
// Dates (see NewDate).
type HolidaySet map[Date]string

// IsHoliday implements HolidayCalendar.
func (s HolidaySet) IsHoliday(d Date) (string, bool) {
	name, ok := s[NewDate(d.Year, d.Month, d.Day)]
	return name, ok
}

// WithExtra layers extra holidays on top of base, for dates announced after
// the built-in table was written (임시공휴일 designated by the government,
// entered by an administrator). A date in extra is a holiday whatever base
// says; it keeps the name given in extra. base may be nil. The result covers
// what base covers.
func WithExtra(base HolidayCalendar, extra HolidaySet) HolidayCalendar {
	return layeredCalendar{base: base, extra: extra}
}

type layeredCalendar struct {
	base  HolidayCalendar
	extra HolidaySet
}

func (c layeredCalendar) IsHoliday(d Date) (string, bool) {
	if name, ok := c.extra.IsHoliday(d); ok {
		return name, true
	}
	if c.base == nil {
		return "", false
	}
	return c.base.IsHoliday(d)
}

func (c layeredCalendar) Covers(d Date) bool {
	if cv, ok := c.base.(coverer); ok {
		return cv.Covers(d)
	}
	return true
}

// maxRoll bounds the §161 roll-over so that a calendar that calls every day a
// holiday cannot loop for ever. Korea's longest run of non-working days is far
// shorter.
const maxRoll = 60

// WorkingDayOnOrAfter returns d itself when d is a working day, otherwise the
// first later date that is neither a Saturday, a Sunday nor a holiday in cal
// (민법 §161). A nil cal knows only Saturdays and Sundays. It returns
// ErrNoHolidayData when it would need a date cal does not cover.
func WorkingDayOnOrAfter(d Date, cal HolidayCalendar) (Date, error) {
	cv, _ := cal.(coverer)
	start := d
	for range maxRoll {
		if cv != nil && !cv.Covers(d) {
			return Date{}, fmt.Errorf("models: working day on or after %s: %w", d, ErrNoHolidayData)
		}
		if !IsDayOff(d, cal) {
			return d, nil
		}
		d = d.AddDays(1)
	}
	return Date{}, fmt.Errorf("models: working day on or after %s: none within %d days", start, maxRoll)
}

// IsDayOff reports whether d is a Saturday, a Sunday or a holiday in cal
// (a nil calendar: weekends only).
func IsDayOff(d Date, cal HolidayCalendar) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return true
	}
	if cal == nil {
		return false
	}
	_, ok := cal.IsHoliday(d)
	return ok
}

// CountingRule says how the days of an appeal period are counted.
type CountingRule string

const (
	// RuleCivil counts the period as the Civil Act (민법) does, which applies
	// to administrative periods by 행정기본법 §6①: the first day is not
	// counted unless the period starts at 00:00:00 (민법 §157), so a 10-day
	// period announced on the 4th ends at the end of the 14th (§159). It is
	// the default.
	RuleCivil CountingRule = "civil"
	// RuleAnnouncementDay counts the announcement day as day 1 ("10 days
	// from the announcement day" read inclusively), so a 10-day period
	// announced on the 4th ends at the end of the 13th. It is for notices
	// that say so.
	RuleAnnouncementDay CountingRule = "announcement-day"
)

// ParseCountingRule parses a rule name as stored in the database or a form.
// The empty string means the default, RuleCivil.
func ParseCountingRule(s string) (CountingRule, error) {
	switch r := CountingRule(s); r {
	case "":
		return RuleCivil, nil
	case RuleCivil, RuleAnnouncementDay:
		return r, nil
	}
	return "", fmt.Errorf("models: parse counting rule: unknown rule %q", s)
}

// Valid reports whether r is one of the defined rules.
func (r CountingRule) Valid() bool {
	return r == RuleCivil || r == RuleAnnouncementDay
}

// Window is the period in which an objection (이의신청) to an announced result
// may be filed: from Opens (inclusive) to Closes (exclusive).
type Window struct {
	// Opens is the announcement instant, in KST.
	Opens time.Time
	// Nominal is the last day as counted, before a Saturday or holiday moved
	// it (민법 §161). It equals LastDay when nothing moved. For an explicit
	// window it equals LastDay.
	Nominal Date
	// LastDay is the KST date of the last day on which an objection may be
	// filed.
	LastDay Date
	// Closes is the first instant at which objections are no longer
	// accepted, in KST: 00:00:00 of the day after LastDay for a counted
	// window (the period ends at the end of its last day, 민법 §159), or the
	// instant stated in the notice for an explicit one.
	Closes time.Time
	// Rule is the counting rule used; empty for an explicit window.
	Rule CountingRule
	// Explicit reports that the notice stated Closes itself.
	Explicit bool
	// Sources says where the holidays of each year from Nominal to LastDay
	// came from (the built-in table of a version, or an imported list);
	// empty for an explicit window and for a calendar that does not say.
	Sources []HolidaySource
}

// IsOpen reports whether an objection filed at t is in time: Opens ≤ t < Closes.
func (w Window) IsOpen(t time.Time) bool {
	return !t.Before(w.Opens) && t.Before(w.Closes)
}

// Remaining returns the time left at now until Closes, or zero once closed.
func (w Window) Remaining(now time.Time) time.Duration {
	if !now.Before(w.Closes) {
		return 0
	}
	return w.Closes.Sub(now)
}

// AppealWindow computes the objection period of days days for a result
// announced at the instant announced, counted in KST whatever the location of
// announced or of the server:
//
//   - The first day is the day after the announcement (민법 §157, 초일
//     불산입), or the announcement day itself when the announcement is at
//     exactly 00:00:00 KST or rule is RuleAnnouncementDay.
//   - The last day is day number days, counting the first day as 1; the
//     period ends at the end of it (§159), so Closes is 00:00:00 KST of the
//     next day.
//   - When the last day is a Saturday or a public holiday (Sundays are
//     public holidays), the period ends on the next day instead, repeatedly
//     (§161). cal names the holidays beyond Saturdays and Sundays; pass
//     KoreanHolidays, or WithExtra(KoreanHolidays, extra) to add one-off
//     holidays. A nil cal knows only Saturdays and Sundays.
//
// Days that are not positive, an unknown rule and a zero announcement instant
// are errors, and so is a last day outside the calendar's data
// (ErrNoHolidayData). A notice that states its own closing instant uses
// AppealWindowUntil instead.
func AppealWindow(announced time.Time, days int, rule CountingRule, cal HolidayCalendar) (Window, error) {
	if announced.IsZero() {
		return Window{}, errors.New("models: appeal window: announcement time is not set")
	}
	if days <= 0 {
		return Window{}, fmt.Errorf("models: appeal window: days must be positive, got %d", days)
	}
	if !rule.Valid() {
		return Window{}, fmt.Errorf("models: appeal window: unknown counting rule %q", rule)
	}
	opens := announced.In(KST)
	first := DateOf(opens)
	if rule == RuleCivil && !isMidnight(opens) {
		first = first.AddDays(1)
	}
	nominal := first.AddDays(days - 1)
	last, err := WorkingDayOnOrAfter(nominal, cal)
	if err != nil {
		return Window{}, fmt.Errorf("models: appeal window: %w", err)
	}
	return Window{
		Opens:   opens,
		Nominal: nominal,
		LastDay: last,
		Closes:  last.AddDays(1).Start(),
		Rule:    rule,
	}, nil
}

// isMidnight reports whether t (in KST) is exactly 00:00:00.000000000, the
// case in which 민법 §157 counts the first day.
func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// AppealWindowUntil is the window of a notice that states its own closing
// instant, which overrides any counting rule: objections are accepted from
// announced up to, not including, explicitClose. LastDay is the KST date of
// the last instant before explicitClose. It is an error unless announced is
// set and explicitClose is after it.
func AppealWindowUntil(announced, explicitClose time.Time) (Window, error) {
	if announced.IsZero() || explicitClose.IsZero() {
		return Window{}, errors.New("models: appeal window: announcement and closing times must be set")
	}
	if !explicitClose.After(announced) {
		return Window{}, fmt.Errorf("models: appeal window: closing time %s is not after announcement %s",
			explicitClose.In(KST).Format(time.RFC3339), announced.In(KST).Format(time.RFC3339))
	}
	last := DateOf(explicitClose.Add(-time.Nanosecond))
	return Window{
		Opens:    announced.In(KST),
		Nominal:  last,
		LastDay:  last,
		Closes:   explicitClose.In(KST),
		Explicit: true,
	}, nil
}
