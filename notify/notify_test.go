package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/notify"
	"kaiportal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func decodeBase64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatalf("base64 part: %v", err)
	}
	return out
}

// fixture is a migrated database with the mailer registered, two users of
// one organisation (Korean and English), and a worker on an injected clock.
type fixture struct {
	db       *gorm.DB
	clock    *testdb.Clock
	ko, en   models.User
	org      models.Organisation
	worker   *notify.Worker
	srv      *mailServer
	digestAt int
}

// start is 2026-12-07 09:30 KST.
var start = time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)

func newFixture(t *testing.T, db *gorm.DB, clock *testdb.Clock, srv *mailServer) *fixture {
	t.Helper()
	ctx := t.Context()
	clock.Set(start) // each database's run starts at the same instant
	f := &fixture{db: db, clock: clock, srv: srv, digestAt: 8}
	if err := notify.Register(db, f.digestAt); err != nil {
		t.Fatal(err)
	}
	f.org = models.Organisation{Code: "acme", NameKO: "에이크미", NameEN: "Acme", Kind: models.OrgCompany}
	if err := db.Create(&f.org).Error; err != nil {
		t.Fatal(err)
	}
	f.ko = models.User{Issuer: "t", Subject: "ko", Name: "김하나", Email: "hana@acme.test", Role: models.RoleCompany, OrganisationID: &f.org.ID}
	f.en = models.User{Issuer: "t", Subject: "en", Name: "Jane Roe", Email: "jane@acme.test", Role: models.RoleCompany, OrganisationID: &f.org.ID}
	for _, u := range []*models.User{&f.ko, &f.en} {
		if err := db.Create(u).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := models.SetUserLanguage(ctx, db, f.en.ID, models.LangEnglish, clock.Now()); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f.worker = &notify.Worker{DB: db, Cat: cat, BaseURL: "https://portal.test", Now: clock.Now,
		Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	if srv != nil {
		f.worker.Sender = srv.sender()
	}
	return f
}

// sender is an SMTPSender for the server, trusting its certificate.
func (m *mailServer) sender() *notify.SMTPSender {
	host, port, _ := net.SplitHostPort(m.addr)
	p, _ := strconv.Atoi(port)
	return &notify.SMTPSender{
		Server: config.SMTPServer{Host: host, Port: p, Implicit: m.implicit, User: m.user, Password: m.password},
		From:   "K-AI 포털 <noreply@portal.test>",
		TLS:    &tls.Config{RootCAs: m.roots, ServerName: host, MinVersion: tls.VersionTLS12},
	}
}

// decision records the notice of a published decision to the organisation.
func (f *fixture) decision(t *testing.T, key string) {
	t.Helper()
	n := models.Notification{Kind: models.NotifyDecisionPublished, Key: key, Link: "/decisions/7",
		To: models.Audience{Organisations: []uint{f.org.ID}},
		Params: map[string]string{"call": "2027년 정예팀 공모", "result": "not_selected", "rank": "2",
			"opens": "2026-12-07 09:30:00", "closes": "2026-12-21 23:59:59"}}
	if err := f.db.Transaction(func(tx *gorm.DB) error { return models.Notify(t.Context(), tx, f.clock.Now(), n) }); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t *testing.T) notify.Result {
	t.Helper()
	res, err := f.worker.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	return res
}

// TestMailInUsersLanguage: a published decision reaches each user of the
// organisation as one mail in their language, through STARTTLS or implicit
// TLS with a self-signed certificate and AUTH, with a plain-text part and
// an HTML part that link to the decision; a second round sends nothing.
func TestMailInUsersLanguage(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		name := "starttls"
		if implicit {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			clock := testdb.NewClock(start)
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				srv := newMailServer(t, implicit)
				f := newFixture(t, db, clock, srv)
				f.decision(t, "decision:7")
				if res := f.run(t); res.Sent != 2 || res.Failed != 0 {
					t.Fatalf("round: %+v, want 2 sent", res)
				}
				if res := f.run(t); res.Sent != 0 {
					t.Fatalf("second round sent %d again", res.Sent)
				}
				got := map[string]parsedMail{}
				for _, r := range srv.mails() {
					p := parseMail(t, r)
					got[p.To] = p
				}
				for _, tc := range []struct {
					to, subject, text, html string
				}{
					{"hana@acme.test", "[K-AI] 2027년 정예팀 공모 선정 결과가 발표되었습니다", "결과: 미선정 (순위 2위)", "2026-12-21 23:59:59"},
					{"jane@acme.test", "[K-AI] Decision published: 2027년 정예팀 공모", "Result: not selected (rank 2)", "until 2026-12-21 23:59:59 KST"},
				} {
					p, ok := got[tc.to]
					if !ok {
						t.Fatalf("no mail to %s (got %d mails)", tc.to, len(got))
					}
					if p.Subject != tc.subject {
						t.Errorf("%s: subject %q, want %q", tc.to, p.Subject, tc.subject)
					}
					text, html := p.Parts["text/plain"], p.Parts["text/html"]
					if !strings.Contains(text, tc.text) || !strings.Contains(text, "https://portal.test/decisions/7") {
						t.Errorf("%s: text part lacks %q or the link:\n%s", tc.to, tc.text, text)
					}
					if !strings.Contains(html, tc.html) || !strings.Contains(html, `href="https://portal.test/decisions/7"`) {
						t.Errorf("%s: HTML part lacks %q or the link:\n%s", tc.to, tc.html, html)
					}
				}
				var jobs []models.MailJob
				db.Find(&jobs)
				for _, j := range jobs {
					if j.Done == nil || j.Failed || j.Attempts != 0 {
						t.Errorf("job %d: %+v, want sent at the first try", j.ID, j)
					}
				}
			})
		})
	}
}

