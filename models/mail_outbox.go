package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The mail outbox. Notify hands each new inbox message to the registered
// Mailer, which records a MailJob for it in the same transaction (unless
// the user takes that kind in the inbox only): due at once, or at the
// next daily digest. A worker (package notify) claims the due jobs —
// several portal instances may run one: a claim is a conditional update
// that one instance wins — sends them, and marks them sent, or puts them
// off with a growing delay after a failure.

// MailJob is the mail of one inbox message, waiting or sent.
type MailJob struct {
	ID        uint          `gorm:"primaryKey"`
	MessageID uint          `gorm:"not null;uniqueIndex"`
	Message   *InboxMessage `gorm:"constraint:OnDelete:CASCADE"`
	UserID    uint          `gorm:"not null;index:idx_mail_jobs_due,priority:3"`
	Digest    bool          `gorm:"not null;default:false"` // sent in the user's daily digest
	// DueAt is when it is to be sent (again).
	DueAt     time.Time `gorm:"not null;index:idx_mail_jobs_due,priority:2"`
	Attempts  int       `gorm:"not null;default:0"`
	LastError string    `gorm:"size:500;not null;default:''"`
	// Claim: the worker sending it, until ClaimedUntil (past it, another
	// worker may take it: the first one died).
	ClaimToken   string     `gorm:"size:64;not null;default:'';index"`
	ClaimedUntil *time.Time ``
	// Done is when it was sent, or given up after the last attempt (Failed).
	Done      *time.Time `gorm:"index:idx_mail_jobs_due,priority:1"`
	Failed    bool       `gorm:"not null;default:false"`
	CreatedAt time.Time  `gorm:"not null"`
}

