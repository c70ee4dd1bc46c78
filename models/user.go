package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DemoIssuer is the issuer recorded on the seeded demo users.
const DemoIssuer = "demo"

// User is a person who signs in. Issuer and subject identify them at their
// identity provider; role and organisation come from its claims.
type User struct {
	ID             uint          `gorm:"primaryKey"`
	Issuer         string        `gorm:"size:255;not null;uniqueIndex:idx_users_identity"`
	Subject        string        `gorm:"size:255;not null;uniqueIndex:idx_users_identity"`
	Email          string        `gorm:"size:255"`
	Name           string        `gorm:"size:200;not null"`
	Role           Role          `gorm:"size:16;not null"`            // the role the user acts with: EffectiveRole(ProviderRole, RoleOverride)
	ProviderRole   Role          `gorm:"size:16;not null;default:''"` // what the identity provider's claims map to, as last seen
	RoleOverride   Role          `gorm:"size:16;not null;default:''"` // set by an administrator in the portal; empty: none
	OrganisationID *uint         `gorm:"index"`
	Organisation   *Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	LastLoginAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DisplayName is the name shown in the header and the audit trail.
func (u *User) DisplayName() string {
	if u == nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// MaySeeOrganisation reports whether the user may read the data of an
// organisation: the ministry and auditors see all, a company user only their
// own, an external evaluator (RoleReviewer) none: they read only the
// applications assigned to them (GetApplicationToReview). It is the one visibility rule; the MaySee methods of what belongs to
// an organisation, and the lists (OrganisationScope), apply it.
func (u *User) MaySeeOrganisation(orgID uint) bool {
	own, ok := u.OrganisationScope()
	return ok && (own == nil || *own == orgID)
}

// OrganisationScope is MaySeeOrganisation for lists: own is nil when the
// user may see every organisation's data (the ministry and auditors), else
// the one organisation they may see (a company user's own); ok is false
// for a user who may see none (nobody, an external evaluator, or a company
// user without an organisation).
func (u *User) OrganisationScope() (own *uint, ok bool) {
	if u == nil {
		return nil, false
	}
	switch u.Role {
	case RoleOfficer, RoleAdmin, RoleAuditor:
		return nil, true
	case RoleCompany:
		return u.OrganisationID, u.OrganisationID != nil
	}
	return nil, false
}

// Identity is what an identity provider says about a person at sign-in.
type Identity struct {
	Issuer, Subject, Email, Name string
	Role                         Role
	OrganisationID               *uint
}

// Validate checks that the identity can become a user: a role, and an
// organisation for company users.
func (id Identity) Validate() error {
	if id.Issuer == "" || id.Subject == "" {
		return fmt.Errorf("identity: issuer and subject are required")
	}
	if !id.Role.Valid() {
		return fmt.Errorf("identity: %w: no portal role", ErrForbidden)
	}
	if id.Role == RoleCompany && id.OrganisationID == nil {
		return fmt.Errorf("identity: %w: a company user needs an organisation", ErrForbidden)
	}
	return nil
}

// UpsertUser creates or updates the user for an identity, in tx.
func UpsertUser(ctx context.Context, tx *gorm.DB, id Identity, now time.Time) (*User, error) {
	if err := id.Validate(); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(id.Name)
	if name == "" {
		name = id.Email
	}
	// A role set in the portal outlives sign-ins (EffectiveRole).
	var overrides []string
	if err := tx.WithContext(ctx).Model(&User{}).Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).
		Pluck("role_override", &overrides).Error; err != nil {
		return nil, fmt.Errorf("store: upsert user %s/%s: %w", id.Issuer, id.Subject, err)
	}
	var override Role
	if len(overrides) == 1 {
		override = Role(overrides[0])
	}
	u := User{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: name, Role: EffectiveRole(id.Role, override),
		ProviderRole: id.Role, OrganisationID: id.OrganisationID, LastLoginAt: &now}
	err := tx.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "issuer"}, {Name: "subject"}},
		DoUpdates: clause.AssignmentColumns([]string{"email", "name", "role", "provider_role", "organisation_id",
			"last_login_at", "updated_at"}),
	}).Create(&u).Error
	if err != nil {
		return nil, fmt.Errorf("store: upsert user %s/%s: %w", id.Issuer, id.Subject, err)
	}
	// The ID is not returned on conflict by every driver: load the row.
	return getUserBy(ctx, tx, "issuer = ? AND subject = ?", id.Issuer, id.Subject)
}

// GetUser loads a user with their organisation.
func GetUser(ctx context.Context, db *gorm.DB, id uint) (*User, error) {
	return getUserBy(ctx, db, "users.id = ?", id)
}

func getUserBy(ctx context.Context, db *gorm.DB, query string, args ...any) (*User, error) {
	var u User
	if err := db.WithContext(ctx).Preload("Organisation").Where(query, args...).First(&u).Error; err != nil {
		return nil, notFound("store: user", err)
	}
	return &u, nil
}

// ListUsers returns every user, ministry first.
func ListUsers(ctx context.Context, db *gorm.DB) ([]User, error) {
	var users []User
	if err := db.WithContext(ctx).Preload("Organisation").Order("role, name").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// ListDemoUsers returns the seeded demo users, for the demo sign-in page.
func ListDemoUsers(ctx context.Context, db *gorm.DB) ([]User, error) {
	var users []User
	err := db.WithContext(ctx).Preload("Organisation").Where("issuer = ?", DemoIssuer).Order("id").Find(&users).Error
	if err != nil {
		return nil, fmt.Errorf("store: list demo users: %w", err)
	}
	return users, nil
}

// ListOrganisationUsers returns the users of one organisation.
func ListOrganisationUsers(ctx context.Context, db *gorm.DB, orgID uint) ([]User, error) {
	var users []User
	if err := db.WithContext(ctx).Where("organisation_id = ?", orgID).Order("name").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("store: list users of organisation %d: %w", orgID, err)
	}
	return users, nil
}