// TestMailRetriedAfterServerDown: with the mail server down the mail stays
// in the outbox, is not tried again before its back-off has passed, and
// once the server is back it arrives exactly once.
func TestMailRetriedAfterServerDown(t *testing.T) {
	clock := testdb.NewClock(start)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		srv := newMailServer(t, false)
		f := newFixture(t, db, clock, srv)
		if err := db.Model(&models.User{}).Where("id = ?", f.en.ID).Update("email", "").Error; err != nil {
			t.Fatal(err)
		}
		srv.stop()
		f.decision(t, "decision:7")
		if res := f.run(t); res.Failed != 1 || res.Sent != 0 {
			t.Fatalf("server down: %+v, want 1 failed", res)
		}
		var job models.MailJob
		if err := db.Where("user_id = ?", f.ko.ID).Take(&job).Error; err != nil {
			t.Fatal(err)
		}
		if job.Attempts != 1 || job.Done != nil || !job.DueAt.Equal(start.Add(notify.RetryIn(1))) {
			t.Fatalf("after the failure: %+v, want due again in %s", job, notify.RetryIn(1))
		}
		srv.start()
		clock.Advance(notify.RetryIn(1) - time.Second)
		if res := f.run(t); res.Sent != 0 || res.Failed != 0 {
			t.Fatalf("before the back-off: %+v, want nothing tried", res)
		}
		clock.Advance(time.Second)
		if res := f.run(t); res.Sent != 1 {
			t.Fatalf("after the back-off: %+v, want 1 sent", res)
		}
		clock.Advance(time.Hour)
		if res := f.run(t); res.Sent != 0 {
			t.Fatalf("sent again: %+v", res)
		}
		if n := len(srv.mails()); n != 1 {
			t.Fatalf("%d mails arrived, want exactly 1", n)
		}
		// The user without an address got no mail, and is not tried again.
		var noAddr models.MailJob
		if err := db.Where("user_id = ?", f.en.ID).Take(&noAddr).Error; err != nil || noAddr.Done == nil {
			t.Fatalf("job of the user without an address: %+v %v", noAddr, err)
		}
	})
}

// TestMailGivenUpAfterAttempts: a mail that fails every try is given up
// after the last one, with the waits doubling between tries.
func TestMailGivenUpAfterAttempts(t *testing.T) {
	clock := testdb.NewClock(start)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		srv := newMailServer(t, false)
		f := newFixture(t, db, clock, srv)
		srv.stop()
		f.worker.Attempts = 3
		f.decision(t, "decision:7")
		for i, wait := range []time.Duration{0, time.Minute, 2 * time.Minute} {
			clock.Advance(wait)
			if res := f.run(t); res.Failed != 2 {
				t.Fatalf("try %d: %+v, want 2 failed", i+1, res)
			}
		}
		clock.Advance(24 * time.Hour)
		if res := f.run(t); res.Failed != 0 {
			t.Fatalf("tried after the last attempt: %+v", res)
		}
		var failed int64
		db.Model(&models.MailJob{}).Where("failed = ? AND done IS NOT NULL AND attempts = 3", true).Count(&failed)
		if failed != 2 {
			t.Fatalf("%d jobs given up, want 2", failed)
		}
	})
}

