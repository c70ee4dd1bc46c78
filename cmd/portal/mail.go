package main

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/i18n"
	"kaiportal/notify"
)

// startMail runs the mail worker inside serve: it sends the notices' mail
// from the outbox (at once, and the daily digests at their hour), through
// SMTP_URL, or to the log without it. stop ends it after the mail it is
// sending, before the database closes.
func startMail(ctx context.Context, cfg *config.Config, db *gorm.DB, log *slog.Logger) (stop func(), err error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	var sender notify.Sender = notify.LogSender{Log: log}
	if cfg.Mail.Enabled() {
		s, err := notify.NewSMTPSender(cfg.Mail)
		if err != nil {
			return nil, err
		}
		sender = s
		log.Info("mail: sending through SMTP", "host", s.Server.Host, "port", s.Server.Port, "tls", !s.Server.Plain,
			"implicit_tls", s.Server.Implicit, "auth", s.Server.User != "", "digest_hour_kst", cfg.Mail.DigestHour)
	} else {
		log.Warn("mail: SMTP_URL is not set; notices stay in the inbox and each mail is written to the log")
	}
	w := &notify.Worker{DB: db, Sender: sender, Cat: cat, BaseURL: cfg.BaseURL, Now: time.Now, Log: log,
		Poll: cfg.Mail.Poll, Attempts: cfg.Mail.Attempts}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
