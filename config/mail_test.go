package config

import (
	"strings"
	"testing"
	"time"
)

// TestMailSettings: SMTP_URL's scheme picks STARTTLS or implicit TLS, a
// user asks for authentication, plain SMTP only on loopback with
// SMTP_PLAIN_LOOPBACK (never in production), MAIL_FROM with SMTP_URL; the
// digest hour, tries and poll are checked; without SMTP_URL mail is logged.
func TestMailSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    SMTPServer
		wantErr string
	}{
		{"none", nil, SMTPServer{}, ""},
		{"starttls with auth", map[string]string{"SMTP_URL": "smtp://user:p%40ss@mail.example.kr:587", "MAIL_FROM": "K-AI <noreply@example.kr>"},
			SMTPServer{Host: "mail.example.kr", Port: 587, User: "user", Password: "p@ss"}, ""},
		{"starttls default port", map[string]string{"SMTP_URL": "smtp://mail.example.kr", "MAIL_FROM": "noreply@example.kr"},
			SMTPServer{Host: "mail.example.kr", Port: 587}, ""},
		{"implicit tls", map[string]string{"SMTP_URL": "smtps://u:p@mail.example.kr", "MAIL_FROM": "noreply@example.kr"},
			SMTPServer{Host: "mail.example.kr", Port: 465, Implicit: true, User: "u", Password: "p"}, ""},
		{"plain on loopback", map[string]string{"SMTP_URL": "smtp://127.0.0.1:1025", "MAIL_FROM": "noreply@example.kr", "SMTP_PLAIN_LOOPBACK": "true"},
			SMTPServer{Host: "127.0.0.1", Port: 1025, Plain: true}, ""},
		{"plain elsewhere", map[string]string{"SMTP_URL": "smtp://mail.example.kr:25", "MAIL_FROM": "noreply@example.kr", "SMTP_PLAIN_LOOPBACK": "true"},
			SMTPServer{}, "SMTP_PLAIN_LOOPBACK"},
		{"no sender", map[string]string{"SMTP_URL": "smtp://mail.example.kr"}, SMTPServer{}, "MAIL_FROM: must be set"},
		{"bad sender", map[string]string{"SMTP_URL": "smtp://mail.example.kr", "MAIL_FROM": "nobody"}, SMTPServer{}, "MAIL_FROM"},
		{"bad scheme", map[string]string{"SMTP_URL": "http://mail.example.kr", "MAIL_FROM": "noreply@example.kr"}, SMTPServer{}, "SMTP_URL"},
		{"bad port", map[string]string{"SMTP_URL": "smtp://mail.example.kr:99999", "MAIL_FROM": "noreply@example.kr"}, SMTPServer{}, "SMTP_URL"},
		{"bad hour", map[string]string{"PORTAL_MAIL_DIGEST_HOUR": "24"}, SMTPServer{}, "PORTAL_MAIL_DIGEST_HOUR"},
		{"bad tries", map[string]string{"PORTAL_MAIL_ATTEMPTS": "0"}, SMTPServer{}, "PORTAL_MAIL_ATTEMPTS"},
		{"bad poll", map[string]string{"PORTAL_MAIL_POLL": "10ms"}, SMTPServer{}, "PORTAL_MAIL_POLL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.Mail.Enabled() {
				if tc.env["SMTP_URL"] != "" {
					t.Fatal("mail not enabled")
				}
				if c.Mail.DigestHour != 8 || c.Mail.Attempts != 8 || c.Mail.Poll != 30*time.Second {
					t.Errorf("defaults: %+v", c.Mail)
				}
				return
			}
			got, err := c.Mail.Server()
			if err != nil || got != tc.want {
				t.Errorf("server %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Mode, c.Mail.PlainLoopback = ModeProduction, true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SMTP_PLAIN_LOOPBACK: mail without TLS is refused in production") {
		t.Errorf("production with plain SMTP: %v", err)
	}
}
