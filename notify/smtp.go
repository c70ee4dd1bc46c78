package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"

	"kaiportal/config"
)

// SMTPSender sends mail through an SMTP server: STARTTLS required on
// smtp://, TLS from the start on smtps://, none only on loopback with
// SMTP_PLAIN_LOOPBACK; authenticated when the URL names a user.
type SMTPSender struct {
	Server  config.SMTPServer
	From    string
	TLS     *tls.Config   // nil: the system's roots, the server's host name
	Timeout time.Duration // per connection; 0: 30s
}

// NewSMTPSender makes the sender of the mail settings.
func NewSMTPSender(m config.Mail) (*SMTPSender, error) {
	srv, err := m.Server()
	if err != nil {
		return nil, err
	}
	return &SMTPSender{Server: srv, From: m.From}, nil
}

// Send sends the mail, with its plain-text part first and its HTML alternative.
func (s *SMTPSender) Send(ctx context.Context, m Mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("notify: sender %q: %w", s.From, err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return fmt.Errorf("notify: recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.Server.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConf)}
	switch {
	case s.Server.Implicit:
		opts = append(opts, gomail.WithSSL())
	case s.Server.Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	opts = append(opts, gomail.WithPort(s.Server.Port))
	if s.Server.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Server.User), gomail.WithPassword(s.Server.Password))
	}
	c, err := gomail.NewClient(s.Server.Host, opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: send to %s: %w", m.To, err)
	}
	return nil
}
