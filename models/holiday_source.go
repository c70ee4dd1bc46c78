package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Where the public holidays that move deadlines come from, and when each
// source took effect. Three kinds of record change the calendar:
//
//   - a version of the built-in table (holidays_kr.go) takes effect when a
//     release that carries it first migrates the database
//     (BuiltinHolidayRecord);
//   - an administrator confirms an imported official list for a year
//     (HolidayList): from then on that year's holidays are the list's, not
//     the built-in table's;
//   - an administrator adds or removes a one-off holiday (ExtraHoliday),
//     which counts on top of whichever of the two covers its year.
//
// Every record says from which instant it counts; a change counts for the
// instants after it. HolidayRecords.WindowAsOf walks these instants so that
// a change never moves a window that had closed when it was made, while a
// window still open follows it; it returns each move with its cause.

// BuiltinHolidayRecord records when a version of the built-in table took
// effect in this database.
type BuiltinHolidayRecord struct {
	Version      string    `gorm:"primaryKey;size:16"`
	InEffectFrom time.Time `gorm:"not null"`
}

// TableName keeps the table's name readable.
func (BuiltinHolidayRecord) TableName() string { return "holiday_builtin_versions" }

// HolidayList is an official list of one year's public holidays that an
// administrator imported (KASI special-day data, an iCalendar or a CSV
// file). It counts from ConfirmedAt on; a pending list (not confirmed, not
// discarded) counts for nothing. Rows are never deleted.
type HolidayList struct {
	ID            uint      `gorm:"primaryKey"`
	Year          int       `gorm:"not null;index"`
	Format        string    `gorm:"size:16;not null"`
	FileName      string    `gorm:"size:255;not null"`
	SHA256        string    `gorm:"size:64;not null"`
	Ignored       int       `gorm:"not null"` // entries of the file outside Year, or not holidays
	ImportedByID  uint      `gorm:"not null"`
	ImportedAt    time.Time `gorm:"not null"`
	ConfirmedByID *uint
	ConfirmedAt   *time.Time
	DiscardedByID *uint
	DiscardedAt   *time.Time
	Days          []HolidayListDay `gorm:"constraint:OnDelete:RESTRICT"`
}

// HolidayListDay is one holiday of an imported list.
type HolidayListDay struct {
	ID            uint   `gorm:"primaryKey"`
	HolidayListID uint   `gorm:"not null;index"`
	Date          string `gorm:"size:10;not null"` // 2006-01-02
	NameKO        string `gorm:"size:100;not null"`
	NameEN        string `gorm:"size:100;not null"`
}

// Pending reports whether the list awaits confirmation.
func (l *HolidayList) Pending() bool { return l.ConfirmedAt == nil && l.DiscardedAt == nil }

// inEffect reports whether the confirmed list counts at instant t.
func (l *HolidayList) inEffect(t time.Time) bool {
	return l.ConfirmedAt != nil && l.ConfirmedAt.Before(t)
}

