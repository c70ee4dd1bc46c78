package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Each user chooses, per kind of event, how it reaches them: a mail at
// once, one daily digest mail, or the inbox only; and the language of
// their mail (Korean unless they chose English).

// NoticeMode is how a kind of notice reaches a user.
type NoticeMode string

// The ways a notice reaches a user; every notice reaches the inbox.
const (
	NoticeMail   NoticeMode = "mail"   // a mail at once
	NoticeDigest NoticeMode = "digest" // in the daily digest mail
	NoticeInbox  NoticeMode = "inbox"  // the inbox only, no mail
)

// NoticeModes are the modes in the order the preferences page offers them.
var NoticeModes = []NoticeMode{NoticeMail, NoticeDigest, NoticeInbox}

// DefaultNoticeMode is the mode of a kind the user has not chosen for.
const DefaultNoticeMode = NoticeMail

// Valid reports whether m is one of NoticeModes.
func (m NoticeMode) Valid() bool {
	return m == NoticeMail || m == NoticeDigest || m == NoticeInbox
}

// NotificationKinds lists every kind of notice, in the order the
// preferences page shows them.
var NotificationKinds = []NotificationKind{
	NotifyDecisionPublished, NotifyAppealReceived, NotifyAppealFiled, NotifyAppealAnswered, NotifyAppealOverdue,
	NotifyAgreementSent, NotifyAgreementSigned, NotifyAgreementEffective,
	NotifyReportDue, NotifyReportLate, NotifyReportVerified, NotifyReportDiscrepancy, NotifyReportReturned, NotifyReportSignedOff,
	NotifyOpinionOpened, NotifyOpinionClosing, NotifyAllocationEnding, NotifyTelemetryMissing, NotifyReminder,
}

// NoticeSettings is a user's language for what the portal sends them. A
// user without a row gets Korean.
type NoticeSettings struct {
	UserID    uint   `gorm:"primaryKey;autoIncrement:false"`
	User      *User  `gorm:"constraint:OnDelete:CASCADE"`
	Lang      string `gorm:"size:8;not null;default:'ko'"`
	UpdatedAt time.Time
}

// NoticePreference is a user's mode for one kind of notice.
type NoticePreference struct {
	UserID uint             `gorm:"primaryKey;autoIncrement:false"`
	User   *User            `gorm:"constraint:OnDelete:CASCADE"`
	Kind   NotificationKind `gorm:"primaryKey;size:64"`
	Mode   NoticeMode       `gorm:"size:16;not null"`
}

// The languages a user's mail can be in.
const (
	LangKorean  = "ko"
	LangEnglish = "en"
)

// UserLanguage returns the language of the user's mail: Korean unless they chose English.
func UserLanguage(ctx context.Context, db *gorm.DB, userID uint) (string, error) {
	var s NoticeSettings
	err := db.WithContext(ctx).Where("user_id = ?", userID).Take(&s).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return LangKorean, nil
	case err != nil:
		return "", fmt.Errorf("store: language of user %d: %w", userID, err)
	}
	if s.Lang != LangEnglish {
		return LangKorean, nil
	}
	return s.Lang, nil
}

// SetUserLanguage records the language of the user's mail (ko or en).
func SetUserLanguage(ctx context.Context, db *gorm.DB, userID uint, lang string, now time.Time) error {
	if lang != LangKorean && lang != LangEnglish {
		return fmt.Errorf("%w: language %q", ErrInvalid, lang)
	}
	s := NoticeSettings{UserID: userID, Lang: lang, UpdatedAt: now.UTC()}
	err := db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"lang", "updated_at"}),
	}).Create(&s).Error
	if err != nil {
		return fmt.Errorf("store: set language of user %d: %w", userID, err)
	}
	return nil
}

// NoticePrefs is what the preferences page shows and takes: the mail
// language and the mode of every kind (as the form sends them: strings).
type NoticePrefs struct {
	Lang  string
	Modes map[NotificationKind]string
}

// GetNoticePrefs returns the user's language and the mode of every kind
// (DefaultNoticeMode where they have not chosen).
func GetNoticePrefs(ctx context.Context, db *gorm.DB, userID uint) (NoticePrefs, error) {
	lang, err := UserLanguage(ctx, db, userID)
	if err != nil {
		return NoticePrefs{}, err
	}
	var rows []NoticePreference
	if err := db.WithContext(ctx).Where("user_id = ?", userID).Find(&rows).Error; err != nil {
		return NoticePrefs{}, fmt.Errorf("store: notice preferences of user %d: %w", userID, err)
	}
	p := NoticePrefs{Lang: lang, Modes: map[NotificationKind]string{}}
	for _, k := range NotificationKinds {
		p.Modes[k] = string(DefaultNoticeMode)
	}
	for _, r := range rows {
		p.Modes[r.Kind] = string(r.Mode)
	}
	return p, nil
}

// SaveNoticePrefs records the user's choices. Bad input (an unknown
// language or mode) changes nothing and returns ErrInvalid with the
// fields: "lang", and "mode.<kind>".
func SaveNoticePrefs(ctx context.Context, db *gorm.DB, userID uint, in NoticePrefs, now time.Time) (FieldErrors, error) {
	errs := FieldErrors{}
	if in.Lang != LangKorean && in.Lang != LangEnglish {
		errs.Add("lang", "notify.prefs.err_lang")
	}
	for _, k := range NotificationKinds {
		if !NoticeMode(in.Modes[k]).Valid() {
			errs.Add("mode."+string(k), "notify.prefs.err_mode")
		}
	}
	if errs.Any() {
		return errs, ErrInvalid
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := SetUserLanguage(ctx, tx, userID, in.Lang, now); err != nil {
			return err
		}
		rows := make([]NoticePreference, 0, len(NotificationKinds))
		for _, k := range NotificationKinds {
			rows = append(rows, NoticePreference{UserID: userID, Kind: k, Mode: NoticeMode(in.Modes[k])})
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}, {Name: "kind"}},
			DoUpdates: clause.AssignmentColumns([]string{"mode"}),
		}).Create(&rows).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: save notice preferences of user %d: %w", userID, err)
	}
	return nil, nil
}

// noticeModes returns the mode of each (user, kind) pair asked, with
// DefaultNoticeMode where the user has not chosen.
func noticeModes(tx *gorm.DB, users []uint) (map[uint]map[NotificationKind]NoticeMode, error) {
	var rows []NoticePreference
	if err := tx.Where("user_id IN ?", users).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[uint]map[NotificationKind]NoticeMode{}
	for _, r := range rows {
		if out[r.UserID] == nil {
			out[r.UserID] = map[NotificationKind]NoticeMode{}
		}
		out[r.UserID][r.Kind] = r.Mode
	}
	return out, nil
}