// TestRolledBackEventSendsNothing: a notice recorded in a transaction that
// rolls back leaves no message and no mail.
func TestRolledBackEventSendsNothing(t *testing.T) {
	clock := testdb.NewClock(start)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		srv := newMailServer(t, false)
		f := newFixture(t, db, clock, srv)
		boom := errors.New("the decision could not be published")
		err := db.Transaction(func(tx *gorm.DB) error {
			n := models.Notification{Kind: models.NotifyDecisionPublished, Key: "decision:9", To: models.Audience{Organisations: []uint{f.org.ID}}}
			if err := models.Notify(t.Context(), tx, clock.Now(), n); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if res := f.run(t); res.Sent != 0 || res.Failed != 0 {
			t.Fatalf("round: %+v, want nothing", res)
		}
		var jobs, msgs int64
		db.Model(&models.MailJob{}).Count(&jobs)
		db.Model(&models.InboxMessage{}).Count(&msgs)
		if jobs != 0 || msgs != 0 || len(srv.mails()) != 0 {
			t.Fatalf("after a rollback: %d jobs, %d messages, %d mails", jobs, msgs, len(srv.mails()))
		}
	})
}

// TestDailyDigestAndPreferences: each kind reaches the user as they chose:
// a mail at once, gathered into one digest mail at the digest hour (KST)
// with every message of the day, or the inbox only.
func TestDailyDigestAndPreferences(t *testing.T) {
	clock := testdb.NewClock(start)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		srv := newMailServer(t, false)
		f := newFixture(t, db, clock, srv)
		prefs, err := models.GetNoticePrefs(ctx, db, f.ko.ID)
		if err != nil {
			t.Fatal(err)
		}
		prefs.Modes[models.NotifyDecisionPublished] = string(models.NoticeDigest)
		prefs.Modes[models.NotifyAppealAnswered] = string(models.NoticeDigest)
		prefs.Modes[models.NotifyReportDue] = string(models.NoticeInbox)
		prefs.Modes[models.NotifyAgreementSent] = string(models.NoticeMail)
		if _, err := models.SaveNoticePrefs(ctx, db, f.ko.ID, prefs, clock.Now()); err != nil {
			t.Fatal(err)
		}
		to := models.Audience{Users: []uint{f.ko.ID}}
		notice := func(kind models.NotificationKind, key string, params map[string]string) {
			t.Helper()
			n := models.Notification{Kind: kind, Key: key, To: to, Link: "/x/" + key, Params: params}
			if err := db.Transaction(func(tx *gorm.DB) error { return models.Notify(ctx, tx, clock.Now(), n) }); err != nil {
				t.Fatal(err)
			}
		}
		notice(models.NotifyDecisionPublished, "d1", map[string]string{"call": "첫째 공모", "result": "selected", "rank": "1",
			"opens": "2026-12-07 09:30:00", "closes": "2026-12-21 23:59:59"})
		notice(models.NotifyReportDue, "r1", nil)
		notice(models.NotifyAgreementSent, "a1", map[string]string{"number": "2025-K-AI-003", "version": "2", "start": "2026-01-01", "end": "2026-12-31"})
		clock.Advance(10 * time.Hour) // 19:30 KST, the same day
		notice(models.NotifyAppealAnswered, "p1", nil)

		if res := f.run(t); res.Sent != 1 {
			t.Fatalf("before the digest: %+v, want only the mail at once", res)
		}
		if got := parseMail(t, srv.mails()[0]); got.Subject != "[서명 요청] 협약 2025-K-AI-003 버전 2" {
			t.Errorf("the mail at once: subject %q, want the agreement's", got.Subject)
		}
		clock.Set(time.Date(2026, 12, 7, 22, 59, 59, 0, time.UTC)) // 07:59:59 KST the next day
		if res := f.run(t); res.Sent != 0 {
			t.Fatalf("before 08:00 KST: %+v", res)
		}
		clock.Set(time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)) // 08:00 KST
		if res := f.run(t); res.Sent != 1 {
			t.Fatalf("at 08:00 KST: %+v, want one digest", res)
		}
		mails := srv.mails()
		if len(mails) != 2 {
			t.Fatalf("%d mails, want the mail at once and one digest", len(mails))
		}
		d := parseMail(t, mails[1])
		if d.Subject != "[K-AI] 오늘의 알림 2건" {
			t.Errorf("digest subject %q", d.Subject)
		}
		text := d.Parts["text/plain"]
		for _, want := range []string{"첫째 공모 선정 결과가 발표되었습니다", "결과: 선정 (순위 1위)", "https://portal.test/x/d1", "https://portal.test/x/p1"} {
			if !strings.Contains(text, want) {
				t.Errorf("digest lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "/x/r1") || strings.Contains(text, "/x/a1") {
			t.Errorf("digest has a notice it should not:\n%s", text)
		}
		clock.Advance(48 * time.Hour)
		if res := f.run(t); res.Sent != 0 {
			t.Fatalf("later: %+v", res)
		}
		// Every notice is in the inbox, the inbox-only one too.
		if n, _ := models.UnreadCount(ctx, db, f.ko.ID); n != 4 {
			t.Errorf("%d unread, want 4", n)
		}
	})
}

