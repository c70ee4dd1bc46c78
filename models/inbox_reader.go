package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// GetInboxMessage returns the user's message; another user's is ErrNotFound.
func GetInboxMessage(ctx context.Context, db *gorm.DB, userID, id uint) (*InboxMessage, error) {
	var m InboxMessage
	res := db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Limit(1).Find(&m)
	if res.Error != nil {
		return nil, fmt.Errorf("store: inbox message %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("inbox message %d: %w", id, ErrNotFound)
	}
	return &m, nil
}

// OpenInboxMessage marks the user's message read at now and returns it;
// another user's message is ErrNotFound and stays as it is.
func OpenInboxMessage(ctx context.Context, db *gorm.DB, userID, id uint, now time.Time) (*InboxMessage, error) {
	m, err := GetInboxMessage(ctx, db, userID, id)
	if err != nil {
		return nil, err
	}
	if m.ReadAt == nil {
		if err := MarkRead(ctx, db, userID, now, id); err != nil {
			return nil, err
		}
	}
	return m, nil
}
