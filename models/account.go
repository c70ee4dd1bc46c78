package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Audit actions on users' accounts.
const (
	ActionUserRoleSet       = "user.role_set"       // an administrator set or cleared a role in the portal
	ActionUserRoleSynced    = "user.role_synced"    // the provider's answer changed the role or organisation
	ActionUserSessionsEnded = "user.sessions_ended" // sessions ended by an administrator or by a re-check
)

// Why the provider's claims give no access.
var (
	ErrNoRole       = fmt.Errorf("%w: no portal role in the provider's claims", ErrForbidden)
	ErrNotApplicant = fmt.Errorf("%w: the organisation claim names no applicant organisation", ErrForbidden)
)

// Why a role cannot be set in the portal.
var (
	ErrOwnRole     = fmt.Errorf("%w: administrators cannot change their own role", ErrInvalid)
	ErrCompanyRole = fmt.Errorf("%w: a company user's role comes from the identity provider", ErrInvalid)
)

// EffectiveRole is the role a user acts with: the one an administrator set
// in the portal, if any, else the provider's. A company user's role always
// comes from the provider, since it binds them to their organisation, so an
// override applies only between the ministry's, the auditors' and the
// external evaluators' roles.
func EffectiveRole(provider, override Role) Role {
	if override.Valid() && override != RoleCompany && provider.Valid() && provider != RoleCompany {
		return override
	}
	return provider
}

// ResolveRole maps what the provider says about a person to a portal role
// and, for a company user, the organisation the organisation claim names. No
// mapped role is ErrNoRole; a company user whose claim names no organisation,
// an unknown one, or one that is not an applicant (the ministry, say) is
// ErrNotApplicant: they would otherwise act for an organisation that never applies.
func ResolveRole(ctx context.Context, db *gorm.DB, values []string, roleMap map[string]string, orgCode string) (Role, *Organisation, error) {
	role, ok := RoleFromClaims(values, roleMap)
	if !ok {
		return "", nil, ErrNoRole
	}
	if role != RoleCompany {
		return role, nil, nil
	}
	if orgCode == "" {
		return role, nil, ErrNotApplicant
	}
	org, err := GetOrganisationByCode(ctx, db, orgCode)
	if errors.Is(err, ErrNotFound) {
		return role, nil, ErrNotApplicant
	}
	if err != nil {
		return role, nil, err
	}
	if !org.IsApplicant() {
		return role, org, ErrNotApplicant
	}
	return role, org, nil
}

// UserAccount is a user with their live sessions, for administrators.
type UserAccount struct {
	User     User
	Sessions []Session
}

// ListUserAccounts returns every user, ministry first, with the sessions
// that are live at now.
func ListUserAccounts(ctx context.Context, db *gorm.DB, now time.Time, p SessionPolicy) ([]UserAccount, error) {
	users, err := ListUsers(ctx, db)
	if err != nil {
		return nil, err
	}
	sessions, err := liveSessions(ctx, db, now, p, "1 = 1")
	if err != nil {
		return nil, err
	}
	byUser := map[uint][]Session{}
	for _, s := range sessions {
		byUser[s.UserID] = append(byUser[s.UserID], s)
	}
	out := make([]UserAccount, len(users))
	for i, u := range users {
		out[i] = UserAccount{User: u, Sessions: byUser[u.ID]}
	}
	return out, nil
}

// GetUserAccount loads one user with their live sessions.
func GetUserAccount(ctx context.Context, db *gorm.DB, id uint, now time.Time, p SessionPolicy) (*UserAccount, error) {
	u, err := GetUser(ctx, db, id)
	if err != nil {
		return nil, err
	}
	sessions, err := liveSessions(ctx, db, now, p, "user_id = ?", id)
	if err != nil {
		return nil, err
	}
	return &UserAccount{User: *u, Sessions: sessions}, nil
}

func liveSessions(ctx context.Context, db *gorm.DB, now time.Time, p SessionPolicy, where string, args ...any) ([]Session, error) {
	now = now.UTC()
	var sessions []Session
	err := db.WithContext(ctx).Where(where, args...).
		Where("expires_at > ? AND last_seen_at > ?", now, now.Add(-p.Idle)).
		Order("last_seen_at DESC").Find(&sessions).Error
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return sessions, nil
}