// Holidays returns the list's days as holidays in date order.
func (l *HolidayList) Holidays() []Holiday {
	out := make([]Holiday, 0, len(l.Days))
	for _, d := range l.Days {
		date, err := ParseDate(d.Date)
		if err != nil {
			continue
		}
		out = append(out, Holiday{Date: date, Name: d.NameKO, NameEN: d.NameEN,
			Substitute: isSubstituteName(d.NameKO)})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// HolidaySource says where the holidays of one year came from for a
// computed deadline: the built-in table of a version, or a list imported
// and confirmed by an administrator.
type HolidaySource struct {
	Year        int
	Builtin     string // version of the built-in table; "" for an imported list
	ListID      uint
	ImportedAt  time.Time
	ConfirmedAt time.Time
	// Extras counts the one-off holidays that stood in that year.
	Extras int
}

// HolidayChange is one instant at which the holidays changed, and why.
type HolidayChange struct {
	At   time.Time
	Kind string // builtin, list, extra.add, extra.remove
	// Version is the built-in version that took effect (Kind builtin).
	Version string
	// List is the confirmed list (Kind list).
	ListID     uint
	ListYear   int
	ImportedAt time.Time
	// Date and names of the one-off holiday (Kind extra.*).
	Date           Date
	NameKO, NameEN string
}

// Change kinds.
const (
	ChangeBuiltin     = "builtin"
	ChangeList        = "list"
	ChangeExtraAdd    = "extra.add"
	ChangeExtraRemove = "extra.remove"
)

// WindowChange is a move of an open window's closing instant.
type WindowChange struct {
	At       time.Time // when the holidays changed
	From, To time.Time // closing instants before and after
	Cause    HolidayChange
}

// HolidayRecords are all the records that make up the holidays over time.
type HolidayRecords struct {
	Builtins []BuiltinHolidayRecord // by InEffectFrom
	Lists    []HolidayList          // confirmed ones, with their days, by ConfirmedAt
	Extras   []ExtraHoliday
	// base replaces the built-in table when set (AppealWindowAsOf's callers
	// pass their own calendar).
	base HolidayCalendar
}

// LoadHolidayRecords reads every record that makes up the holidays.
func LoadHolidayRecords(ctx context.Context, db *gorm.DB) (HolidayRecords, error) {
	var r HolidayRecords
	db = db.WithContext(ctx)
	if err := db.Order("in_effect_from, version").Find(&r.Builtins).Error; err != nil {
		return r, fmt.Errorf("store: holiday versions: %w", err)
	}
	if err := db.Preload("Days").Where("confirmed_at IS NOT NULL").Order("confirmed_at, id").
		Find(&r.Lists).Error; err != nil {
		return r, fmt.Errorf("store: holiday lists: %w", err)
	}
	var err error
	if r.Extras, err = ListExtraHolidays(ctx, db); err != nil {
		return r, err
	}
	return r, nil
}

// builtinAt is the built-in calendar in effect at t: the latest version
// recorded before t, else the oldest version (a database migrated before
// versions were recorded used it), else the current one.
func (r HolidayRecords) builtinAt(t time.Time) KoreanCalendar {
	version := ""
	for _, b := range r.Builtins {
		if b.InEffectFrom.Before(t) || b.InEffectFrom.IsZero() {
			version = b.Version
		}
	}
	if version == "" {
		if len(r.Builtins) > 0 {
			version = builtinVersions[0].version
		} else {
			return KoreanHolidays
		}
	}
	if c, ok := builtinCalendar(version); ok {
		return c
	}
	return KoreanHolidays
}

// At returns the calendar in effect at instant t.
func (r HolidayRecords) At(t time.Time) *Calendar {
	c := &Calendar{base: r.base, lists: map[int]*HolidayList{}, extras: map[Date]ExtraHoliday{}}
	if c.base == nil {
		b := r.builtinAt(t)
		c.base, c.builtin = b, b.Version()
	}
	for i := range r.Lists {
		l := &r.Lists[i]
		if l.inEffect(t) {
			c.lists[l.Year] = l // later confirmations replace earlier ones
		}
	}
	c.listDays = map[Date]Holiday{}
	for _, l := range c.lists {
		for _, h := range l.Holidays() {
			c.listDays[h.Date] = h
		}
	}
	for _, e := range r.Extras {
		if !e.InEffect(t) {
			continue
		}
		if d, err := ParseDate(e.Date); err == nil {
			c.extras[d] = e
		}
	}
	return c
}

// Changes lists the instants at which the holidays changed, in order.
func (r HolidayRecords) Changes() []HolidayChange {
	var out []HolidayChange
	for i, b := range r.Builtins {
		if i == 0 || b.InEffectFrom.IsZero() {
			continue // the first version is the starting point, not a change
		}
		out = append(out, HolidayChange{At: b.InEffectFrom, Kind: ChangeBuiltin, Version: b.Version})
	}
	for _, l := range r.Lists {
		if l.ConfirmedAt != nil {
			out = append(out, HolidayChange{At: *l.ConfirmedAt, Kind: ChangeList, ListID: l.ID, ListYear: l.Year,
				ImportedAt: l.ImportedAt})
		}
	}
	for _, e := range r.Extras {
		d, _ := ParseDate(e.Date)
		out = append(out, HolidayChange{At: e.AddedAt, Kind: ChangeExtraAdd, Date: d, NameKO: e.NameKO, NameEN: e.NameEN})
		if e.RemovedAt != nil {
			out = append(out, HolidayChange{At: *e.RemovedAt, Kind: ChangeExtraRemove, Date: d, NameKO: e.NameKO, NameEN: e.NameEN})
		}
	}
	slices.SortStableFunc(out, func(a, b HolidayChange) int { return a.At.Compare(b.At) })
	return out
}

// WindowAsOf computes, at now, the appeal window of a result announced at
// announced, with the holidays as they stood when it mattered: each change
// of the holidays after the announcement moves a window that is still open
// when the change is made, and never one that had closed. It returns the
// window and every move of its closing instant, with its cause.
func (r HolidayRecords) WindowAsOf(announced time.Time, days int, rule CountingRule, now time.Time) (Window, []WindowChange, error) {
	w, werr := r.windowWith(announced, days, rule, r.At(announced))
	var moves []WindowChange
	for _, ch := range r.Changes() {
		if ch.At.Before(announced) {
			continue
		}
		if !ch.At.Before(now) {
			break
		}
		if werr == nil && !w.Closes.After(ch.At) {
			return w, moves, nil // closed before this change counted
		}
		nw, err := r.windowWith(announced, days, rule, r.At(ch.At.Add(time.Nanosecond)))
		if err != nil && !errors.Is(err, ErrNoHolidayData) {
			return Window{}, nil, err
		}
		if err == nil && werr == nil && !nw.Closes.Equal(w.Closes) {
			moves = append(moves, WindowChange{At: ch.At, From: w.Closes, To: nw.Closes, Cause: ch})
		}
		w, werr = nw, err
	}
	if werr != nil {
		return Window{}, nil, werr
	}
	return w, moves, nil
}

func (r HolidayRecords) windowWith(announced time.Time, days int, rule CountingRule, cal *Calendar) (Window, error) {
	w, err := AppealWindow(announced, days, rule, cal)
	if err != nil {
		return w, err
	}
	for y := w.Nominal.Year; y <= w.LastDay.Year; y++ {
		w.Sources = append(w.Sources, cal.Source(y))
	}
	return w, nil
}

// Calendar is the HolidayCalendar in effect at one instant: the built-in
// table, or for a year with a confirmed list that list, plus the one-off
// holidays standing then.
type Calendar struct {
	base     HolidayCalendar
	builtin  string
	lists    map[int]*HolidayList
	listDays map[Date]Holiday
	extras   map[Date]ExtraHoliday
}

// Holiday returns the holiday on d with both names.
func (c *Calendar) Holiday(d Date) (Holiday, bool) {
	d = NewDate(d.Year, d.Month, d.Day)
	if e, ok := c.extras[d]; ok {
		return Holiday{Date: d, Name: e.NameKO, NameEN: e.NameEN}, true
	}
	if _, ok := c.lists[d.Year]; ok {
		h, ok := c.listDays[d]
		return h, ok
	}
	if kc, ok := c.base.(KoreanCalendar); ok {
		return kc.Holiday(d)
	}
	if c.base == nil {
		return Holiday{}, false
	}
	name, ok := c.base.IsHoliday(d)
	return Holiday{Date: d, Name: name, NameEN: HolidayNameEN(name)}, ok
}

// IsHoliday implements HolidayCalendar.
func (c *Calendar) IsHoliday(d Date) (string, bool) {
	h, ok := c.Holiday(d)
	return h.Name, ok
}

// Covers reports whether the calendar has data for d's year: a confirmed
// list, or the built-in table.
func (c *Calendar) Covers(d Date) bool {
	if _, ok := c.lists[d.Year]; ok {
		return true
	}
	if cv, ok := c.base.(coverer); ok {
		return cv.Covers(d)
	}
	return true
}

// Year returns the holidays of year in date order, one-off ones included.
func (c *Calendar) Year(year int) []Holiday {
	var out []Holiday
	switch l, ok := c.lists[year]; {
	case ok:
		out = l.Holidays()
	default:
		if kc, ok := c.base.(KoreanCalendar); ok {
			out = kc.Year(year)
		}
	}
	for d, e := range c.extras {
		if d.Year != year {
			continue
		}
		out = slices.DeleteFunc(out, func(h Holiday) bool { return h.Date == d })
		out = append(out, Holiday{Date: d, Name: e.NameKO, NameEN: e.NameEN})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// Source says where year's holidays come from in this calendar.
func (c *Calendar) Source(year int) HolidaySource {
	s := HolidaySource{Year: year, Builtin: c.builtin}
	if l, ok := c.lists[year]; ok {
		s.Builtin, s.ListID, s.ImportedAt = "", l.ID, l.ImportedAt
		if l.ConfirmedAt != nil {
			s.ConfirmedAt = *l.ConfirmedAt
		}
	}
	for d := range c.extras {
		if d.Year == year {
			s.Extras++
		}
	}
	return s
}

// Covered reports whether the calendar can compute a deadline in year.
func (c *Calendar) Covered(year int) bool { return c.Covers(NewDate(year, 1, 1)) }

// isSubstituteName reports whether a holiday name marks a 대체공휴일.
func isSubstituteName(name string) bool {
	return len(name) >= len("대체") && (name[:len("대체")] == "대체")
}
