package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// notice records a published-decision notice to one user, linking to the
// decision, and returns the message's id.
func (s *story) notice(u *models.User, decisionID uint) uint {
	s.t.Helper()
	n := models.Notification{Kind: models.NotifyDecisionPublished, Key: fmt.Sprintf("decision:%d:user:%d", decisionID, u.ID),
		Link: fmt.Sprintf("/decisions/%d", decisionID), To: models.Audience{Users: []uint{u.ID}},
		Params: map[string]string{"call": "공모", "result": "selected", "rank": "1", "opens": "2026-11-27 14:00:00", "closes": "2026-12-11 23:59:59"}}
	if err := s.app.db.Transaction(func(tx *gorm.DB) error { return models.Notify(s.t.Context(), tx, s.now(), n) }); err != nil {
		s.t.Fatal(err)
	}
	var id uint
	if err := s.app.db.Model(&models.InboxMessage{}).Where("user_id = ? AND key = ?", u.ID, n.Key).Pluck("id", &id).Error; err != nil || id == 0 {
		s.t.Fatalf("the notice to user %d: %v", u.ID, err)
	}
	return id
}

// seedMoreNotices gives the user n notices of several kinds, so that the
// inbox is one of the pages whose statements must not grow with the data.
func seedMoreNotices(t *testing.T, db *gorm.DB, now time.Time, u *models.User, n int) {
	t.Helper()
	for i := range n {
		kind := models.NotificationKinds[i%len(models.NotificationKinds)]
		note := models.Notification{Kind: kind, Key: fmt.Sprintf("statement-count:%d", i), Link: "/appeals",
			To: models.Audience{Users: []uint{u.ID}}, Params: map[string]string{"call": "공모"}}
		if err := db.Transaction(func(tx *gorm.DB) error {
			return models.Notify(t.Context(), tx, now.Add(time.Duration(i)*time.Minute), note)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// unreadIn is the unread count the header of a page shows ("" for none),
// with its words for screen readers.
func unreadIn(t *testing.T, c *testClient, path string) (count, words string) {
	t.Helper()
	doc := wantPage(t, path, c.get(path), http.StatusOK)
	if doc.Find(`[data-testid="inbox-link"]`).Length() != 1 {
		t.Fatalf("%s: no inbox link in the header", path)
	}
	return strings.TrimSpace(testIDText(doc, "unread-count")), strings.TrimSpace(testIDText(doc, "unread-text"))
}

// TestInboxAndUnreadCount: the header of every signed-in page, cached ones
// included, shows the unread count in figures and words; the inbox lists
// the user's notices newest first with the unread ones marked; opening one
// marks it read and goes to its object; another user's notice is not
// found and stays unread; "mark all read" clears the count.
func TestInboxAndUnreadCount(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		app := s.app
		up, kaist := s.user("demo-company-upstage"), s.user("demo-company-kaist")
		c := app.client()
		c.signInDemo("demo-company-upstage")

		for _, path := range []string{"/company", "/company", "/calls", "/inbox"} { // /company twice: the second from the cache
			if n, words := unreadIn(t, c, path); n != "" || words != "읽지 않은 알림 없음" {
				t.Errorf("%s before any notice: count %q, words %q", path, n, words)
			}
		}
		first := s.notice(up, 1)
		app.clock.Advance(time.Minute)
		second := s.notice(up, 2)
		theirs := s.notice(kaist, 1)
		for _, path := range []string{"/company", "/calls", "/inbox"} {
			if n, words := unreadIn(t, c, path); n != "2" || words != "읽지 않은 알림 2건" {
				t.Errorf("%s with two notices: count %q, words %q", path, n, words)
			}
		}

		doc := wantPage(t, "inbox", c.get("/inbox"), http.StatusOK)
		items := doc.Find(`[data-testid="inbox-item"]`)
		if items.Length() != 2 {
			t.Fatalf("inbox: %d items, want 2 (the user's own)", items.Length())
		}
		if got := items.First().Find(`[data-testid="inbox-subject"]`).Text(); !strings.Contains(got, "선정 결과가 발표되었습니다") {
			t.Errorf("first item's subject %q", got)
		}
		if a, _ := items.First().Find("form").Attr("action"); a != fmt.Sprintf("/inbox/%d/open", second) {
			t.Errorf("the newest first: form %q, want the second notice", a)
		}
		if doc.Find(`[data-testid="inbox-unread"]`).Length() != 2 {
			t.Error("both notices should be marked unread in words")
		}

		// Another user's notice: not found, and still unread.
		wantErrorStatus(t, "open KAIST's notice", c.post(fmt.Sprintf("/inbox/%d/open", theirs), nil), http.StatusNotFound)
		if n, _ := models.UnreadCount(t.Context(), app.db, kaist.ID); n != 1 {
			t.Errorf("KAIST's notice: %d unread after Upstage tried it", n)
		}

		wantSeeOther(t, "open", c.post(fmt.Sprintf("/inbox/%d/open", first), nil), "/decisions/1")
		if n, words := unreadIn(t, c, "/company"); n != "1" || words != "읽지 않은 알림 1건" {
			t.Errorf("after opening one: count %q, words %q", n, words)
		}
		doc = wantPage(t, "inbox", c.get("/inbox"), http.StatusOK)
		if v, _ := doc.Find(`[data-testid="inbox-item"]`).Last().Attr("data-unread"); v != "false" {
			t.Errorf("the opened notice: data-unread=%q", v)
		}
		wantSeeOther(t, "mark all read", c.post("/inbox/read-all", nil), "/inbox")
		if n, _ := unreadIn(t, c, "/company"); n != "" {
			t.Errorf("after mark all read: count %q", n)
		}
		if n, _ := models.UnreadCount(t.Context(), app.db, kaist.ID); n != 1 {
			t.Errorf("mark all read touched another user's notices")
		}
	})
}

// TestNoticePrefsForm: the settings form shows the defaults, refuses a bad
// choice with the field's message and keeps what was sent, saves a good
// one; switching the portal's language sets the language of the mail.
func TestNoticePrefsForm(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	u := c.signInDemo("demo-company-upstage")
	doc := wantPage(t, "settings", c.get("/account/notifications"), http.StatusOK)
	if doc.Find(`[data-testid="prefs-mode"]`).Length() != len(models.NotificationKinds) {
		t.Fatalf("%d kinds on the form, want %d", doc.Find(`[data-testid="prefs-mode"]`).Length(), len(models.NotificationKinds))
	}
	if _, ok := doc.Find(`[data-testid="prefs-lang-ko"]`).Attr("checked"); !ok {
		t.Error("Korean is not the default language")
	}
	if doc.Find(`[data-testid="prefs-mail-off"]`).Length() != 1 {
		t.Error("without SMTP_URL the page must say that no mail is sent")
	}

	form := url.Values{"lang": {"en"}}
	for _, k := range models.NotificationKinds {
		form.Set("mode."+string(k), string(models.NoticeDigest))
	}
	form.Set("mode."+string(models.NotifyReportDue), "fax")
	form.Set("mode."+string(models.NotifyAppealAnswered), string(models.NoticeInbox))
	doc = wantPage(t, "bad settings", c.post("/account/notifications", form), http.StatusUnprocessableEntity)
	wantFieldError(t, "bad settings", doc, "mode.report.due")
	if v, _ := doc.Find(`select[name="mode.appeal.answered"] option[selected]`).Attr("value"); v != "inbox" {
		t.Errorf("the form lost the choice sent: %q", v)
	}
	if _, ok := doc.Find(`[data-testid="prefs-lang-en"]`).Attr("checked"); !ok {
		t.Error("the form lost the language sent")
	}
	if p, _ := models.GetNoticePrefs(t.Context(), app.db, u.ID); p.Lang != "ko" || p.Modes[models.NotifyAppealAnswered] != "mail" {
		t.Errorf("bad input saved something: %+v", p)
	}

	form.Set("mode."+string(models.NotifyReportDue), string(models.NoticeMail))
	wantSeeOther(t, "good settings", c.post("/account/notifications", form), "/account/notifications?saved=1")
	p, err := models.GetNoticePrefs(t.Context(), app.db, u.ID)
	if err != nil || p.Lang != "en" || p.Modes[models.NotifyAppealAnswered] != "inbox" || p.Modes[models.NotifyReportDue] != "mail" ||
		p.Modes[models.NotifyDecisionPublished] != "digest" {
		t.Errorf("saved: %+v %v", p, err)
	}
	doc = wantPage(t, "saved", c.get("/account/notifications?saved=1"), http.StatusOK)
	if doc.Find(`[data-testid="prefs-saved"]`).Length() != 1 {
		t.Error("no saved notice")
	}

	wantSeeOther(t, "switch to Korean", c.post("/lang", url.Values{"lang": {"ko"}, "next": {"/inbox"}}), "/inbox")
	if lang, _ := models.UserLanguage(t.Context(), app.db, u.ID); lang != "ko" {
		t.Errorf("after switching the portal to Korean the mail language is %q", lang)
	}
}
