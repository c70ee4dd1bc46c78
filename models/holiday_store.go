package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ExtraHoliday is a one-off public holiday an administrator added (a
// temporary holiday the government designates after the built-in table was
// written). Removing one keeps the row: windows computed while it stood
// must be reproducible.
type ExtraHoliday struct {
	ID          uint      `gorm:"primaryKey"`
	Date        string    `gorm:"size:10;not null;index"` // 2006-01-02, KST
	NameKO      string    `gorm:"size:100;not null"`
	NameEN      string    `gorm:"size:100;not null"`
	AddedByID   uint      `gorm:"not null"`
	AddedAt     time.Time `gorm:"not null"`
	RemovedByID *uint
	RemovedAt   *time.Time
}

// InEffect reports whether the holiday stood at instant t.
func (h ExtraHoliday) InEffect(t time.Time) bool {
	return h.AddedAt.Before(t) && (h.RemovedAt == nil || !h.RemovedAt.Before(t))
}

// HolidaysAt is the set of one-off holidays that stood at instant t.
func HolidaysAt(extras []ExtraHoliday, t time.Time) HolidaySet {
	set := HolidaySet{}
	for _, h := range extras {
		if !h.InEffect(t) {
			continue
		}
		if d, err := ParseDate(h.Date); err == nil {
			set[d] = h.NameKO
		}
	}
	return set
}

// AppealWindowAsOf computes a decision's window at now with the one-off
// holidays as they stood when it mattered: for a window still open, the
// holidays standing now; for one that has closed, those standing when it
// closed — so adding or removing a holiday later never moves a window that
// has already closed. The set of holidays changes only at the instants one
// was added or removed, and stays the same on each interval (e, next e]
// between them (see InEffect); the intervals are walked in order up to
// now, and the first one in which the window, as computed with that
// interval's holidays, had closed decides it for good.
func AppealWindowAsOf(announced time.Time, days int, rule CountingRule, base HolidayCalendar, extras []ExtraHoliday, now time.Time) (Window, error) {
	var changes []time.Time
	for _, h := range extras {
		changes = append(changes, h.AddedAt)
		if h.RemovedAt != nil {
			changes = append(changes, *h.RemovedAt)
		}
	}
	slices.SortFunc(changes, time.Time.Compare)
	for _, end := range append(changes, now) {
		if end.After(now) {
			break
		}
		w, err := AppealWindow(announced, days, rule, WithExtra(base, HolidaysAt(extras, end)))
		if err != nil {
			return Window{}, err
		}
		if !w.Closes.After(end) || end.Equal(now) {
			return w, nil
		}
	}
	return AppealWindow(announced, days, rule, WithExtra(base, HolidaysAt(extras, now)))
}

// ListExtraHolidays returns every one-off holiday, removed ones included, by date.
func ListExtraHolidays(ctx context.Context, db *gorm.DB) ([]ExtraHoliday, error) {
	var hs []ExtraHoliday
	if err := db.WithContext(ctx).Order("date, id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("store: list holidays: %w", err)
	}
	return hs, nil
}

// ValidateHoliday checks an administrator's input.
func ValidateHoliday(date, nameKO, nameEN string) FieldErrors {
	errs := FieldErrors{}
	if _, err := ParseDate(strings.TrimSpace(date)); err != nil {
		errs.Add("date", "holiday.error.date")
	}
	if strings.TrimSpace(nameKO) == "" {
		errs.Add("name_ko", "form.required")
	}
	if strings.TrimSpace(nameEN) == "" {
		errs.Add("name_en", "form.required")
	}
	errs.CheckText("name_ko", strings.TrimSpace(nameKO), MaxHolidayName, SingleLine)
	errs.CheckText("name_en", strings.TrimSpace(nameEN), MaxHolidayName, SingleLine)
	return errs
}

// AddExtraHoliday records a one-off holiday (ErrConflict if the date
// already has one standing).
func AddExtraHoliday(ctx context.Context, db *gorm.DB, date, nameKO, nameEN string, by *User, now time.Time) (*ExtraHoliday, error) {
	if errs := ValidateHoliday(date, nameKO, nameEN); errs.Any() {
		return nil, fmt.Errorf("store: add holiday: %w", ErrInvalid)
	}
	d, _ := ParseDate(strings.TrimSpace(date))
	h := &ExtraHoliday{Date: d.String(), NameKO: strings.TrimSpace(nameKO), NameEN: strings.TrimSpace(nameEN),
		AddedByID: by.ID, AddedAt: now.UTC()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&ExtraHoliday{}).Where("date = ? AND removed_at IS NULL", h.Date).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: add holiday %s: already listed: %w", h.Date, ErrConflict)
		}
		if err := tx.Create(h).Error; err != nil {
			return fmt.Errorf("store: add holiday: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.add", "holiday", h.Date, h.NameKO+" / "+h.NameEN, now)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// RemoveExtraHoliday withdraws a one-off holiday from now on.
func RemoveExtraHoliday(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var h ExtraHoliday
		if err := tx.First(&h, id).Error; err != nil {
			return notFound("store: remove holiday", err)
		}
		if h.RemovedAt != nil {
			return fmt.Errorf("store: remove holiday %d: already removed: %w", id, ErrInvalidTransition)
		}
		at := now.UTC()
		if err := tx.Model(&h).Updates(map[string]any{"removed_at": at, "removed_by_id": by.ID}).Error; err != nil {
			return fmt.Errorf("store: remove holiday: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.remove", "holiday", h.Date, h.NameKO, now)
	})
}

// DecisionWindow is the appeal window of a published decision, with the
// built-in Korean holidays and the one-off ones as they stood (see
// AppealWindowAsOf). An explicit closing instant in the notice overrides.
func DecisionWindow(ctx context.Context, db *gorm.DB, d *Decision, now time.Time) (Window, error) {
	if d.ExplicitClose != nil {
		return AppealWindowUntil(d.PublishedAt, *d.ExplicitClose)
	}
	extras, err := ListExtraHolidays(ctx, db)
	if err != nil {
		return Window{}, err
	}
	return AppealWindowAsOf(d.PublishedAt, AppealDays, d.CountingRule, KoreanHolidays, extras, now)
}

// AppealDays is the length of the objection period: 10 days from the announcement.
const AppealDays = 10
