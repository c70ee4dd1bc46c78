package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SessionReader loads the session of each request, with its user and the
// user's organisation and the data version (see dataversion.go), in one
// prepared statement: LoadSession in one read instead of three built by
// gorm.
type SessionReader struct {
	db *gorm.DB
	q  *preparedQuery
}

// sessionQuery reads a session, its user, the user's organisation and the
// data version. Its columns are scanned in this order by scanSession.
const sessionQuery = `SELECT s.id, s.user_id, s.csrf_token, s.id_token, s.created_at, s.last_seen_at, s.expires_at,
  s.provider_token, s.role_checked_at, s.recheck_started_at,
  u.id, u.issuer, u.subject, u.email, u.name, u.role, u.provider_role, u.role_override, u.organisation_id,
  u.last_login_at, u.created_at, u.updated_at,
  o.id, o.code, o.name_ko, o.name_en, o.kind, o.business_reg_no, o.created_at, o.updated_at,
  (SELECT n FROM data_versions WHERE id = 1)
FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN organisations o ON o.id = u.organisation_id
WHERE s.id = ?`

// NewSessionReader loads sessions from db.
func NewSessionReader(db *gorm.DB) *SessionReader {
	q := sessionQuery
	if db.Dialector.Name() == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	return &SessionReader{db: db, q: newPreparedQuery(db, q)}
}

// Load is LoadSession, which also returns the data version as read in the
// same statement (before any read of the page's data that follows).
func (r *SessionReader) Load(ctx context.Context, token string, now time.Time, p SessionPolicy) (*Session, int64, error) {
	if token == "" {
		return nil, 0, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	stmt, err := r.q.stmt(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: session: %w", err)
	}
	s, version, err := scanSession(stmt.QueryRowContext(ctx, p.sessionID(token)))
	if err != nil {
		return nil, 0, notFound("store: session", err)
	}
	if s.Expired(now, p) {
		if err := r.db.WithContext(ctx).Delete(&Session{}, "id = ?", s.ID).Error; err != nil {
			return nil, 0, fmt.Errorf("store: delete expired session: %w", err)
		}
		return nil, 0, fmt.Errorf("store: session expired: %w", ErrNotFound)
	}
	return s, version, nil
}

func scanSession(row *sql.Row) (*Session, int64, error) {
	var (
		s                                         Session
		u                                         = &s.User
		idToken, providerToken, email             sql.NullString
		sCreated, roleChecked, uCreated, uUpdated sql.NullTime
		recheck, lastLogin                        sql.NullTime
		orgID                                     sql.NullInt64
		oID                                       sql.NullInt64
		oCode, oKO, oEN, oKind, oBRN              sql.NullString
		oCreated, oUpdated                        sql.NullTime
		version                                   sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.UserID, &s.CSRFToken, &idToken, &sCreated, &s.LastSeenAt, &s.ExpiresAt,
		&providerToken, &roleChecked, &recheck,
		&u.ID, &u.Issuer, &u.Subject, &email, &u.Name, &u.Role, &u.ProviderRole, &u.RoleOverride, &orgID,
		&lastLogin, &uCreated, &uUpdated,
		&oID, &oCode, &oKO, &oEN, &oKind, &oBRN, &oCreated, &oUpdated,
		&version)
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, 0, gorm.ErrRecordNotFound
		}
		return nil, 0, err
	}
	s.IDToken, s.ProviderToken, u.Email = idToken.String, providerToken.String, email.String
	s.CreatedAt, s.RoleCheckedAt, u.CreatedAt, u.UpdatedAt = sCreated.Time, roleChecked.Time, uCreated.Time, uUpdated.Time
	if recheck.Valid {
		s.RecheckStartedAt = &recheck.Time
	}
	if lastLogin.Valid {
		u.LastLoginAt = &lastLogin.Time
	}
	if orgID.Valid {
		id := uint(orgID.Int64)
		u.OrganisationID = &id
	}
	if oID.Valid {
		u.Organisation = &Organisation{ID: uint(oID.Int64), Code: oCode.String, NameKO: oKO.String, NameEN: oEN.String,
			Kind: oKind.String, BusinessRegNo: oBRN.String, CreatedAt: oCreated.Time, UpdatedAt: oUpdated.Time}
	}
	return &s, version.Int64, nil
}
