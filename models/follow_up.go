package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Follow-up for the applicants not selected: for each applicant the
// call's current selection ranked after the slots (ranks 6–10 and the
// rest), the follow-up programme the ministry proposes (a specialised-model
// programme, for instance), the contact, where it stands and notes.
// Officers keep them; each company reads only its own.

// ActionFollowUpSave is the audit action of a follow-up entry.
const ActionFollowUpSave = "follow_up.save"

// FollowUpStatus is where a follow-up stands.
type FollowUpStatus string

// Follow-up statuses.
const (
	FollowUpProposed FollowUpStatus = "proposed"
	FollowUpAccepted FollowUpStatus = "accepted"
	FollowUpDeclined FollowUpStatus = "declined"
	FollowUpStarted  FollowUpStatus = "started"
)

// FollowUpStatuses lists every status.
var FollowUpStatuses = []FollowUpStatus{FollowUpProposed, FollowUpAccepted, FollowUpDeclined, FollowUpStarted}

// FollowUp is the follow-up of one applicant not selected in a call.
type FollowUp struct {
	ID             uint           `gorm:"primaryKey"`
	CallID         uint           `gorm:"not null;uniqueIndex:idx_follow_up_call_org"`
	Call           Call           `gorm:"foreignKey:CallID"`
	OrganisationID uint           `gorm:"not null;uniqueIndex:idx_follow_up_call_org;index"`
	Organisation   Organisation   `gorm:"foreignKey:OrganisationID"`
	Rank           int            `gorm:"not null"` // in the selection when last saved
	Programme      string         `gorm:"size:200;not null"`
	Contact        string         `gorm:"size:200;not null"`
	Status         FollowUpStatus `gorm:"size:16;not null"`
	Notes          string         `gorm:"type:text;not null;default:''"`
	UpdatedByID    uint           `gorm:"not null"`
	UpdatedAt      time.Time
}

// MaySee reports whether u may read the entry: the company it concerns,
// the ministry and auditors.
func (f *FollowUp) MaySee(u *User) bool { return u.MaySeeOrganisation(f.OrganisationID) }

// FollowUpInput is the form of an entry as sent.
type FollowUpInput struct {
	Programme, Contact, Status, Notes string
}

// ErrSelected refuses a follow-up for an applicant the call selected.
var ErrSelected = fmt.Errorf("the applicant was selected: %w", ErrConflict)

// SaveFollowUp records (or replaces) the follow-up of an applicant the
// call's current selection ranked after the slots.
func SaveFollowUp(ctx context.Context, db *gorm.DB, callID, orgID uint, in FollowUpInput, by *User, now time.Time) (*FollowUp, error) {
	errs := FieldErrors{}
	f := &FollowUp{CallID: callID, OrganisationID: orgID, Programme: textField(errs, "programme", in.Programme, 200),
		Contact: textField(errs, "contact", in.Contact, 200), Status: FollowUpStatus(in.Status), Notes: strings.TrimSpace(in.Notes),
		UpdatedByID: by.ID, UpdatedAt: now.UTC()}
	if !slices.Contains(FollowUpStatuses, f.Status) {
		errs.Add("status", "support.error.status")
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		d, err := CurrentSelection(ctx, tx, callID)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("store: follow-up of call %d: no selection: %w", callID, ErrNotFound)
		}
		e, ok := d.Entry(orgID)
		if !ok {
			return fmt.Errorf("store: follow-up: organisation %d not ranked in call %d: %w", orgID, callID, ErrNotFound)
		}
		if e.Selected {
			return fmt.Errorf("store: follow-up of organisation %d: %w", orgID, ErrSelected)
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		f.Rank = e.Rank
		var old FollowUp
		err = tx.Where("call_id = ? AND organisation_id = ?", callID, orgID).First(&old).Error
		switch {
		case err == nil:
			f.ID = old.ID
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("store: follow-up of organisation %d: %w", orgID, err)
		}
		if err := tx.Select("*").Omit("Call", "Organisation").Save(f).Error; err != nil {
			return fmt.Errorf("store: save follow-up: %w", err)
		}
		before := "none"
		if old.ID != 0 {
			before = fmt.Sprintf("%q %s", old.Programme, old.Status)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionFollowUpSave, "follow_up", fmt.Sprint(f.ID),
			fmt.Sprintf("call %d, organisation %d (rank %d): %s → %q %s", callID, orgID, f.Rank, before, f.Programme, f.Status), now)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// CallFollowUps returns the call's follow-up entries by organisation.
func CallFollowUps(ctx context.Context, db *gorm.DB, callID uint) (map[uint]FollowUp, error) {
	var fs []FollowUp
	if err := db.WithContext(ctx).Where("call_id = ?", callID).Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("store: follow-ups of call %d: %w", callID, err)
	}
	out := make(map[uint]FollowUp, len(fs))
	for _, f := range fs {
		out[f.OrganisationID] = f
	}
	return out, nil
}

// ListFollowUps returns the follow-up entries u may see (a company its
// own), with their calls, the latest first.
func ListFollowUps(ctx context.Context, db *gorm.DB, u *User) ([]FollowUp, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Call").Preload("Organisation")
	if own != nil {
		q = q.Where("organisation_id = ?", *own)
	}
	var out []FollowUp
	if err := q.Order("call_id DESC, rank, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: follow-ups: %w", err)
	}
	return out, nil
}
