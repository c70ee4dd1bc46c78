package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Programme is the national AI programme the portal runs.
type Programme struct {
	ID         uint   `gorm:"primaryKey"`
	Code       string `gorm:"size:64;not null;uniqueIndex"`
	NameKO     string `gorm:"size:200;not null"`
	NameEN     string `gorm:"size:200;not null"`
	MinistryKO string `gorm:"size:200;not null"`
	MinistryEN string `gorm:"size:200;not null"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// CurrentProgramme returns the programme (the portal runs one).
func CurrentProgramme(ctx context.Context, db *gorm.DB) (*Programme, error) {
	var p Programme
	if err := db.WithContext(ctx).Order("id").First(&p).Error; err != nil {
		return nil, notFound("store: programme", err)
	}
	return &p, nil
}

// GetProgrammeByCode loads the programme with the given code.
func GetProgrammeByCode(ctx context.Context, db *gorm.DB, code string) (*Programme, error) {
	var p Programme
	if err := db.WithContext(ctx).Where("code = ?", code).First(&p).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: programme %q", code), err)
	}
	return &p, nil
}

// CreateProgramme stores a new programme and its first call, as whoever
// loads the programme (the demo seed, or an operator's import) writes them:
// the call's criteria and documents are set afterwards with SaveCall. It
// records no audit row; the caller records one for what it loaded, in the
// same transaction.
func CreateProgramme(ctx context.Context, tx *gorm.DB, p *Programme, first *Call) error {
	tx = tx.WithContext(ctx)
	if err := tx.Create(p).Error; err != nil {
		return fmt.Errorf("store: create programme %s: %w", p.Code, err)
	}
	first.ProgrammeID = p.ID
	if err := tx.Omit("Criteria", "Documents").Create(first).Error; err != nil {
		return fmt.Errorf("store: create call of programme %s: %w", p.Code, err)
	}
	return nil
}
