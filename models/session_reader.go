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

// Each session row has a revision that a trigger moves on every update of
// the row, whoever makes it (the session's own requests, another instance
// signing it out's neighbours, an administrator): a request reads the
// revision (with the data version) and takes the rest of the row from
// memory while it is the same.

// sessionRevisions adds the revision column and its trigger.
func sessionRevisions(tx *gorm.DB) error {
	stmts := []string{`ALTER TABLE sessions ADD COLUMN revision BIGINT NOT NULL DEFAULT 0`}
	switch tx.Dialector.Name() {
	case "sqlite":
		stmts = append(stmts, `CREATE TRIGGER sessions_revision AFTER UPDATE ON sessions
			 WHEN NEW.revision = OLD.revision
			 BEGIN UPDATE sessions SET revision = OLD.revision + 1 WHERE id = NEW.id; END`)
	case "postgres":
		stmts = append(stmts, `CREATE OR REPLACE FUNCTION sessions_revision() RETURNS trigger AS $$
			 BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END; $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER sessions_revision BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_revision()`)
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

func dropSessionRevisions(tx *gorm.DB) error {
	stmts := []string{`DROP TRIGGER IF EXISTS sessions_revision`}
	if tx.Dialector.Name() == "postgres" {
		stmts = []string{`DROP TRIGGER IF EXISTS sessions_revision ON sessions`, `DROP FUNCTION IF EXISTS sessions_revision()`}
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return tx.Migrator().DropColumn("sessions", "revision")
}

// SessionRevisionTrigger reports whether the sessions table has the
// trigger that moves a row's revision on every update.
func SessionRevisionTrigger(ctx context.Context, db *gorm.DB) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'sessions_revision' AND tbl_name = 'sessions'`
	if db.Dialector.Name() == "postgres" {
		q = `SELECT COUNT(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		  WHERE c.relname = 'sessions' AND c.relnamespace = current_schema()::regnamespace AND g.tgname = 'sessions_revision'`
	}
	var n int
	if err := db.WithContext(ctx).Raw(q).Scan(&n).Error; err != nil {
		return false, err
	}
	return n == 1, nil
}

// SessionReader loads the session of each request, with its user and the
// user's organisation, the data version (see dataversion.go) and the
// user's unread count. One prepared statement reads the session's
// revision, the data version and the count;
// the session row comes from memory while its revision is the one it was
// read at, and the user and organisation (versioned tables) while the data
// version is. Other prepared statements read what memory does not hold.
// LoadSession costs three statements built by gorm.
type SessionReader struct {
	db       *gorm.DB
	revision *preparedQuery
	session  *preparedQuery
	user     *preparedQuery

	mu       sync.Mutex
	users    map[uint]keptUser
	sessions map[string]keptSession
	ids      map[string]string // cookie token → session id, under idKey
	idKey    string            // the policy key the ids were made with
}

// keptUser is a user (with the organisation) as read at data version version.
type keptUser struct {
	version int64
	user    User
}

// keptSession is a session row (without its user) as read at its revision.
type keptSession struct {
	revision int64
	session  Session
}

// maxKeptSessions bounds the sessions kept in memory; past it they are
// dropped (and read again at their next request).
const maxKeptSessions = 20000

// revisionQuery reads a session's revision, the data version and the
// unread count of the session's user (idx_inbox_user_unread).
const revisionQuery = `SELECT s.revision, (SELECT n FROM data_versions WHERE id = 1),
  (SELECT COUNT(*) FROM inbox_messages m WHERE m.user_id = s.user_id AND m.read_at IS NULL)
FROM sessions s WHERE s.id = ?`

// sessionQuery reads a session row, scanned in this order by readSession.
const sessionQuery = `SELECT s.user_id, s.csrf_token, s.id_token, s.created_at, s.last_seen_at, s.expires_at,
  s.provider_token, s.role_checked_at, s.recheck_started_at
FROM sessions s WHERE s.id = ?`

// userQuery reads a user and the user's organisation, scanned in this
// order by scanUser.
const userQuery = `SELECT u.id, u.issuer, u.subject, u.email, u.name, u.role, u.provider_role, u.role_override,
  u.organisation_id, u.last_login_at, u.created_at, u.updated_at,
  o.id, o.code, o.name_ko, o.name_en, o.kind, o.business_reg_no, o.created_at, o.updated_at
FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.id = ?`

// NewSessionReader loads sessions from db.
func NewSessionReader(db *gorm.DB) *SessionReader {
	q := func(s string) *preparedQuery {
		if db.Dialector.Name() == "postgres" {
			s = strings.Replace(s, "?", "$1", 1)
		}
		return newPreparedQuery(db, s)
	}
	return &SessionReader{db: db, revision: q(revisionQuery), session: q(sessionQuery), user: q(userQuery),
		users: map[uint]keptUser{}, sessions: map[string]keptSession{}, ids: map[string]string{}}
}

// ReadWithSession is what Load reads in the statement that reads the
// session's revision, before any read of the page's data that follows.
type ReadWithSession struct {
	Version int64 // the data version
	Unread  int64 // how many of the session user's notices are unread
}

// Load is LoadSession, which also returns the data version and the user's
// unread count as read with the session.
func (r *SessionReader) Load(ctx context.Context, token string, now time.Time, p SessionPolicy) (*Session, ReadWithSession, error) {
	var with ReadWithSession
	if token == "" {
		return nil, with, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	id := r.sessionID(token, p)
	row, err := r.revision.row(ctx, id)
	if err != nil {
		return nil, with, fmt.Errorf("store: session: %w", err)
	}
	var revision int64
	if err := row.Scan(&revision, &with.Version, &with.Unread); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = gorm.ErrRecordNotFound
		}
		return nil, ReadWithSession{}, notFound("store: session", err)
	}
	s, err := r.readSession(ctx, id, revision)
	if err != nil {
		return nil, ReadWithSession{}, notFound("store: session", err)
	}
	if s.Expired(now, p) {
		if err := r.db.WithContext(ctx).Delete(&Session{}, "id = ?", s.ID).Error; err != nil {
			return nil, ReadWithSession{}, fmt.Errorf("store: delete expired session: %w", err)
		}
		return nil, ReadWithSession{}, fmt.Errorf("store: session expired: %w", ErrNotFound)
	}
	if s.User, err = r.loadUser(ctx, s.UserID, with.Version); err != nil {
		return nil, ReadWithSession{}, notFound("store: session's user", err)
	}
	return s, with, nil
}

// sessionID is p.sessionID(token), kept for the tokens seen (a keyed hash
// per request otherwise).
func (r *SessionReader) sessionID(token string, p SessionPolicy) string {
	r.mu.Lock()
	id, ok := r.ids[token]
	ok = ok && string(p.Key) == r.idKey
	r.mu.Unlock()
	if ok {
		return id
	}
	id = p.sessionID(token)
	r.mu.Lock()
	if string(p.Key) != r.idKey || len(r.ids) >= maxKeptSessions {
		clear(r.ids)
		r.idKey = string(p.Key)
	}
	r.ids[token] = id
	r.mu.Unlock()
	return id
}

// readSession returns the session row id as it stands at revision (read
// before): from memory when it was read at that revision, else from the
// database. A row read after a later update is newer than revision says;
// it is then read again at the next request, which sees the new revision.
func (r *SessionReader) readSession(ctx context.Context, id string, revision int64) (*Session, error) {
	r.mu.Lock()
	k, ok := r.sessions[id]
	r.mu.Unlock()
	if ok && k.revision == revision {
		s := k.session
		if s.RecheckStartedAt != nil {
			t := *s.RecheckStartedAt
			s.RecheckStartedAt = &t
		}
		return &s, nil
	}
	row, err := r.session.row(ctx, id)
	if err != nil {
		return nil, err
	}
	s := &Session{ID: id}
	var (
		idToken, providerToken sql.NullString
		created, roleChecked   sql.NullTime
		recheck                sql.NullTime
	)
	err = row.Scan(&s.UserID, &s.CSRFToken, &idToken, &created, &s.LastSeenAt, &s.ExpiresAt,
		&providerToken, &roleChecked, &recheck)
	if errors.Is(err, sql.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	if err != nil {
		return nil, err
	}
	s.IDToken, s.ProviderToken = idToken.String, providerToken.String
	s.CreatedAt, s.RoleCheckedAt = created.Time, roleChecked.Time
	if recheck.Valid {
		t := recheck.Time
		s.RecheckStartedAt = &t
	}
	kept := *s
	if kept.RecheckStartedAt != nil {
		t := *kept.RecheckStartedAt
		kept.RecheckStartedAt = &t
	}
	r.mu.Lock()
	if len(r.sessions) >= maxKeptSessions {
		clear(r.sessions)
	}
	r.sessions[id] = keptSession{revision: revision, session: kept}
	r.mu.Unlock()
	return s, nil
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
