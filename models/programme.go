package models

import (
	"context"
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
