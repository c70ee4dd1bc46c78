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
// for longer than the policy allows, and login attempts that were never finished.
func DeleteExpiredSessions(ctx context.Context, db *gorm.DB, now time.Time, p SessionPolicy) (int64, error) {
	now = now.UTC()
	res := db.WithContext(ctx).Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-p.Idle)).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", res.Error)
	}
	if err := db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&LoginAttempt{}).Error; err != nil {
		return 0, fmt.Errorf("store: delete expired login attempts: %w", err)
	}
	return res.RowsAffected, nil
}

// LoginAttempt is an OpenID Connect authorization request in flight: the
// state (stored hashed), the nonce expected in the ID token and the PKCE
// verifier. It is used once.
type LoginAttempt struct {
	ID        string `gorm:"primaryKey;size:64"` // HashToken(state)
	Nonce     string `gorm:"size:64;not null"`
	Verifier  string `gorm:"size:128;not null"`
	ReturnTo  string `gorm:"size:512"`
	ExpiresAt time.Time
}

// SaveLoginAttempt records a new authorization request.
func SaveLoginAttempt(ctx context.Context, db *gorm.DB, state string, a LoginAttempt) error {
	a.ID = HashToken(state)
	a.ExpiresAt = a.ExpiresAt.UTC()
	if err := db.WithContext(ctx).Create(&a).Error; err != nil {
		return fmt.Errorf("store: save login attempt: %w", err)
	}
	return nil
}

// TakeLoginAttempt loads and deletes the attempt for state, so that a state
// can never be used twice. Expired attempts are ErrNotFound.
func TakeLoginAttempt(ctx context.Context, db *gorm.DB, state string, now time.Time) (*LoginAttempt, error) {
	var a LoginAttempt
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", HashToken(state)).First(&a).Error; err != nil {
			return notFound("store: login attempt", err)
		}
		res := tx.Delete(&LoginAttempt{}, "id = ?", a.ID)
		if res.Error != nil {
			return fmt.Errorf("store: delete login attempt: %w", res.Error)
		}
		if res.RowsAffected != 1 { // taken by a concurrent request
			return fmt.Errorf("store: login attempt: %w", ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !now.Before(a.ExpiresAt) {
		return nil, fmt.Errorf("store: login attempt expired: %w", ErrNotFound)
	}
	return &a, nil
}
