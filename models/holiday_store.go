package models

import (
	"context"
	"fmt"
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

// AppealWindowAsOf computes a window at now over base and the one-off
// holidays extras as they stood when it mattered (see
// HolidayRecords.WindowAsOf): adding or removing a holiday later never moves
// a window that has already closed.
func AppealWindowAsOf(announced time.Time, days int, rule CountingRule, base HolidayCalendar, extras []ExtraHoliday, now time.Time) (Window, error) {
	w, _, err := HolidayRecords{Extras: extras, base: base}.WindowAsOf(announced, days, rule, now)
	return w, err
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
		if errs, err := CheckExtraHoliday(ctx, tx, date, nameKO, nameEN, now); err != nil {
			return err
		} else if errs.Any() {
			return fmt.Errorf("store: add holiday %s: %w", h.Date, ErrInvalid)
		}
		var n int64
		if err := tx.Model(&ExtraHoliday{}).Where("date = ? AND removed_at IS NULL", h.Date).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: add holiday %s: already listed: %w", h.Date, ErrConflict)
		}
		before, err := LoadHolidayRecords(ctx, tx)
		if err != nil {
			return err
		}
		if err := tx.Create(h).Error; err != nil {
			return fmt.Errorf("store: add holiday: %w", err)
		}
		moves, err := movesSince(ctx, tx, before, now)
		if err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.add", "holiday", h.Date,
			h.NameKO+" / "+h.NameEN+"; "+movesSummary(moves), now)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// CheckExtraHoliday checks a one-off holiday as AddExtraHoliday would add
// it, adding nothing: the input (ValidateHoliday), and the date must not be
// a holiday the built-in and imported lists already give.
func CheckExtraHoliday(ctx context.Context, db *gorm.DB, date, nameKO, nameEN string, now time.Time) (FieldErrors, error) {
	errs := ValidateHoliday(date, nameKO, nameEN)
	d, err := ParseDate(strings.TrimSpace(date))
	if err != nil {
		return errs, nil
	}
	r, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	r.Extras = nil // a one-off holiday on the date is a duplicate (ErrConflict), not this
	if _, listed := r.At(now).IsHoliday(d); listed {
		errs.Add("date", "holiday.error.builtin")
	}
	return errs, nil
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
		before, err := LoadHolidayRecords(ctx, tx)
		if err != nil {
			return err
		}
		at := now.UTC()
		if err := tx.Model(&h).Updates(map[string]any{"removed_at": at, "removed_by_id": by.ID}).Error; err != nil {
			return fmt.Errorf("store: remove holiday: %w", err)
		}
		moves, err := movesSince(ctx, tx, before, now)
		if err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "holiday.remove", "holiday", h.Date, h.NameKO+"; "+movesSummary(moves), now)
	})
}

// movesSince lists the open windows that the change just written in tx at
// now moved, compared with the records before it.
func movesSince(ctx context.Context, tx *gorm.DB, before HolidayRecords, now time.Time) ([]DecisionMove, error) {
	after, err := LoadHolidayRecords(ctx, tx)
	if err != nil {
		return nil, err
	}
	return windowMoves(ctx, tx, before, after, now)
}

// DecisionWindow is the appeal window of a published decision, with the
// holidays as they stood when it mattered (see HolidayRecords.WindowAsOf).
// An explicit closing instant in the notice overrides.
func DecisionWindow(ctx context.Context, db *gorm.DB, d *Decision, now time.Time) (Window, error) {
	w, _, err := DecisionWindowHistory(ctx, db, d, now)
	return w, err
}

// DecisionWindowHistory is DecisionWindow with every move of the closing
// instant that a change of the holidays caused while the window was open.
func DecisionWindowHistory(ctx context.Context, db *gorm.DB, d *Decision, now time.Time) (Window, []WindowChange, error) {
	if d.ExplicitClose != nil {
		w, err := AppealWindowUntil(d.PublishedAt, *d.ExplicitClose)
		return w, nil, err
	}
	r, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return Window{}, nil, err
	}
	return r.DecisionWindow(d, now)
}

// DecisionWindow is the decision's appeal window as the holiday records
// make it at now (the rule DecisionWindowHistory applies, for callers that
// loaded the records once for many decisions).
func (r HolidayRecords) DecisionWindow(d *Decision, now time.Time) (Window, []WindowChange, error) {
	if d.ExplicitClose != nil {
		w, err := AppealWindowUntil(d.PublishedAt, *d.ExplicitClose)
		return w, nil, err
	}
	return r.WindowAsOf(d.PublishedAt, AppealDays, d.CountingRule, now)
}

// AppealDays is the length of the objection period: 10 days from the announcement.
const AppealDays = 10

// HolidayChangesAfter returns the instants after t at which a holiday
// change takes effect (a built-in version, a confirmed list, a one-off
// holiday added or withdrawn): an appeal window computed at t may move then.
func HolidayChangesAfter(ctx context.Context, db *gorm.DB, t time.Time) ([]time.Time, error) {
	r, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, ch := range r.Changes() {
		if ch.At.After(t) {
			out = append(out, ch.At)
		}
	}
	return out, nil
}
