package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// SessionReader loads the session of each request, with its user and the
// user's organisation, and the data version (see dataversion.go): one
// prepared statement reads the session row and the version; the user and
// organisation, which are versioned tables, come from memory while the
// version is the one they were read at (another prepared statement reads
// them otherwise). LoadSession costs three statements built by gorm.
type SessionReader struct {
	db      *gorm.DB
	session *preparedQuery
	user    *preparedQuery

	mu    sync.Mutex
	users map[uint]keptUser
}

// keptUser is a user (with the organisation) as read at data version version.
type keptUser struct {
	version int64
	user    User
}

// sessionQuery reads a session and the data version, scanned in this
// order by Load.
const sessionQuery = `SELECT s.user_id, s.csrf_token, s.id_token, s.created_at, s.last_seen_at, s.expires_at,
  s.provider_token, s.role_checked_at, s.recheck_started_at,
  (SELECT n FROM data_versions WHERE id = 1)
FROM sessions s WHERE s.id = ?`

// userQuery reads a user and the user's organisation, scanned in this
// order by scanUser.
const userQuery = `SELECT u.id, u.issuer, u.subject, u.email, u.name, u.role, u.provider_role, u.role_override,
  u.organisation_id, u.last_login_at, u.created_at, u.updated_at,
  o.id, o.code, o.name_ko, o.name_en, o.kind, o.business_reg_no, o.created_at, o.updated_at
FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.id = ?`

// NewSessionReader loads sessions from db.
func NewSessionReader(db *gorm.DB) *SessionReader {
	sq, uq := sessionQuery, userQuery
	if db.Dialector.Name() == "postgres" {
		sq, uq = strings.Replace(sq, "?", "$1", 1), strings.Replace(uq, "?", "$1", 1)
	}
	return &SessionReader{db: db, session: newPreparedQuery(db, sq), user: newPreparedQuery(db, uq),
		users: map[uint]keptUser{}}
}

// Load is LoadSession, which also returns the data version as read with
// the session (before any read of the page's data that follows).
func (r *SessionReader) Load(ctx context.Context, token string, now time.Time, p SessionPolicy) (*Session, int64, error) {
	if token == "" {
		return nil, 0, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	s := &Session{ID: p.sessionID(token)}
	row, err := r.session.row(ctx, s.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("store: session: %w", err)
	}
	var (
		idToken, providerToken sql.NullString
		created, roleChecked   sql.NullTime
		recheck                sql.NullTime
		version                sql.NullInt64
	)
	err = row.Scan(&s.UserID, &s.CSRFToken, &idToken, &created, &s.LastSeenAt, &s.ExpiresAt,
		&providerToken, &roleChecked, &recheck, &version)
	if errors.Is(err, sql.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	if err != nil {
		return nil, 0, notFound("store: session", err)
	}
	s.IDToken, s.ProviderToken = idToken.String, providerToken.String
	s.CreatedAt, s.RoleCheckedAt = created.Time, roleChecked.Time
	if recheck.Valid {
		s.RecheckStartedAt = &recheck.Time
	}
	if s.Expired(now, p) {
		if err := r.db.WithContext(ctx).Delete(&Session{}, "id = ?", s.ID).Error; err != nil {
			return nil, 0, fmt.Errorf("store: delete expired session: %w", err)
		}
		return nil, 0, fmt.Errorf("store: session expired: %w", ErrNotFound)
	}
	if s.User, err = r.loadUser(ctx, s.UserID, version.Int64); err != nil {
		return nil, 0, notFound("store: session's user", err)
	}
	return s, version.Int64, nil
}

// loadUser returns the user id as it stands at data version v, read
// after v was: from memory when it was read at v, else from the database.
func (r *SessionReader) loadUser(ctx context.Context, id uint, v int64) (User, error) {
	r.mu.Lock()
	k, ok := r.users[id]
	r.mu.Unlock()
	if ok && k.version == v {
		return k.user.copy(), nil
	}
	row, err := r.user.row(ctx, id)
	if err != nil {
		return User{}, err
	}
	u, err := scanUser(row)
	if err != nil {
		return User{}, err
	}
	r.mu.Lock()
	if old, ok := r.users[id]; !ok || old.version <= v {
		r.users[id] = keptUser{version: v, user: u.copy()}
	}
	r.mu.Unlock()
	return u, nil
}

// copy is the user with a copy of its organisation, so that no two
// requests share one.
func (u User) copy() User {
	if u.Organisation != nil {
		o := *u.Organisation
		u.Organisation = &o
	}
	if u.OrganisationID != nil {
		id := *u.OrganisationID
		u.OrganisationID = &id
	}
	if u.LastLoginAt != nil {
		t := *u.LastLoginAt
		u.LastLoginAt = &t
	}
	return u
}

func scanUser(row *sql.Row) (User, error) {
	var (
		u                             User
		email                         sql.NullString
		uCreated, uUpdated, lastLogin sql.NullTime
		orgID, oID                    sql.NullInt64
		oCode, oKO, oEN, oKind, oBRN  sql.NullString
		oCreated, oUpdated            sql.NullTime
	)
	err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &email, &u.Name, &u.Role, &u.ProviderRole, &u.RoleOverride, &orgID,
		&lastLogin, &uCreated, &uUpdated,
		&oID, &oCode, &oKO, &oEN, &oKind, &oBRN, &oCreated, &oUpdated)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, gorm.ErrRecordNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Email, u.CreatedAt, u.UpdatedAt = email.String, uCreated.Time, uUpdated.Time
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
	return u, nil
}
