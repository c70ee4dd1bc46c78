package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SavedForm is a form that arrived after its user's session had ended: its
// text fields (never its files) kept for a short while, so that the user,
// signed in again, finds the form filled in as they sent it — to check and
// submit again; it is never submitted for them. The browser holds a random
// token in a cookie; the row is keyed by the token's hash, and belongs to
// the user the form had been shown to: only that user, signed in again in
// the same browser, gets it back, on the page it came from.
type SavedForm struct {
	ID        string `gorm:"primaryKey;size:64"` // HashToken of the cookie's token
	UserID    uint   `gorm:"not null;index"`
	Page      string `gorm:"size:512;not null"`  // the form's page, where it is filled in again
	Action    string `gorm:"size:512;not null"`  // the address the form posted to
	Fields    string `gorm:"type:text;not null"` // JSON of the fields, name to values
	Files     string `gorm:"size:2048"`          // JSON of the file fields whose files were not kept
	CreatedAt time.Time
	ExpiresAt time.Time `gorm:"not null;index"`
}

// FormValues are a form's fields, name to values, as url.Values holds them.
type FormValues = map[string][]string

// SaveForm keeps a form's fields for userID until expires, under the hash
// of token.
func SaveForm(ctx context.Context, db *gorm.DB, token string, userID uint, page, action string,
	fields FormValues, files []string, now, expires time.Time) error {
	f, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("store: save form: %w", err)
	}
	fl, err := json.Marshal(files)
	if err != nil {
		return fmt.Errorf("store: save form: %w", err)
	}
	row := SavedForm{ID: HashToken(token), UserID: userID, Page: page, Action: action, Fields: string(f),
		Files: string(fl), CreatedAt: now.UTC(), ExpiresAt: expires.UTC()}
	if err := db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: save form: %w", err)
	}
	return nil
}

// TakeSavedForm returns the form posting to action kept under token for
// userID on page, and deletes it, so that it is filled in once. A form that
// has expired, is another user's, or belongs to another page or form is
// ErrNotFound (and left for its own user and form until it expires).
func TakeSavedForm(ctx context.Context, db *gorm.DB, token string, userID uint, page, action string, now time.Time) (
	*SavedForm, FormValues, []string, error) {
	var row SavedForm
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND user_id = ? AND page = ? AND action = ? AND expires_at > ?",
			HashToken(token), userID, page, action, now.UTC()).First(&row).Error; err != nil {
			return notFound("store: saved form", err)
		}
		res := tx.Delete(&SavedForm{}, "id = ?", row.ID)
		if res.Error != nil {
			return fmt.Errorf("store: delete saved form: %w", res.Error)
		}
		if res.RowsAffected != 1 { // taken by a concurrent request
			return fmt.Errorf("store: saved form: %w", ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var fields FormValues
	var files []string
	if err := json.Unmarshal([]byte(row.Fields), &fields); err != nil {
		return nil, nil, nil, fmt.Errorf("store: saved form fields: %w", err)
	}
	if row.Files != "" {
		if err := json.Unmarshal([]byte(row.Files), &files); err != nil {
			return nil, nil, nil, fmt.Errorf("store: saved form files: %w", err)
		}
	}
	return &row, fields, files, nil
}

// DeleteExpiredSavedForms removes the kept forms nobody came back for.
func DeleteExpiredSavedForms(ctx context.Context, db *gorm.DB, now time.Time) (int64, error) {
	res := db.WithContext(ctx).Where("expires_at <= ?", now.UTC()).Delete(&SavedForm{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired saved forms: %w", res.Error)
	}
	return res.RowsAffected, nil
}
