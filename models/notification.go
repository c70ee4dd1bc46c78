package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Notifications tell users that something happened or is due. The model function
// that changes state records its notices with Notify in its own
// transaction: each user of the audience gets one inbox message, and the
// mailer registered on the database (see Mailer) queues the mail in that
// same transaction. A notice of an event that rolls back leaves nothing,
// and a notice recorded twice under the same key reaches no one twice.

// NotificationKind names a kind of event; its texts are the i18n messages
// "notice.<kind>.subject" and "notice.<kind>.body", filled with the
// notice's Params.
type NotificationKind string

// The kinds of events users are told about.
const (
	NotifyDecisionPublished  NotificationKind = "decision.published"  // to every applicant the decision concerns, with the appeal window
	NotifyAppealReceived     NotificationKind = "appeal.received"     // receipt to the filer's organisation
	NotifyAppealFiled        NotificationKind = "appeal.filed"        // alert to officers
	NotifyAppealAnswered     NotificationKind = "appeal.answered"     // to the filer's organisation
	NotifyAppealOverdue      NotificationKind = "appeal.overdue"      // to officers: no answer within the time it is due
	NotifyAgreementSent      NotificationKind = "agreement.sent"      // a version sent for signature, to every party
	NotifyAgreementSigned    NotificationKind = "agreement.signed"    // a party signed, to the parties and officers
	NotifyAgreementEffective NotificationKind = "agreement.effective" // to the parties
	NotifyReportDue          NotificationKind = "report.due"
	NotifyReportLate         NotificationKind = "report.late"
	NotifyReportVerified     NotificationKind = "report.verified"
	NotifyReportDiscrepancy  NotificationKind = "report.discrepancy"
	NotifyReportReturned     NotificationKind = "report.returned"
	NotifyReportSignedOff    NotificationKind = "report.signed_off"
	NotifyOpinionOpened      NotificationKind = "stage.opinion_opened"
	NotifyOpinionClosing     NotificationKind = "stage.opinion_closing"
	NotifyAllocationEnding   NotificationKind = "allocation.ending"
	NotifyTelemetryMissing   NotificationKind = "telemetry.missing"
	NotifyReminder           NotificationKind = "reminder" // a deadline ahead; Params["deadline"] says which
)

// Audience says who gets a notice: the users named, every user of the
// organisations named, and every user acting with one of the roles named.
// A user in more than one part gets the notice once.
type Audience struct {
	Users         []uint
	Organisations []uint
	Roles         []Role
}

// Notification is one event for an audience.
type Notification struct {
	Kind   NotificationKind
	To     Audience
	Link   string            // the path of the object the notice is about, e.g. "/decisions/3"
	Params map[string]string // the values its texts show
	// Key makes the notice happen once: a notice of the same kind and key
	// reaches each user at most once, however often it is recorded (a
	// reminder sweep, a retried request). Required.
	Key string
}

// InboxMessage is one notice as one user received it.
type InboxMessage struct {
	ID        uint             `gorm:"primaryKey"`
	UserID    uint             `gorm:"not null;uniqueIndex:idx_inbox_once,priority:1;index:idx_inbox_user_unread,priority:1"`
	User      *User            `gorm:"constraint:OnDelete:CASCADE"`
	Kind      NotificationKind `gorm:"size:64;not null;uniqueIndex:idx_inbox_once,priority:2"`
	Key       string           `gorm:"size:200;not null;uniqueIndex:idx_inbox_once,priority:3"`
	Link      string           `gorm:"size:500;not null;default:''"`
	Params    string           `gorm:"type:text;not null;default:'{}'"` // JSON object of Notification.Params
	CreatedAt time.Time        `gorm:"not null"`
	ReadAt    *time.Time       `gorm:"index:idx_inbox_user_unread,priority:2"`
}

// ParamMap returns the message's Params.
func (m *InboxMessage) ParamMap() map[string]string {
	out := map[string]string{}
	_ = json.Unmarshal([]byte(m.Params), &out)
	return out
}

