package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Organisation kinds.
const (
	OrgCompany    = "company"
	OrgUniversity = "university"
	OrgMinistry   = "ministry"
)

// Organisation is a company, university or public body that takes part in
// the programme. Company users belong to exactly one.
type Organisation struct {
	ID            uint   `gorm:"primaryKey"`
	Code          string `gorm:"size:64;not null;uniqueIndex"` // stable slug; the OIDC organisation claim names it
	NameKO        string `gorm:"size:200;not null"`
	NameEN        string `gorm:"size:200;not null"`
	Kind          string `gorm:"size:32;not null"`
	BusinessRegNo string `gorm:"size:16"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ValidateOrganisationNames checks the names typed for an organisation
// that is to be registered (a consortium member given by name).
func ValidateOrganisationNames(nameKO, nameEN string) FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(nameKO) == "" {
		errs.Add("name_ko", "form.required")
	}
	if strings.TrimSpace(nameEN) == "" {
		errs.Add("name_en", "form.required")
	}
	errs.CheckText("name_ko", nameKO, MaxOrganisationName, SingleLine)
	errs.CheckText("name_en", nameEN, MaxOrganisationName, SingleLine)
	return errs
}

// ListOrganisations returns every organisation by Korean name.
func ListOrganisations(ctx context.Context, db *gorm.DB) ([]Organisation, error) {
	var orgs []Organisation
	if err := db.WithContext(ctx).Order("name_ko").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("store: list organisations: %w", err)
	}
	return orgs, nil
}

// GetOrganisation loads one organisation.
func GetOrganisation(ctx context.Context, db *gorm.DB, id uint) (*Organisation, error) {
	var o Organisation
	if err := db.WithContext(ctx).First(&o, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: organisation %d", id), err)
	}
	return &o, nil
}

// GetOrganisationByCode loads the organisation with the given code.
func GetOrganisationByCode(ctx context.Context, db *gorm.DB, code string) (*Organisation, error) {
	var o Organisation
	if err := db.WithContext(ctx).Where("code = ?", code).First(&o).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: organisation %q", code), err)
	}
	return &o, nil
}

// EnsureOrganisation returns in o the organisation with o's code, storing
// o as a new organisation when there is none; created reports whether it
// did. It records no audit row: the caller that registers organisations
// records one for them, in the same transaction.
func EnsureOrganisation(ctx context.Context, tx *gorm.DB, o *Organisation) (created bool, err error) {
	res := tx.WithContext(ctx).Where(Organisation{Code: o.Code}).FirstOrCreate(o)
	if res.Error != nil {
		return false, fmt.Errorf("store: organisation %s: %w", o.Code, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// notFound wraps a store error, translating gorm's not-found into ErrNotFound.
func notFound(what string, err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// FindOrRegisterOrganisation returns the organisation with the
// business registration number, registering it (with its audit row, in the
// caller's transaction) when there is none.
func FindOrRegisterOrganisation(ctx context.Context, tx *gorm.DB, brn BusinessRegNo, nameKO, nameEN string,
	by *User, now time.Time) (uint, error) {
	var org Organisation
	err := tx.WithContext(ctx).Where("business_reg_no IN ?", []string{string(brn), brn.String()}).Order("id").First(&org).Error
	if err == nil {
		return org.ID, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, fmt.Errorf("store: find organisation by business registration number: %w", err)
	}
	org = Organisation{Code: "brn-" + string(brn), NameKO: nameKO, NameEN: nameEN, Kind: OrgCompany,
		BusinessRegNo: string(brn)}
	if err := tx.WithContext(ctx).Create(&org).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return 0, fmt.Errorf("store: register organisation %s: %w", brn, ErrConflict)
		}
		return 0, fmt.Errorf("store: register organisation %s: %w", brn, err)
	}
	return org.ID, RecordAudit(ctx, tx, ActorOf(by), "organisation.create", "organisation", fmt.Sprint(org.ID),
		fmt.Sprintf("%s (%s), 사업자등록번호 %s, registered as a consortium member", nameKO, nameEN, brn), now)
}

// IsApplicant reports whether the organisation can take part in a call as
// an applicant, leading or in a consortium: a company or a university. The
// ministry and other public bodies cannot, and no company user may belong
// to them.
func (o *Organisation) IsApplicant() bool {
	return o != nil && (o.Kind == OrgCompany || o.Kind == OrgUniversity)
}
