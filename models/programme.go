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

// Call is a public call for applications (공모). Instants are stored in UTC
// and shown in KST.
type Call struct {
	ID            uint      `gorm:"primaryKey"`
	ProgrammeID   uint      `gorm:"not null;index"`
	Programme     Programme `gorm:"constraint:OnDelete:RESTRICT"`
	TitleKO       string    `gorm:"size:300;not null"`
	TitleEN       string    `gorm:"size:300;not null"`
	DescriptionKO string    `gorm:"type:text"`
	DescriptionEN string    `gorm:"type:text"`
	OpensAt       time.Time `gorm:"not null"`
	ClosesAt      time.Time `gorm:"not null"`
	Slots         int       `gorm:"not null"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// IsOpen reports whether applications are accepted at t: OpensAt ≤ t < ClosesAt.
func (c *Call) IsOpen(t time.Time) bool {
	return !t.Before(c.OpensAt) && t.Before(c.ClosesAt)
}

// ListCalls returns the calls, newest first.
func ListCalls(ctx context.Context, db *gorm.DB) ([]Call, error) {
	var calls []Call
	if err := db.WithContext(ctx).Preload("Programme").Order("opens_at DESC").Find(&calls).Error; err != nil {
		return nil, fmt.Errorf("store: list calls: %w", err)
	}
	return calls, nil
}

// CurrentProgramme returns the programme (the portal runs one).
func CurrentProgramme(ctx context.Context, db *gorm.DB) (*Programme, error) {
	var p Programme
	if err := db.WithContext(ctx).Order("id").First(&p).Error; err != nil {
		return nil, notFound("store: programme", err)
	}
	return &p, nil
}