// NextDigest returns the first instant after t that is hour o'clock KST.
func NextDigest(t time.Time, hour int) time.Time {
	k := t.In(KST)
	d := time.Date(k.Year(), k.Month(), k.Day(), hour, 0, 0, 0, KST)
	if !d.After(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d.UTC()
}

// EnqueueMail records the mail of the messages in tx, each by its user's
// mode for its kind: due at the message's time (mail), at the next digest
// hour KST (digest), or none (inbox only). The Mailer calls it.
func EnqueueMail(ctx context.Context, tx *gorm.DB, msgs []InboxMessage, digestHour int) error {
	if len(msgs) == 0 {
		return nil
	}
	tx = tx.WithContext(ctx)
	users := make([]uint, 0, len(msgs))
	for _, m := range msgs {
		users = append(users, m.UserID)
	}
	modes, err := noticeModes(tx, users)
	if err != nil {
		return fmt.Errorf("store: queue mail: %w", err)
	}
	var jobs []MailJob
	for _, m := range msgs {
		mode, ok := modes[m.UserID][m.Kind]
		if !ok {
			mode = DefaultNoticeMode
		}
		j := MailJob{MessageID: m.ID, UserID: m.UserID, DueAt: m.CreatedAt.UTC(), CreatedAt: m.CreatedAt.UTC()}
		switch mode {
		case NoticeInbox:
			continue
		case NoticeDigest:
			j.Digest, j.DueAt = true, NextDigest(m.CreatedAt, digestHour)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&jobs).Error; err != nil {
		return fmt.Errorf("store: queue mail: %w", err)
	}
	return nil
}

// MailBatch is one mail to send: one message, or a user's digest of several.
type MailBatch struct {
	Token    string // the claim: MarkMailSent and MailFailed take it
	User     User
	Lang     string
	Digest   bool
	Messages []InboxMessage // oldest first
	Attempts int            // the failed attempts so far (the most of its jobs)
}

// unclaimed is the condition of a job a worker may claim at now.
const unclaimed = "done IS NULL AND due_at <= ? AND (claim_token = '' OR claimed_until IS NULL OR claimed_until <= ?)"

// ClaimMail claims up to limit mails due at now for lease: each single
// message due, and for each user with digest jobs due, all of them as one
// batch. A job claimed by another worker whose lease has not run out is
// left alone, so two workers never send the same job.
func ClaimMail(ctx context.Context, db *gorm.DB, now time.Time, lease time.Duration, limit int) ([]MailBatch, error) {
	db = db.WithContext(ctx)
	now = now.UTC()
	until := now.Add(lease)
	var due []MailJob
	if err := db.Select("id", "user_id", "digest").Where(unclaimed, now, now).
		Order("due_at, id").Limit(limit).Find(&due).Error; err != nil {
		return nil, fmt.Errorf("store: due mail: %w", err)
	}
	var tokens []string
	digestUsers := map[uint]bool{}
	for _, j := range due {
		token := RandomToken(16)
		q := db.Model(&MailJob{}).Where(unclaimed, now, now)
		if j.Digest {
			if digestUsers[j.UserID] {
				continue
			}
			digestUsers[j.UserID] = true
			q = q.Where("user_id = ? AND digest = ?", j.UserID, true)
		} else {
			q = q.Where("id = ?", j.ID)
		}
		res := q.Updates(map[string]any{"claim_token": token, "claimed_until": until})
		if res.Error != nil {
			return nil, fmt.Errorf("store: claim mail: %w", res.Error)
		}
		if res.RowsAffected > 0 {
			tokens = append(tokens, token)
		}
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	var jobs []MailJob
	if err := db.Preload("Message").Where("claim_token IN ?", tokens).Order("id").Find(&jobs).Error; err != nil {
		return nil, fmt.Errorf("store: claimed mail: %w", err)
	}
	byToken := map[string]*MailBatch{}
	var order []string
	userIDs := map[uint]bool{}
	for _, j := range jobs {
		b := byToken[j.ClaimToken]
		if b == nil {
			b = &MailBatch{Token: j.ClaimToken, Digest: j.Digest, User: User{ID: j.UserID}}
			byToken[j.ClaimToken] = b
			order = append(order, j.ClaimToken)
		}
		if j.Message != nil {
			b.Messages = append(b.Messages, *j.Message)
		}
		b.Attempts = max(b.Attempts, j.Attempts)
		userIDs[j.UserID] = true
	}
	ids := make([]uint, 0, len(userIDs))
	for id := range userIDs {
		ids = append(ids, id)
	}
	var users []User
	if err := db.Where("id IN ?", ids).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("store: mail recipients: %w", err)
	}
	var settings []NoticeSettings
	if err := db.Where("user_id IN ?", ids).Find(&settings).Error; err != nil {
		return nil, fmt.Errorf("store: mail languages: %w", err)
	}
	userByID := map[uint]User{}
	for _, u := range users {
		userByID[u.ID] = u
	}
	langOf := map[uint]string{}
	for _, s := range settings {
		if s.Lang == LangEnglish {
			langOf[s.UserID] = LangEnglish
		}
	}
	out := make([]MailBatch, 0, len(order))
	for _, t := range order {
		b := byToken[t]
		b.User = userByID[b.User.ID]
		b.Lang = LangKorean
		if l, ok := langOf[b.User.ID]; ok {
			b.Lang = l
		}
		out = append(out, *b)
	}
	return out, nil
}

// MarkMailSent records the batch's jobs sent (or settled without a mail,
// note saying why) at now.
func MarkMailSent(ctx context.Context, db *gorm.DB, token string, now time.Time, note string) error {
	err := db.WithContext(ctx).Model(&MailJob{}).Where("claim_token = ? AND done IS NULL", token).
		Updates(map[string]any{"done": now.UTC(), "claim_token": "", "claimed_until": nil, "last_error": cutRunes(note, 500)}).Error
	if err != nil {
		return fmt.Errorf("store: mail sent: %w", err)
	}
	return nil
}

// ReleaseMail gives back a claim not acted on (the worker is stopping):
// its jobs are due again at once, for any worker.
func ReleaseMail(ctx context.Context, db *gorm.DB, token string) error {
	err := db.WithContext(ctx).Model(&MailJob{}).Where("claim_token = ? AND done IS NULL", token).
		Updates(map[string]any{"claim_token": "", "claimed_until": nil}).Error
	if err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	return nil
}

// MailFailed records a failed attempt of the batch's jobs at now: each is
// due again after retryIn(its attempts so far), or, at the last of
// maxAttempts, given up.
func MailFailed(ctx context.Context, db *gorm.DB, token string, now time.Time, cause string, maxAttempts int,
	retryIn func(attempts int) time.Duration) error {
	db = db.WithContext(ctx)
	var jobs []MailJob
	if err := db.Where("claim_token = ? AND done IS NULL", token).Find(&jobs).Error; err != nil {
		return fmt.Errorf("store: failed mail: %w", err)
	}
	for _, j := range jobs {
		n := j.Attempts + 1
		set := map[string]any{"attempts": n, "claim_token": "", "claimed_until": nil, "last_error": cutRunes(cause, 500)}
		if n >= maxAttempts {
			set["done"], set["failed"] = now.UTC(), true
		} else {
			set["due_at"] = now.UTC().Add(retryIn(n))
		}
		if err := db.Model(&MailJob{}).Where("id = ? AND claim_token = ?", j.ID, token).Updates(set).Error; err != nil {
			return fmt.Errorf("store: failed mail %d: %w", j.ID, err)
		}
	}
	return nil
}

// cutRunes cuts s to at most n bytes at a rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