// TestWithoutSMTPMailIsLogged: without SMTP_URL the mail is logged, marked
// sent, and the notice stays in the inbox.
func TestWithoutSMTPMailIsLogged(t *testing.T) {
	clock := testdb.NewClock(start)
	db := testdb.Open(t, testdb.SQLite, clock.Now)
	f := newFixture(t, db, clock, nil)
	var buf bytes.Buffer
	f.worker.Sender = notify.LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	f.decision(t, "decision:7")
	if res := f.run(t); res.Sent != 2 {
		t.Fatalf("round: %+v", res)
	}
	if !strings.Contains(buf.String(), "SMTP_URL is not set") || !strings.Contains(buf.String(), "jane@acme.test") {
		t.Errorf("log: %s", buf.String())
	}
	if n, _ := models.UnreadCount(t.Context(), db, f.ko.ID); n != 1 {
		t.Errorf("%d unread", n)
	}
}

// TestNextDigest: the digest hour is KST, the next one strictly after t.
func TestNextDigest(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		hour int
		want time.Time
	}{
		{time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC), 8, time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)}, // 09:30 KST → 08:00 tomorrow
		{time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC), 8, time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)}, // 07:00 KST → 08:00 today
		{time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC), 8, time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)}, // 08:00 KST exactly → tomorrow
		{time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC), 0, time.Date(2027, 1, 1, 15, 0, 0, 0, time.UTC)}, // midnight KST → next midnight
	} {
		if got := models.NextDigest(tc.at, tc.hour); !got.Equal(tc.want) {
			t.Errorf("NextDigest(%s, %d) = %s, want %s", tc.at, tc.hour, got, tc.want)
		}
	}
}

// TestEveryKindHasText: every kind renders in both languages — its own
// texts where written, else the generic line — and the published decision
// says its result, rank and appeal window in each.
func TestEveryKindHasText(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"call": "2027 공모", "result": "selected", "rank": "3", "opens": "2026-12-07 09:30:00", "closes": "2026-12-21 23:59:59"}
	for _, lang := range []string{"ko", "en"} {
		l := cat.For(lang)
		for _, k := range models.NotificationKinds {
			s, b := l.Notice(string(k), params)
			if s == "" || b == "" || strings.Contains(s+b, "[notice.") {
				t.Errorf("%s %s: %q / %q", lang, k, s, b)
			}
			if label := l.T("notify.kind." + string(k)); strings.HasPrefix(label, "[") {
				t.Errorf("%s: no label for %s", lang, k)
			}
		}
		s, b := l.Notice(string(models.NotifyDecisionPublished), params)
		want := map[string][]string{
			"ko": {"2027 공모 선정 결과가 발표되었습니다", "결과: 선정 (순위 3위)", "2026-12-07 09:30:00부터 2026-12-21 23:59:59 (한국 시간)까지"},
			"en": {"Decision published: 2027 공모", "Result: selected (rank 3)", "from 2026-12-07 09:30:00 until 2026-12-21 23:59:59 KST"},
		}[lang]
		for _, w := range want {
			if !strings.Contains(s+" "+b, w) {
				t.Errorf("%s decision.published lacks %q: %s / %s", lang, w, s, b)
			}
		}
		if strings.Contains(b, "<no value>") {
			t.Errorf("%s: a parameter is missing from the text: %s", lang, b)
		}
		// A kind without its own texts yet reads as the generic line.
		if s, _ := l.Notice("kind.without.texts", nil); s != l.T("notice.generic.subject") || strings.HasPrefix(s, "[notice.") {
			t.Errorf("%s: a kind without texts: %q, want the generic subject", lang, s)
		}
	}
}

