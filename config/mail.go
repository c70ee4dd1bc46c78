package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mail holds the settings of the notices' mail (SMTP_URL, MAIL_FROM,
// SMTP_PLAIN_LOOPBACK, PORTAL_MAIL_*).
type Mail struct {
	// SMTPURL is the mail server: smtp://[user:pass@]host[:587] (STARTTLS
	// required) or smtps://[user:pass@]host[:465] (implicit TLS); with a
	// user, the server is asked to authenticate. Empty: mail is logged and
	// kept in the inbox only.
	SMTPURL string
	// PlainLoopback lets smtp:// go without TLS to a server on loopback
	// (127.0.0.1, ::1, localhost), for development; refused in production.
	PlainLoopback bool
	From          string        // the sender, e.g. "K-AI 포털 <noreply@example.go.kr>"
	DigestHour    int           // the hour (0–23, KST) the daily digest goes out
	Attempts      int           // tries of a mail before it is given up (0: 8)
	Poll          time.Duration // how often the worker looks for mail due (0: 30s)
}

// Enabled reports whether mail goes to an SMTP server (else it is logged).
func (m Mail) Enabled() bool { return m.SMTPURL != "" }

// loadMail reads the mail settings.
func loadMail(getenv Getenv) (Mail, []error) {
	var errs []error
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	m := Mail{SMTPURL: get("SMTP_URL"), From: get("MAIL_FROM"), DigestHour: 8, Attempts: 8, Poll: 30 * time.Second}
	if v := get("SMTP_PLAIN_LOOPBACK"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SMTP_PLAIN_LOOPBACK: want true or false, got %q", v))
		}
		m.PlainLoopback = b
	}
	if v := get("PORTAL_MAIL_DIGEST_HOUR"); v != "" {
		h, err := strconv.Atoi(v)
		if err != nil || h < 0 || h > 23 {
			errs = append(errs, fmt.Errorf("PORTAL_MAIL_DIGEST_HOUR: want an hour from 0 to 23 (KST), got %q", v))
		} else {
			m.DigestHour = h
		}
	}
	if v := get("PORTAL_MAIL_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			errs = append(errs, fmt.Errorf("PORTAL_MAIL_ATTEMPTS: want a number of tries from 1 to 50, got %q", v))
		} else {
			m.Attempts = n
		}
	}
	if v := get("PORTAL_MAIL_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			errs = append(errs, fmt.Errorf("PORTAL_MAIL_POLL: want a duration from 1s to 1h, got %q", v))
		} else {
			m.Poll = d
		}
	}
	return m, errs
}

// SMTPServer is SMTP_URL taken apart.
type SMTPServer struct {
	Host     string
	Port     int
	Implicit bool // smtps: TLS from the first byte
	Plain    bool // no TLS at all (loopback with SMTP_PLAIN_LOOPBACK)
	User     string
	Password string
}

// Server parses SMTPURL; the error says what is wrong with it.
func (m Mail) Server() (SMTPServer, error) {
	u, err := url.Parse(m.SMTPURL)
	if err != nil {
		return SMTPServer{}, errors.New("SMTP_URL: not a URL")
	}
	var s SMTPServer
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.Implicit = 465, true
	default:
		return SMTPServer{}, fmt.Errorf("SMTP_URL: want smtp://host:587 (STARTTLS) or smtps://host:465 (TLS), got scheme %q", u.Scheme)
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return SMTPServer{}, errors.New("SMTP_URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPServer{}, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return SMTPServer{}, errors.New("SMTP_URL: want no path or query")
	}
	if m.PlainLoopback && !s.Implicit {
		if !loopbackHost(s.Host) {
			return SMTPServer{}, fmt.Errorf("SMTP_PLAIN_LOOPBACK: allowed only for a server on loopback, not %q", s.Host)
		}
		s.Plain = true
	}
	return s, nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validate checks the mail settings together.
func (m Mail) validate(mode string) []error {
	var errs []error
	if m.SMTPURL != "" {
		if _, err := m.Server(); err != nil {
			errs = append(errs, err)
		}
		if m.From == "" {
			errs = append(errs, errors.New("MAIL_FROM: must be set when SMTP_URL is set"))
		}
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			errs = append(errs, fmt.Errorf("MAIL_FROM: want an address such as \"K-AI <noreply@example.go.kr>\", got %q", m.From))
		}
	}
	if m.PlainLoopback && mode == ModeProduction {
		errs = append(errs, errors.New("SMTP_PLAIN_LOOPBACK: mail without TLS is refused in production mode"))
	}
	if m.DigestHour < 0 || m.DigestHour > 23 {
		errs = append(errs, fmt.Errorf("PORTAL_MAIL_DIGEST_HOUR: want 0 to 23, got %d", m.DigestHour))
	}
	if m.Attempts < 0 {
		errs = append(errs, fmt.Errorf("PORTAL_MAIL_ATTEMPTS: want at least 1, got %d", m.Attempts))
	}
	if m.Poll < 0 {
		errs = append(errs, fmt.Errorf("PORTAL_MAIL_POLL: want a positive duration, got %s", m.Poll))
	}
	return errs
}
