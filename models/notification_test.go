package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// queueMailer is a Mailer that writes what it is given into the caller's
// transaction, as the notify package does, so that a rollback takes it away.
type queueMailer struct{ calls int }

func (q *queueMailer) Name() string              { return models.MailerPluginName }
func (q *queueMailer) Initialize(*gorm.DB) error { return nil }
func (q *queueMailer) EnqueueTx(ctx context.Context, tx *gorm.DB, ms []models.InboxMessage) error {
	q.calls++
	for _, m := range ms {
		if m.ID == 0 {
			return errors.New("message without its id")
		}
	}
	return nil
}

// TestNotifyAudienceOnceAndRollback: each user of an audience gets a notice
// once, whether named, by organisation or by role; the same key records
// nothing twice; a notice without a key is refused; a rolled-back event
// leaves no message; the mailer sees only the new messages, in the tx.
func TestNotifyAudienceOnceAndRollback(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	testdb.Each(t, func() time.Time { return now }, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &queueMailer{}
		if err := db.Use(q); err != nil {
			t.Fatal(err)
		}
		org := models.Organisation{Code: "acme", NameKO: "에이크미", NameEN: "Acme", Kind: models.OrgCompany}
		if err := db.Create(&org).Error; err != nil {
			t.Fatal(err)
		}
		mk := func(sub string, role models.Role, orgID *uint) models.User {
			u := models.User{Issuer: "t", Subject: sub, Name: sub, Role: role, OrganisationID: orgID}
			if err := db.Create(&u).Error; err != nil {
				t.Fatal(err)
			}
			return u
		}
		staff1 := mk("c1", models.RoleCompany, &org.ID)
		staff2 := mk("c2", models.RoleCompany, &org.ID)
		officer := mk("o1", models.RoleOfficer, nil)
		auditor := mk("a1", models.RoleAuditor, nil)

		n := models.Notification{Kind: models.NotifyAppealReceived, Key: "appeal:1", Link: "/appeals/1",
			To: models.Audience{Users: []uint{staff1.ID, officer.ID}, Organisations: []uint{org.ID}, Roles: []models.Role{models.RoleOfficer}}}
		if err := db.Transaction(func(tx *gorm.DB) error { return models.Notify(ctx, tx, now, n) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Transaction(func(tx *gorm.DB) error { return models.Notify(ctx, tx, now, n) }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			who  models.User
			want int64
		}{{staff1, 1}, {staff2, 1}, {officer, 1}, {auditor, 0}} {
			got, err := models.UnreadCount(ctx, db, tc.who.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: %d unread, want %d", tc.who.Subject, got, tc.want)
			}
		}
		if q.calls != 1 {
			t.Errorf("mailer called %d times, want once (the second notice was not new)", q.calls)
		}

		boom := errors.New("the event failed")
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := models.Notify(ctx, tx, now, models.Notification{Kind: models.NotifyAppealAnswered, Key: "appeal:1", To: models.Audience{Users: []uint{auditor.ID}}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction: %v", err)
		}
		if got, _ := models.UnreadCount(ctx, db, auditor.ID); got != 0 {
			t.Errorf("a rolled-back event left %d messages", got)
		}
		if err := models.Notify(ctx, db, now, models.Notification{Kind: models.NotifyAppealFiled}); !errors.Is(err, models.ErrNotificationKey) {
			t.Errorf("notice without a key: %v, want ErrNotificationKey", err)
		}

		ms, err := models.ListInbox(ctx, db, staff1.ID, 10)
		if err != nil || len(ms) != 1 || ms[0].Link != "/appeals/1" {
			t.Fatalf("inbox of staff1: %v %+v", err, ms)
		}
		// Another user's message is not theirs to mark.
		if err := models.MarkRead(ctx, db, staff2.ID, now, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := models.UnreadCount(ctx, db, staff1.ID); got != 1 {
			t.Errorf("staff2 marked staff1's message read")
		}
		if err := models.MarkRead(ctx, db, staff1.ID, now, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := models.UnreadCount(ctx, db, staff1.ID); got != 0 {
			t.Errorf("after reading: %d unread", got)
		}
	})
}