// TestTwoInstancesSendEachMailOnce: two portal instances (two connection
// pools on one database) run their workers at the same time; each mail
// arrives once. A mail claimed by an instance that then died is sent by
// the other once the claim's lease has run out, not before.
func TestTwoInstancesSendEachMailOnce(t *testing.T) {
	clock := testdb.NewClock(start)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		srv := newMailServer(t, false)
		f := newFixture(t, db, clock, srv)
		var users []uint
		for i := range 12 {
			u := models.User{Issuer: "t", Subject: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("사용자 %d", i),
				Email: fmt.Sprintf("u%d@acme.test", i), Role: models.RoleCompany, OrganisationID: &f.org.ID}
			if err := db.Create(&u).Error; err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		f.decision(t, "decision:7") // 14 users of the organisation
		other := *f.worker
		other.DB = testdb.OpenAgain(t, db, clock.Now)
		other.Batch, f.worker.Batch = 3, 3
		var wg sync.WaitGroup
		for _, w := range []*notify.Worker{f.worker, &other} {
			wg.Go(func() {
				for range 10 {
					if _, err := w.RunOnce(context.Background()); err != nil {
						t.Errorf("worker: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		got := map[string]int{}
		for _, r := range srv.mails() {
			got[strings.Join(r.To, ",")]++
		}
		if len(got) != len(users)+2 {
			t.Errorf("%d addresses got mail, want %d", len(got), len(users)+2)
		}
		for to, n := range got {
			if n != 1 {
				t.Errorf("%s got %d mails", to, n)
			}
		}

		// A claim whose instance died: the lease keeps it from the other
		// instance until it runs out.
		f.decision(t, "decision:8")
		claimed, err := models.ClaimMail(t.Context(), db, clock.Now(), 5*time.Minute, 100)
		if err != nil || len(claimed) != len(users)+2 {
			t.Fatalf("claimed %d, %v", len(claimed), err)
		}
		before := len(srv.mails())
		other.Batch = 100
		clock.Advance(5*time.Minute - time.Second)
		if res, err := other.RunOnce(t.Context()); err != nil || res.Sent != 0 {
			t.Fatalf("inside the lease: %+v %v", res, err)
		}
		clock.Advance(time.Second)
		if res, err := other.RunOnce(t.Context()); err != nil || res.Sent != len(users)+2 {
			t.Fatalf("after the lease: %+v %v", res, err)
		}
		if n := len(srv.mails()) - before; n != len(users)+2 {
			t.Errorf("%d mails after the lease, want %d", n, len(users)+2)
		}
	})
}

// cancellingSender cancels the worker's context at its first mail, as a
// shutdown during a round would.
type cancellingSender struct {
	cancel context.CancelFunc
	calls  int
}

func (s *cancellingSender) Send(ctx context.Context, _ notify.Mail) error {
	s.calls++
	s.cancel()
	return ctx.Err()
}

// TestWorkerStops: Run sends what is due at once and returns when its
// context ends; a round cut short by the end settles what it claimed: the
// mail being sent counts as a failed try, the rest is released untouched
// for the next round.
func TestWorkerStops(t *testing.T) {
	clock := testdb.NewClock(start)
	db := testdb.Open(t, testdb.SQLite, clock.Now)
	srv := newMailServer(t, false)
	f := newFixture(t, db, clock, srv)
	f.decision(t, "decision:7")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	f.worker.Poll = time.Hour
	go func() { done <- f.worker.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); len(srv.mails()) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d mails after 10s, want 2", len(srv.mails()))
		}
		time.Sleep(10 * time.Millisecond) // polling for delivery
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	f.decision(t, "decision:8")
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	s := &cancellingSender{cancel: cancel}
	f.worker.Sender = s
	res, err := f.worker.RunOnce(ctx)
	if err != nil || res.Claimed != 2 || res.Failed != 1 || s.calls != 1 {
		t.Fatalf("round cut short: %+v %v, %d sends", res, err, s.calls)
	}
	var jobs []models.MailJob
	db.Joins("Message").Where("Message.key = ?", "decision:8").Order("mail_jobs.id").Find(&jobs)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	for _, j := range jobs {
		if j.ClaimToken != "" || j.Done != nil {
			t.Errorf("job %d left claimed or done: %+v", j.ID, j)
		}
	}
	if jobs[0].Attempts+jobs[1].Attempts != 1 {
		t.Errorf("attempts %d and %d, want one failed try in all", jobs[0].Attempts, jobs[1].Attempts)
	}
}