// SetUserRole sets (or, with "", clears) the role an administrator gives a
// user in the portal, with its audit row. The user row is what every request
// reads, so live sessions act with the new role from their next request.
func SetUserRole(ctx context.Context, db *gorm.DB, userID uint, override Role, by *User, now time.Time) (*User, error) {
	if override != "" && (!override.Valid() || override == RoleCompany) {
		return nil, fmt.Errorf("store: set role %q: %w", override, ErrInvalid)
	}
	if by != nil && by.ID == userID {
		return nil, ErrOwnRole
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if override != "" && u.ProviderRole == RoleCompany {
			return ErrCompanyRole
		}
		role := EffectiveRole(u.ProviderRole, override)
		if err := tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"role_override": override, "role": role, "updated_at": now.UTC()}).Error; err != nil {
			return fmt.Errorf("store: set role of user %d: %w", u.ID, err)
		}
		how := "set in the portal"
		if override == "" {
			how = "the provider's role restored"
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionUserRoleSet, "user", strconv.FormatUint(uint64(u.ID), 10),
			fmt.Sprintf("%s: role %s → %s (%s)", u.DisplayName(), u.Role, role, how), now)
	})
	if err != nil {
		return nil, err
	}
	return GetUser(ctx, db, userID)
}

// ConfirmRole records the provider's fresh answer about a signed-in user:
// their provider role and organisation (changed ones with an audit row), and
// on the session the time of the check and the provider's new tokens. It
// returns the user as the session must now see them.
func ConfirmRole(ctx context.Context, db *gorm.DB, sessionID string, userID uint, role Role, orgID *uint,
	providerToken string, now time.Time) (*User, error) {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The session's row first, the audit row last: ending a user's
		// sessions deletes their rows before its own audit row.
		err := tx.Model(&Session{}).Where("id = ?", sessionID).Updates(map[string]any{
			"role_checked_at": now.UTC(), "recheck_started_at": nil, "provider_token": providerToken}).Error
		if err != nil {
			return fmt.Errorf("store: record role re-check: %w", err)
		}
		u, err := GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		effective := EffectiveRole(role, u.RoleOverride)
		if u.ProviderRole != role || u.Role != effective || !sameOrganisation(u.OrganisationID, orgID) {
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"provider_role": role,
				"role": effective, "organisation_id": orgID, "updated_at": now.UTC()}).Error; err != nil {
				return fmt.Errorf("store: update role of user %d: %w", u.ID, err)
			}
			err := RecordAudit(ctx, tx, Actor{Label: "identity provider"}, ActionUserRoleSynced, "user",
				strconv.FormatUint(uint64(u.ID), 10), fmt.Sprintf("%s: role %s → %s, organisation %s → %s (re-check with the provider)",
					u.DisplayName(), u.Role, effective, orgLabel(u.OrganisationID), orgLabel(orgID)), now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return GetUser(ctx, db, userID)
}

func sameOrganisation(a, b *uint) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func orgLabel(id *uint) string {
	if id == nil {
		return "none"
	}
	return "#" + strconv.FormatUint(uint64(*id), 10)
}

// EndUserSessions ends every session of a user at once, with an audit row
// that says who and why; it returns how many ended.
func EndUserSessions(ctx context.Context, db *gorm.DB, userID uint, by Actor, reason string, now time.Time) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("user_id = ?", userID).Delete(&Session{})
		if res.Error != nil {
			return fmt.Errorf("store: end sessions of user %d: %w", userID, res.Error)
		}
		n = res.RowsAffected
		return RecordAudit(ctx, tx, by, ActionUserSessionsEnded, "user", strconv.FormatUint(uint64(userID), 10),
			fmt.Sprintf("%d session(s) ended: %s", n, reason), now)
	})
	return n, err
}

// EndSession ends one session with an audit row saying why.
func EndSession(ctx context.Context, db *gorm.DB, s *Session, reason string, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := DeleteSession(ctx, tx, s.ID); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, Actor{Label: "system"}, ActionUserSessionsEnded, "user",
			strconv.FormatUint(uint64(s.UserID), 10), "1 session(s) ended: "+reason, now)
	})
}
