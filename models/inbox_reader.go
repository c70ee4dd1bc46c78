package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// UnreadReader reads the unread count shown in the header of every
// signed-in page, with one statement prepared once. The count is put into
// each request's page (a live fragment), never into a cached page, which
// is why the table it reads does not move the data version.
type UnreadReader struct{ q *preparedQuery }

// NewUnreadReader prepares the count on db.
func NewUnreadReader(db *gorm.DB) *UnreadReader {
	q := `SELECT COUNT(*) FROM inbox_messages WHERE user_id = ? AND read_at IS NULL`
	if db.Dialector.Name() == "postgres" {
		q = `SELECT COUNT(*) FROM inbox_messages WHERE user_id = $1 AND read_at IS NULL`
	}
	return &UnreadReader{q: newPreparedQuery(db, q)}
}

// Unread returns how many of the user's messages are unread.
func (r *UnreadReader) Unread(ctx context.Context, userID uint) (int64, error) {
	row, err := r.q.row(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("store: unread count of user %d: %w", userID, err)
	}
	var n int64
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unread count of user %d: %w", userID, err)
	}
	return n, nil
}

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
