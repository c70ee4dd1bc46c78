package handlers

import (
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestNoticesThroughTheRouter: an appeal filed through the form records
// its receipt for the filer's organisation and its alert for the officers,
// and nothing for the other applicants; the background sweep, with
// NOTIFY_REMINDER_OFFSETS as configured, reminds the applicant not selected
// that has not appealed before the window closes, once, and no one else.
func TestNoticesThroughTheRouter(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		ctx := t.Context()
		s := newStory(t, kind, map[string]string{"NOTIFY_REMINDER_OFFSETS": "48h"})
		c := s.decidedCall("2027년 알림 시험 공모", applicant{"upstage", 9, true}, applicant{"kaist", 6, false}, applicant{"kakao", 5, false})
		f := &aplFixture{story: s, t: t, call: c.Call, officer: s.officer(), decision: c.decision}
		id := f.fileAs(f.company("kaist"), "평가 절차에 중대한 하자가 있습니다.")

		kinds := func(u *models.User) map[models.NotificationKind][]models.InboxMessage {
			t.Helper()
			ms, err := models.ListInbox(ctx, s.app.db, u.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			out := map[models.NotificationKind][]models.InboxMessage{}
			for _, m := range ms {
				out[m.Kind] = append(out[m.Kind], m)
			}
			return out
		}
		kaist, kakao, upstage := s.companyUser("kaist"), s.companyUser("kakao"), s.companyUser("upstage")
		for _, tc := range []struct {
			who  *models.User
			kind models.NotificationKind
			want int
		}{
			{kaist, models.NotifyDecisionPublished, 1}, {kaist, models.NotifyAppealReceived, 1},
			{kakao, models.NotifyDecisionPublished, 1}, {kakao, models.NotifyAppealReceived, 0},
			{upstage, models.NotifyAppealReceived, 0}, {upstage, models.NotifyAppealFiled, 0},
			{s.officer(), models.NotifyAppealFiled, 1}, {s.officer(), models.NotifyDecisionPublished, 0},
		} {
			if got := len(kinds(tc.who)[tc.kind]); got != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.who.Subject, got, tc.kind, tc.want)
			}
		}
		if ms := kinds(kaist)[models.NotifyAppealReceived]; len(ms) == 1 && ms[0].Link != "/appeals/"+itoa(id) {
			t.Errorf("receipt links to %s", ms[0].Link)
		}

		w, err := models.DecisionWindow(ctx, s.app.db, c.decision, s.now())
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{w.Closes.Add(-48*time.Hour - time.Second), w.Closes.Add(-48 * time.Hour), w.Closes.Add(-time.Hour)} {
			s.app.clock.Set(at)
			if err := s.app.h.sweepNotifications(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := kinds(kakao)[models.NotifyReminder]
		if len(got) != 1 || !strings.HasSuffix(got[0].Key, ":48h0m0s") || got[0].Link != "/decisions/"+itoa(c.decision.ID)+"/appeal" {
			t.Errorf("kakao's reminders: %+v", got)
		}
		for _, u := range []*models.User{kaist, upstage, s.officer()} {
			if n := len(kinds(u)[models.NotifyReminder]); n != 0 {
				t.Errorf("%s got %d reminders", u.Subject, n)
			}
		}
	})
}
