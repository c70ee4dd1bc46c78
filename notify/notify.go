// Package notify sends the notices' mail. Its Plugin, registered on the
// database (db.Use), is the models.Mailer: it records the mail of each new
// inbox message in the outbox (models.MailJob) in the transaction of the
// event, so that mail goes out for committed events only and none is lost
// while the mail server is down. Its Worker claims the mail due — at once,
// or at the daily digest hour — sends it through a Sender (SMTP, or the log
// without SMTP_URL), and puts a failed mail off with a growing delay.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"kaiportal/i18n"
	"kaiportal/models"
)

// Plugin is the models.Mailer, as a gorm plugin.
type Plugin struct {
	DigestHour int // the hour (KST) of the daily digest
}

var _ models.Mailer = (*Plugin)(nil)

// Name is the name models.Notify looks the mailer up by.
func (*Plugin) Name() string { return models.MailerPluginName }

// Initialize does nothing: the plugin only answers EnqueueTx.
func (*Plugin) Initialize(*gorm.DB) error { return nil }

// EnqueueTx records the messages' mail in tx, by each user's preferences.
func (p *Plugin) EnqueueTx(ctx context.Context, tx *gorm.DB, msgs []models.InboxMessage) error {
	return models.EnqueueMail(ctx, tx, msgs, p.DigestHour)
}

// Register registers the plugin on db (once; a second call changes nothing).
func Register(db *gorm.DB, digestHour int) error {
	if _, ok := db.Config.Plugins[models.MailerPluginName]; ok {
		return nil
	}
	return db.Use(&Plugin{DigestHour: digestHour})
}

// Mail is one mail, ready to send.
type Mail struct {
	To, ToName string
	Subject    string
	Text, HTML string
	Lang       string
}

// Sender sends a mail.
type Sender interface {
	Send(ctx context.Context, m Mail) error
}

// LogSender logs mail instead of sending it (no SMTP_URL): the notices
// stay in the inbox.
type LogSender struct{ Log *slog.Logger }

// Send logs the mail.
func (s LogSender) Send(_ context.Context, m Mail) error {
	s.Log.Info("mail not sent: SMTP_URL is not set; the notice is in the inbox", "to", m.To, "subject", m.Subject, "lang", m.Lang)
	return nil
}

// Worker sends the mail due.
type Worker struct {
	DB      *gorm.DB
	Sender  Sender
	Cat     *i18n.Catalogue
	BaseURL string // the portal's address, before the notices' links
	Now     func() time.Time
	Log     *slog.Logger
	// Poll is how often Run looks for mail due; Lease how long a claimed
	// mail is another worker's; Attempts the tries before a mail is given
	// up; Backoff the wait after the n-th failed try (RetryIn when nil);
	// Batch the most mails one round claims.
	Poll     time.Duration
	Lease    time.Duration
	Attempts int
	Backoff  func(n int) time.Duration
	Batch    int
}

// RetryIn is the wait after the n-th failed try: a minute, doubling, at most six hours.
func RetryIn(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

func (w *Worker) defaults() {
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Poll <= 0 {
		w.Poll = 30 * time.Second
	}
	if w.Lease <= 0 {
		w.Lease = 5 * time.Minute
	}
	if w.Attempts <= 0 {
		w.Attempts = 8
	}
	if w.Backoff == nil {
		w.Backoff = RetryIn
	}
	if w.Batch <= 0 {
		w.Batch = 50
	}
}

// Result is what one round did: the mails it claimed, sent and failed.
type Result struct {
	Claimed, Sent, Failed int
}

// RunOnce claims the mail due now and sends it: each message due, and each
// user's digest due. A mail that fails is due again after Backoff. When ctx
// ends, the mail being sent is recorded as a failed try and the mail not
// yet sent is released for the next round (or another instance).
func (w *Worker) RunOnce(ctx context.Context) (Result, error) {
	w.defaults()
	var res Result
	now := w.Now()
	batches, err := models.ClaimMail(ctx, w.DB, now, w.Lease, w.Batch)
	if err != nil {
		return res, err
	}
	res.Claimed = len(batches)
	// What was claimed is settled even when ctx ends.
	settle := context.WithoutCancel(ctx)
	var errs []error
	for _, b := range batches {
		if ctx.Err() != nil {
			errs = append(errs, models.ReleaseMail(settle, w.DB, b.Token))
			continue
		}
		if b.User.Email == "" {
			errs = append(errs, models.MarkMailSent(settle, w.DB, b.Token, w.Now(), "no address"))
			continue
		}
		m := Compose(w.Cat, w.BaseURL, b)
		if err := w.Sender.Send(ctx, m); err != nil {
			res.Failed++
			w.Log.Warn("mail not sent; will retry", "user", b.User.ID, "digest", b.Digest, "attempt", b.Attempts+1, "err", err)
			errs = append(errs, models.MailFailed(settle, w.DB, b.Token, w.Now(), err.Error(), w.Attempts, w.Backoff))
			continue
		}
		res.Sent++
		errs = append(errs, models.MarkMailSent(settle, w.DB, b.Token, w.Now(), ""))
	}
	return res, errors.Join(errs...)
}

// Run sends the mail due every Poll until ctx ends; a round that claimed
// a full batch is followed by another at once.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		res, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("mail worker", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && res.Claimed >= w.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
