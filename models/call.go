package models

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Call is a public call for applications (공모). Instants are stored in UTC
// and shown in KST. Version increases on every edit, so a stale form is
// refused instead of overwriting a colleague's change.
type Call struct {
	ID            uint               `gorm:"primaryKey"`
	ProgrammeID   uint               `gorm:"not null;index"`
	Programme     Programme          `gorm:"constraint:OnDelete:RESTRICT"`
	TitleKO       string             `gorm:"size:300;not null"`
	TitleEN       string             `gorm:"size:300;not null"`
	DescriptionKO string             `gorm:"type:text"`
	DescriptionEN string             `gorm:"type:text"`
	OpensAt       time.Time          `gorm:"not null"`
	ClosesAt      time.Time          `gorm:"not null"`
	Slots         int                `gorm:"not null"`
	Version       int                `gorm:"not null;default:1"`
	Criteria      []Criterion        `gorm:"constraint:OnDelete:CASCADE"`
	Documents     []RequiredDocument `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// RemediesKO and RemediesEN state the remedies beyond an objection
	// (불복 고지) that the call's decisions and appeal answers carry; saved
	// empty, they are the default (see Remedies).
	RemediesKO string `gorm:"type:text;not null;default:''"`
	RemediesEN string `gorm:"type:text;not null;default:''"`
}

// Criterion is one scoring criterion of a call: its weight in percent (the
// weights of a call add up to 100) and the top of its scale.
type Criterion struct {
	ID       uint    `gorm:"primaryKey"`
	CallID   uint    `gorm:"not null;index"`
	Position int     `gorm:"not null"`
	NameKO   string  `gorm:"size:200;not null"`
	NameEN   string  `gorm:"size:200;not null"`
	Weight   float64 `gorm:"not null"`
	MaxScore int     `gorm:"not null"`
}

// RequiredDocument is a document an application must (or may) carry.
type RequiredDocument struct {
	ID       uint   `gorm:"primaryKey"`
	CallID   uint   `gorm:"not null;index"`
	Position int    `gorm:"not null"`
	NameKO   string `gorm:"size:200;not null"`
	NameEN   string `gorm:"size:200;not null"`
	Required bool   `gorm:"not null"`
}

// IsOpen reports whether applications are accepted at t: OpensAt ≤ t < ClosesAt.
func (c *Call) IsOpen(t time.Time) bool {
	return !t.Before(c.OpensAt) && t.Before(c.ClosesAt)
}

// IsClosed reports whether the close instant has passed at t.
func (c *Call) IsClosed(t time.Time) bool { return !t.Before(c.ClosesAt) }

// CheckApplying is the rule for starting or submitting an application at
// t: ErrCallNotOpen before the call opens, a *CallClosedError from its close.
func (c *Call) CheckApplying(t time.Time) error {
	if c.IsClosed(t) {
		return &CallClosedError{Closes: c.ClosesAt}
	}
	if t.Before(c.OpensAt) {
		return ErrCallNotOpen
	}
	return nil
}

// FieldErrors maps a form field to the message ID of what is wrong with it.
type FieldErrors map[string]string

// Add records a problem with a field (the first one wins).
func (f FieldErrors) Add(field, messageID string) {
	if _, ok := f[field]; !ok {
		f[field] = messageID
	}
}

// Has reports whether a field has a problem.
func (f FieldErrors) Has(field string) bool { _, ok := f[field]; return ok }

// Any reports whether there is any problem.
func (f FieldErrors) Any() bool { return len(f) > 0 }

// Validate checks a call as an officer wrote it.
func (c *Call) Validate() FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(c.TitleKO) == "" {
		errs.Add("title_ko", "form.required")
	}
	if strings.TrimSpace(c.TitleEN) == "" {
		errs.Add("title_en", "form.required")
	}
	errs.CheckText("title_ko", c.TitleKO, MaxCallTitle, SingleLine)
	errs.CheckText("title_en", c.TitleEN, MaxCallTitle, SingleLine)
	errs.CheckText("description_ko", c.DescriptionKO, MaxCallDescription, MultiLine)
	errs.CheckText("description_en", c.DescriptionEN, MaxCallDescription, MultiLine)
	if c.OpensAt.IsZero() {
		errs.Add("opens_at", "form.datetime")
	}
	if c.ClosesAt.IsZero() {
		errs.Add("closes_at", "form.datetime")
	}
	if !c.OpensAt.IsZero() && !c.ClosesAt.IsZero() && !c.ClosesAt.After(c.OpensAt) {
		errs.Add("closes_at", "call.error.close_before_open")
	}
	if len([]rune(c.RemediesKO)) > maxRemedies {
		errs.Add("remedies_ko", "form.too_long")
	}
	if len([]rune(c.RemediesEN)) > maxRemedies {
		errs.Add("remedies_en", "form.too_long")
	}
	if c.Slots < 1 || c.Slots > 100 {
		errs.Add("slots", "call.error.slots")
	}
	if len(c.Criteria) == 0 {
		errs.Add("criteria", "call.error.no_criteria")
	}
	var sum float64
	for i, cr := range c.Criteria {
		field := fmt.Sprintf("criteria.%d", i)
		if strings.TrimSpace(cr.NameKO) == "" || strings.TrimSpace(cr.NameEN) == "" {
			errs.Add(field, "call.error.criterion_name")
		}
		errs.CheckText(field, cr.NameKO, MaxCriterionName, SingleLine)
		errs.CheckText(field, cr.NameEN, MaxCriterionName, SingleLine)
		// Written so that NaN fails too; ±Inf fails the upper bound.
		if !(cr.Weight > 0 && cr.Weight <= 100) {
			errs.Add(field, "call.error.criterion_weight")
		}
		if cr.MaxScore < 1 || cr.MaxScore > 1000 {
			errs.Add(field, "call.error.criterion_scale")
		}
		sum += cr.Weight
	}
	if len(c.Criteria) > 0 && math.Abs(sum-100) > 1e-6 {
		errs.Add("criteria", "call.error.weights_sum")
	}
	for i, d := range c.Documents {
		field := fmt.Sprintf("documents.%d", i)
		if strings.TrimSpace(d.NameKO) == "" || strings.TrimSpace(d.NameEN) == "" {
			errs.Add(field, "call.error.document_name")
		}
		errs.CheckText(field, d.NameKO, MaxDocumentName, SingleLine)
		errs.CheckText(field, d.NameEN, MaxDocumentName, SingleLine)
	}
	return errs
}

// GetCall loads a call with its criteria and documents in order.
func GetCall(ctx context.Context, db *gorm.DB, id uint) (*Call, error) {
	var c Call
	err := db.WithContext(ctx).Preload("Programme").
		Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		Preload("Documents", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		First(&c, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: call %d", id), err)
	}
	return &c, nil
}

// ListCalls returns the calls, newest first.
func ListCalls(ctx context.Context, db *gorm.DB) ([]Call, error) {
	var calls []Call
	if err := db.WithContext(ctx).Preload("Programme").Order("opens_at DESC").Find(&calls).Error; err != nil {
		return nil, fmt.Errorf("store: list calls: %w", err)
	}
	return calls, nil
}

// SaveCall creates a call, or updates it if its version still matches the
// one the editor loaded (ErrConflict otherwise). Criteria and documents are
// replaced whole, position by position: a row keeps its ID where the list
// still has one at its place, so that the scores and attached documents
// that refer to those IDs survive an edit. Once applications were
// submitted, the criteria of a call may no longer change:
// ErrInvalidTransition.
func SaveCall(ctx context.Context, db *gorm.DB, c *Call, by *User, now time.Time) error {
	if errs := c.Validate(); errs.Any() {
		return fmt.Errorf("store: save call: %w", ErrInvalid)
	}
	c.RemediesKO, c.RemediesEN = c.Remedies()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i := range c.Criteria {
			c.Criteria[i].ID, c.Criteria[i].Position = 0, i+1
		}
		for i := range c.Documents {
			c.Documents[i].ID, c.Documents[i].Position = 0, i+1
		}
		action := "call.create"
		if c.ID == 0 {
			c.Version = 1
			if err := tx.Omit("Criteria", "Documents").Create(c).Error; err != nil {
				return fmt.Errorf("store: create call: %w", err)
			}
		} else {
			action = "call.update"
			var submitted int64
			if err := tx.Model(&Application{}).Where("call_id = ? AND status <> ?", c.ID, StatusDraft).
				Count(&submitted).Error; err != nil {
				return fmt.Errorf("store: update call: %w", err)
			}
			var old Call
			if err := tx.Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
				Preload("Documents", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).First(&old, c.ID).Error; err != nil {
				return notFound("store: update call", err)
			}
			if submitted > 0 && !sameCriteria(old.Criteria, c.Criteria) {
				return fmt.Errorf("store: update call %d: criteria are fixed once applications are submitted: %w", c.ID, ErrInvalidTransition)
			}
			res := tx.Model(&Call{}).Where("id = ? AND version = ?", c.ID, c.Version).Updates(map[string]any{
				"title_ko": c.TitleKO, "title_en": c.TitleEN, "description_ko": c.DescriptionKO,
				"description_en": c.DescriptionEN, "opens_at": c.OpensAt.UTC(), "closes_at": c.ClosesAt.UTC(),
				"slots": c.Slots, "remedies_ko": c.RemediesKO, "remedies_en": c.RemediesEN, "version": c.Version + 1, "updated_at": now.UTC(),
			})
			if res.Error != nil {
				return fmt.Errorf("store: update call %d: %w", c.ID, res.Error)
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("store: update call %d: changed since it was loaded: %w", c.ID, ErrConflict)
			}
			c.Version++
			for i := range c.Criteria[:min(len(c.Criteria), len(old.Criteria))] {
				c.Criteria[i].ID = old.Criteria[i].ID
			}
			for i := range c.Documents[:min(len(c.Documents), len(old.Documents))] {
				c.Documents[i].ID = old.Documents[i].ID
			}
			for _, o := range old.Criteria[min(len(c.Criteria), len(old.Criteria)):] {
				if err := tx.Delete(&Criterion{}, o.ID).Error; err != nil {
					return err
				}
			}
			for _, o := range old.Documents[min(len(c.Documents), len(old.Documents)):] {
				if err := tx.Delete(&RequiredDocument{}, o.ID).Error; err != nil {
					return err
				}
			}
		}
		for i := range c.Criteria {
			c.Criteria[i].CallID = c.ID
		}
		for i := range c.Documents {
			c.Documents[i].CallID = c.ID
		}
		for i := range c.Criteria {
			if err := saveRow(tx, &c.Criteria[i], c.Criteria[i].ID); err != nil {
				return fmt.Errorf("store: save criteria: %w", err)
			}
		}
		for i := range c.Documents {
			if err := saveRow(tx, &c.Documents[i], c.Documents[i].ID); err != nil {
				return fmt.Errorf("store: save documents: %w", err)
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), action, "call", fmt.Sprint(c.ID),
			fmt.Sprintf("%s; opens %s, closes %s; %d slots; %d criteria", c.TitleKO,
				c.OpensAt.In(KST).Format(time.RFC3339), c.ClosesAt.In(KST).Format(time.RFC3339), c.Slots, len(c.Criteria)), now)
	})
}

// saveRow updates a row that has an ID and inserts one that has none.
func saveRow(tx *gorm.DB, row any, id uint) error {
	if id == 0 {
		return tx.Create(row).Error
	}
	return tx.Save(row).Error
}

func sameCriteria(a, b []Criterion) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].NameKO != b[i].NameKO || a[i].Weight != b[i].Weight || a[i].MaxScore != b[i].MaxScore {
			return false
		}
	}
	return true
}
