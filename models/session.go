package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Session is a signed-in browser. The cookie carries an opaque random token;
// the row is keyed by the token's SHA-256, so a leaked database holds no
// usable cookie.
type Session struct {
	ID         string `gorm:"primaryKey;size:64"`
	UserID     uint   `gorm:"not null;index"`
	User       User   `gorm:"constraint:OnDelete:CASCADE"`
	CSRFToken  string `gorm:"size:64;not null"`
	IDToken    string `gorm:"type:text"` // kept for the provider's logout (id_token_hint)
	CreatedAt  time.Time
	LastSeenAt time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null;index"` // absolute expiry

	// ProviderToken is the OpenID provider's access and refresh tokens,
	// sealed (see Sealer): what the role re-check presents to the provider.
	// Empty for demo sessions.
	ProviderToken string `gorm:"type:text"`
	// RoleCheckedAt is when the provider last confirmed the user's role;
	// sign-in counts as a confirmation.
	RoleCheckedAt time.Time
	// RecheckStartedAt is when a re-check was last begun and not completed:
	// it keeps concurrent requests from asking the provider at once, and
	// spaces out the retries while the provider cannot be reached.
	RecheckStartedAt *time.Time
}

// SessionPolicy holds the expiry rules and the key that hashes cookie tokens.
type SessionPolicy struct {
	Idle   time.Duration // since the last request
	MaxAge time.Duration // since sign-in, whatever the activity
	// Key, when set, makes the stored ID an HMAC of the token: a copy of the
	// sessions table is then useless without the portal's secret as well.
	Key []byte
}

// sessionID is the stored form of a session cookie token.
func (p SessionPolicy) sessionID(token string) string {
	if len(p.Key) == 0 {
		return HashToken(token)
	}
	m := hmac.New(sha256.New, p.Key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Expired reports whether the session may no longer be used at now.
func (s *Session) Expired(now time.Time, p SessionPolicy) bool {
	return !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(p.Idle))
}

// NeedsTouch reports whether LastSeenAt is old enough to be worth a write.
func (s *Session) NeedsTouch(now time.Time) bool {
	return now.Sub(s.LastSeenAt) >= time.Minute
}

// RoleRecheckDue reports whether the provider must be asked again about the
// user's role: every interval since it last confirmed it.
func (s *Session) RoleRecheckDue(now time.Time, every time.Duration) bool {
	return !now.Before(s.RoleCheckedAt.Add(every))
}

// RoleRecheckGrace reports whether a session whose re-check is due may still
// be served while the provider cannot be reached: until grace after the
// re-check fell due. After that it ends.
func (s *Session) RoleRecheckGrace(now time.Time, every, grace time.Duration) bool {
	return now.Before(s.RoleCheckedAt.Add(every + grace))
}

// ClaimRoleRecheck lets one request at a time re-check a session: it reports
// whether this caller claimed it. A claim not completed by ConfirmRole (the
// provider could not be reached) can be taken again after retry.
func ClaimRoleRecheck(ctx context.Context, db *gorm.DB, id string, now time.Time, retry time.Duration) (bool, error) {
	now = now.UTC()
	res := db.WithContext(ctx).Model(&Session{}).
		Where("id = ? AND (recheck_started_at IS NULL OR recheck_started_at <= ?)", id, now.Add(-retry)).
		Update("recheck_started_at", now)
	if res.Error != nil {
		return false, fmt.Errorf("store: claim role re-check: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RandomToken returns n random bytes, base64url encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's generator does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the stored form of a cookie token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for user in tx and returns the cookie token.
func CreateSession(ctx context.Context, tx *gorm.DB, userID uint, idToken string, now time.Time, p SessionPolicy) (string, *Session, error) {
	return CreateProviderSession(ctx, tx, userID, idToken, "", now, p)
}

// CreateProviderSession is CreateSession keeping the provider's sealed
// tokens, for the role re-check.
func CreateProviderSession(ctx context.Context, tx *gorm.DB, userID uint, idToken, providerToken string, now time.Time, p SessionPolicy) (string, *Session, error) {
	// UTC in storage: SQLite compares times as text, so one zone for every row.
	now = now.UTC()
	token := RandomToken(32)
	s := &Session{
		ID:         p.sessionID(token),
		UserID:     userID,
		CSRFToken:  RandomToken(32),
		IDToken:    idToken,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(p.MaxAge),

		ProviderToken: providerToken,
		RoleCheckedAt: now,
	}
	if err := tx.WithContext(ctx).Create(s).Error; err != nil {
		return "", nil, fmt.Errorf("store: create session: %w", err)
	}
	return token, s, nil
}

// LoadSession finds the live session for a cookie token, with its user. An
// expired session is deleted and reported as ErrNotFound.
func LoadSession(ctx context.Context, db *gorm.DB, token string, now time.Time, p SessionPolicy) (*Session, error) {
	if token == "" {
		return nil, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	var s Session
	err := db.WithContext(ctx).Preload("User").Preload("User.Organisation").
		Where("id = ?", p.sessionID(token)).First(&s).Error
	if err != nil {
		return nil, notFound("store: session", err)
	}
	if s.Expired(now, p) {
		if err := db.WithContext(ctx).Delete(&Session{}, "id = ?", s.ID).Error; err != nil {
			return nil, fmt.Errorf("store: delete expired session: %w", err)
		}
		return nil, fmt.Errorf("store: session expired: %w", ErrNotFound)
	}
	return &s, nil
}

// TouchSession records activity on a session.
func TouchSession(ctx context.Context, db *gorm.DB, id string, now time.Time) error {
	if err := db.WithContext(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", now.UTC()).Error; err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func DeleteSession(ctx context.Context, tx *gorm.DB, id string) error {
	if err := tx.WithContext(ctx).Delete(&Session{}, "id = ?", id).Error; err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// for longer than the policy allows, and used login states past their expiry.
func DeleteExpiredSessions(ctx context.Context, db *gorm.DB, now time.Time, p SessionPolicy) (int64, error) {
	now = now.UTC()
	res := db.WithContext(ctx).Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-p.Idle)).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", res.Error)
	}
	if err := db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&UsedLoginState{}).Error; err != nil {
		return 0, fmt.Errorf("store: delete expired login states: %w", err)
	}
	return res.RowsAffected, nil
}

// UsedLoginState records a sign-in answer the portal has accepted, so that
// the same answer (its state) is never accepted twice. The request itself
// (state, nonce, PKCE verifier) travels in a sealed cookie: starting a
// sign-in writes nothing, and a row is written only at the callback, for a
// state the portal sealed itself. Rows outlive their cookie's expiry and are
// then removed.
type UsedLoginState struct {
	ID        string    `gorm:"primaryKey;size:64"` // HashToken(state)
	ExpiresAt time.Time `gorm:"not null;index"`
}

// UseLoginState marks state as used, in db. A state already used is
// ErrConflict; expiresAt is when its sign-in request ends.
func UseLoginState(ctx context.Context, db *gorm.DB, state string, expiresAt, now time.Time) error {
	if !now.Before(expiresAt) {
		return fmt.Errorf("store: login state expired: %w", ErrNotFound)
	}
	u := UsedLoginState{ID: HashToken(state), ExpiresAt: expiresAt.UTC()}
	res := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&u)
	if res.Error != nil {
		return fmt.Errorf("store: use login state: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("store: login state used before: %w", ErrConflict)
	}
	return nil
}
