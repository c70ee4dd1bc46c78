package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ImportHolidayList parses an official list and keeps year's days as a
// pending list: it counts for nothing until an administrator confirms it
// (ConfirmHolidayList) after seeing its difference from the table in effect.
// A file that cannot be read is refused with a *HolidayFileError.
func ImportHolidayList(ctx context.Context, db *gorm.DB, year int, fileName string, data []byte, by *User, now time.Time) (*HolidayList, error) {
	if year < 2000 || year > 2100 {
		return nil, &HolidayFileError{MessageID: "holidays.import.error.year", Detail: fmt.Sprint(year)}
	}
	parsed, err := ParseHolidayFile(data, year)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	l := &HolidayList{Year: year, Format: parsed.Format, FileName: truncRunes(cleanFileName(fileName), 255),
		SHA256: hex.EncodeToString(sum[:]), Ignored: parsed.Ignored, ImportedByID: by.ID, ImportedAt: now.UTC()}
	for _, h := range parsed.Days {
		l.Days = append(l.Days, HolidayListDay{Date: h.Date.String(), NameKO: h.Name, NameEN: h.NameEN})
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(l).Error; err != nil {
			return fmt.Errorf("store: import holidays: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.list.import", "holiday_list", fmt.Sprint(l.ID),
			fmt.Sprintf("%d: %d days, %s, sha256 %s", year, len(l.Days), l.Format, l.SHA256), now)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// cleanFileName keeps the base name of an uploaded file, printable only.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
}

// GetHolidayList loads a list with its days.
func GetHolidayList(ctx context.Context, db *gorm.DB, id uint) (*HolidayList, error) {
	var l HolidayList
	if err := db.WithContext(ctx).Preload("Days").First(&l, id).Error; err != nil {
		return nil, notFound("store: holiday list", err)
	}
	return &l, nil
}

// ListHolidayLists returns every imported list, newest first, without days.
func ListHolidayLists(ctx context.Context, db *gorm.DB) ([]HolidayList, error) {
	var ls []HolidayList
	if err := db.WithContext(ctx).Order("imported_at DESC, id DESC").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: list holiday lists: %w", err)
	}
	return ls, nil
}

// Difference statuses of one date between the table in effect and a list.
const (
	DiffSame    = "same"
	DiffAdded   = "added"   // in the list only: becomes a holiday
	DiffRemoved = "removed" // in the table only: stops being a holiday
	DiffRenamed = "renamed" // in both, under another name
)

// HolidayDiffRow is one date of a list's difference from the table in effect.
type HolidayDiffRow struct {
	Date     Date
	Status   string
	Current  Holiday // zero when DiffAdded
	Imported Holiday // zero when DiffRemoved
}

// DecisionMove is an open appeal window that a change of the holidays moves.
type DecisionMove struct {
	DecisionID uint
	CallID     uint
	From, To   time.Time
}

// HolidayListPreview is what an administrator sees before confirming a list.
type HolidayListPreview struct {
	List    *HolidayList
	Source  HolidaySource // what the year's holidays come from now
	Rows    []HolidayDiffRow
	Changed int // rows that are not DiffSame
	// Extras are the one-off holidays of the year, which stay on top of the list.
	Extras []Holiday
	// Moves are the open windows that confirming would move.
	Moves []DecisionMove
}

// PreviewHolidayList compares a list day by day with the holidays the year
// has now (the built-in table or an earlier confirmed list, without the
// one-off holidays, which stay on top of either) and lists the open appeal
// windows that confirming it at now would move.
func PreviewHolidayList(ctx context.Context, db *gorm.DB, id uint, now time.Time) (*HolidayListPreview, error) {
	l, err := GetHolidayList(ctx, db, id)
	if err != nil {
		return nil, err
	}
	r, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	p := &HolidayListPreview{List: l}
	withExtras := r.At(now)
	p.Source = withExtras.Source(l.Year)
	for d, e := range withExtras.extras {
		if d.Year == l.Year {
			p.Extras = append(p.Extras, Holiday{Date: d, Name: e.NameKO, NameEN: e.NameEN})
		}
	}
	noExtras := r
	noExtras.Extras = nil
	p.Rows = diffHolidays(noExtras.At(now).Year(l.Year), l.Holidays())
	for _, row := range p.Rows {
		if row.Status != DiffSame {
			p.Changed++
		}
	}
	if l.Pending() {
		after := r.withList(*l, now)
		if p.Moves, err = windowMoves(ctx, db, r, after, now); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// diffHolidays compares two years of holidays date by date.
func diffHolidays(current, imported []Holiday) []HolidayDiffRow {
	byDate := map[Date]*HolidayDiffRow{}
	var order []Date
	row := func(d Date) *HolidayDiffRow {
		if r, ok := byDate[d]; ok {
			return r
		}
		byDate[d] = &HolidayDiffRow{Date: d}
		order = append(order, d)
		return byDate[d]
	}
	for _, h := range current {
		row(h.Date).Current = h
	}
	for _, h := range imported {
		row(h.Date).Imported = h
	}
	out := make([]HolidayDiffRow, 0, len(order))
	for _, d := range order {
		r := *byDate[d]
		switch {
		case r.Current.Date.IsZero():
			r.Status = DiffAdded
		case r.Imported.Date.IsZero():
			r.Status = DiffRemoved
		case sameHolidayName(r.Current.Name, r.Imported.Name):
			r.Status = DiffSame
		default:
			r.Status = DiffRenamed
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b HolidayDiffRow) int { return a.Date.Compare(b.Date) })
	return out
}

// sameHolidayName compares names ignoring spaces ("설날 전날" and "설날전날").
func sameHolidayName(a, b string) bool {
	strip := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	return strip(a) == strip(b)
}

// withList returns the records with l confirmed at at.
func (r HolidayRecords) withList(l HolidayList, at time.Time) HolidayRecords {
	at = at.UTC()
	l.ConfirmedAt = &at
	out := r
	out.Lists = append(append([]HolidayList{}, r.Lists...), l)
	return out
}

// windowMoves lists the decisions whose appeal window is open at now under
// before and closes at another instant under after, where after differs from
// before by a change made at now.
func windowMoves(ctx context.Context, db *gorm.DB, before, after HolidayRecords, now time.Time) ([]DecisionMove, error) {
	var ds []Decision
	if err := db.WithContext(ctx).Select("id", "call_id", "published_at", "counting_rule", "explicit_close").
		Where("explicit_close IS NULL").Order("id").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("store: decisions for holiday change: %w", err)
	}
	var moves []DecisionMove
	for _, d := range ds {
		w0, _, err := before.WindowAsOf(d.PublishedAt, AppealDays, d.CountingRule, now)
		if err != nil || !w0.Closes.After(now) {
			continue // closed (or not computable then): a change never moves it
		}
		w1, _, err := after.WindowAsOf(d.PublishedAt, AppealDays, d.CountingRule, now.Add(time.Nanosecond))
		if err != nil {
			return nil, fmt.Errorf("store: window of decision %d after the change: %w", d.ID, err)
		}
		if !w1.Closes.Equal(w0.Closes) {
			moves = append(moves, DecisionMove{DecisionID: d.ID, CallID: d.CallID, From: w0.Closes, To: w1.Closes})
		}
	}
	return moves, nil
}

// movesSummary describes moved windows for the audit trail.
func movesSummary(moves []DecisionMove) string {
	if len(moves) == 0 {
		return "no open window moved"
	}
	parts := make([]string, 0, len(moves))
	for _, m := range moves {
		parts = append(parts, fmt.Sprintf("decision %d: %s → %s", m.DecisionID,
			m.From.In(KST).Format(time.RFC3339), m.To.In(KST).Format(time.RFC3339)))
	}
	return "windows moved: " + strings.Join(parts, "; ")
}

// ConfirmHolidayList makes a pending list the year's holidays from now on.
// Open appeal windows follow it; closed ones do not move. The audit row
// names every window it moved.
func ConfirmHolidayList(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) ([]DecisionMove, error) {
	var moves []DecisionMove
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, err := GetHolidayList(ctx, tx, id)
		if err != nil {
			return err
		}
		if !l.Pending() {
			return fmt.Errorf("store: confirm holiday list %d: not pending: %w", id, ErrInvalidTransition)
		}
		before, err := LoadHolidayRecords(ctx, tx)
		if err != nil {
			return err
		}
		at := now.UTC()
		if err := tx.Model(&HolidayList{}).Where("id = ? AND confirmed_at IS NULL AND discarded_at IS NULL", id).
			Updates(map[string]any{"confirmed_at": at, "confirmed_by_id": by.ID}).Error; err != nil {
			return fmt.Errorf("store: confirm holiday list: %w", err)
		}
		if moves, err = movesSince(ctx, tx, before, now); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.list.confirm", "holiday_list", fmt.Sprint(id),
			fmt.Sprintf("%d: %d days from %s; %s", l.Year, len(l.Days), l.FileName, movesSummary(moves)), now)
	})
	if err != nil {
		return nil, err
	}
	return moves, nil
}

// DiscardHolidayList sets a pending list aside; the row stays.
func DiscardHolidayList(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, err := GetHolidayList(ctx, tx, id)
		if err != nil {
			return err
		}
		if !l.Pending() {
			return fmt.Errorf("store: discard holiday list %d: not pending: %w", id, ErrInvalidTransition)
		}
		at := now.UTC()
		if err := tx.Model(&HolidayList{}).Where("id = ?", id).
			Updates(map[string]any{"discarded_at": at, "discarded_by_id": by.ID}).Error; err != nil {
			return fmt.Errorf("store: discard holiday list: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.list.discard", "holiday_list", fmt.Sprint(id),
			fmt.Sprintf("%d: %s", l.Year, l.FileName), now)
	})
}