// Mailer queues the mail for the inbox messages just recorded, in the same
// transaction (tx), so that mail goes out for a committed event only, and
// is never lost once the event commits. The notify package implements it
// and registers itself on the database as a gorm plugin named
// MailerPluginName; without one, notices reach the inbox only.
type Mailer interface {
	EnqueueTx(ctx context.Context, tx *gorm.DB, msgs []InboxMessage) error
}

// MailerPluginName is the name the Mailer is registered under (db.Use).
const MailerPluginName = "kaiportal:mailer"

// ErrNotificationKey is returned for a notice without its Key.
var ErrNotificationKey = errors.New("store: notice without a key")

// Notify records the notices in tx: one inbox message per user of each
// audience (none where the user has it already), then hands the new
// messages to the registered Mailer in the same transaction. Call it
// inside the transaction that makes the change the notices report.
func Notify(ctx context.Context, tx *gorm.DB, now time.Time, notices ...Notification) error {
	tx = tx.WithContext(ctx)
	var fresh []InboxMessage
	for _, n := range notices {
		if n.Key == "" {
			return fmt.Errorf("%w: %s", ErrNotificationKey, n.Kind)
		}
		users, err := audienceUsers(tx, n.To)
		if err != nil {
			return fmt.Errorf("store: notice %s %s: %w", n.Kind, n.Key, err)
		}
		params := "{}"
		if len(n.Params) > 0 {
			b, err := json.Marshal(n.Params)
			if err != nil {
				return err
			}
			params = string(b)
		}
		for _, uid := range users {
			m := InboxMessage{UserID: uid, Kind: n.Kind, Key: n.Key, Link: n.Link, Params: params, CreatedAt: now.UTC()}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m)
			if res.Error != nil {
				return fmt.Errorf("store: notice %s %s to user %d: %w", n.Kind, n.Key, uid, res.Error)
			}
			if res.RowsAffected == 1 {
				fresh = append(fresh, m)
			}
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if p, ok := tx.Config.Plugins[MailerPluginName]; ok {
		if m, ok := p.(Mailer); ok {
			return m.EnqueueTx(ctx, tx, fresh)
		}
	}
	return nil
}

// audienceUsers returns the ids of the users an audience names, each once,
// in ascending order.
func audienceUsers(tx *gorm.DB, a Audience) ([]uint, error) {
	seen := map[uint]bool{}
	for _, id := range a.Users {
		seen[id] = true
	}
	if len(a.Organisations) > 0 || len(a.Roles) > 0 {
		q := tx.Model(&User{})
		switch {
		case len(a.Organisations) > 0 && len(a.Roles) > 0:
			q = q.Where("organisation_id IN ? OR role IN ?", a.Organisations, a.Roles)
		case len(a.Organisations) > 0:
			q = q.Where("organisation_id IN ?", a.Organisations)
		default:
			q = q.Where("role IN ?", a.Roles)
		}
		var ids []uint
		if err := q.Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	out := make([]uint, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// UnreadCount returns how many of the user's inbox messages are unread.
func UnreadCount(ctx context.Context, db *gorm.DB, userID uint) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&InboxMessage{}).Where("user_id = ? AND read_at IS NULL", userID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: unread count of user %d: %w", userID, err)
	}
	return n, nil
}

// ListInbox returns the user's newest inbox messages, at most limit.
func ListInbox(ctx context.Context, db *gorm.DB, userID uint, limit int) ([]InboxMessage, error) {
	var ms []InboxMessage
	err := db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id DESC").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("store: inbox of user %d: %w", userID, err)
	}
	return ms, nil
}

// MarkRead marks the user's messages read (all unread ones when ids is
// empty); another user's message is left alone.
func MarkRead(ctx context.Context, db *gorm.DB, userID uint, now time.Time, ids ...uint) error {
	q := db.WithContext(ctx).Model(&InboxMessage{}).Where("user_id = ? AND read_at IS NULL", userID)
	if len(ids) > 0 {
		q = q.Where("id IN ?", ids)
	}
	if err := q.Update("read_at", now.UTC()).Error; err != nil {
		return fmt.Errorf("store: mark read for user %d: %w", userID, err)
	}
	return nil
}
