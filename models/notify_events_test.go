package models_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
)

// inboxWatch reads the inbox messages recorded since it last looked.
type inboxWatch struct {
	t    *testing.T
	db   *gorm.DB
	mark uint
	all  []models.InboxMessage
}

func watchInbox(t *testing.T, db *gorm.DB) *inboxWatch {
	w := &inboxWatch{t: t, db: db}
	w.fresh()
	return w
}

// fresh returns the messages recorded since the last call, oldest first.
func (w *inboxWatch) fresh() []models.InboxMessage {
	w.t.Helper()
	var ms []models.InboxMessage
	if err := w.db.Where("id > ?", w.mark).Order("id").Find(&ms).Error; err != nil {
		w.t.Fatal(err)
	}
	for _, m := range ms {
		w.mark = max(w.mark, m.ID)
	}
	w.all = append(w.all, ms...)
	return ms
}

// to returns the users the messages of a kind went to, sorted, each as
// often as they got one.
func to(ms []models.InboxMessage, kind models.NotificationKind) []uint {
	var out []uint
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m.UserID)
		}
	}
	slices.Sort(out)
	return out
}

// only keeps the messages of the kinds.
func only(ms []models.InboxMessage, kinds ...models.NotificationKind) []models.InboxMessage {
	var out []models.InboxMessage
	for _, m := range ms {
		if slices.Contains(kinds, m.Kind) {
			out = append(out, m)
		}
	}
	return out
}

// usersOf returns the ids of the users with the role in the organisations
// (any organisation when none is named), sorted.
func usersOf(t *testing.T, db *gorm.DB, role models.Role, orgs ...uint) []uint {
	t.Helper()
	q := db.Model(&models.User{}).Where("role = ?", role)
	if len(orgs) > 0 {
		q = q.Where("organisation_id IN ?", orgs)
	}
	var ids []uint
	if err := q.Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func sortedIDs(groups ...[]uint) []uint {
	out := slices.Concat(groups...)
	slices.Sort(out)
	return out
}

func wantTo(t *testing.T, what string, ms []models.InboxMessage, kind models.NotificationKind, want []uint) {
	t.Helper()
	if got := to(ms, kind); !slices.Equal(got, want) {
		t.Errorf("%s: %s went to %v, want %v", what, kind, got, want)
	}
}

// checkTexts renders every message in Korean and English as the mail and
// the inbox do: each kind has its texts, every field they use is given,
// and a deadline's instant is named.
func checkTexts(t *testing.T, ms []models.InboxMessage) {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		data := map[string]any{}
		for k, v := range m.ParamMap() {
			data[k] = v
		}
		for _, lang := range i18n.Languages {
			for _, part := range []string{"subject", "body"} {
				id := "notice." + string(m.Kind) + "." + part
				s := cat.For(lang).T(id, data)
				if strings.HasPrefix(s, "[notice.") || strings.Contains(s, "<no value>") {
					t.Errorf("%s %s of %s: %q", lang, part, m.Key, s)
				}
			}
			body := cat.For(lang).T("notice."+string(m.Kind)+".body", data)
			for _, p := range []string{"closes", "answer_by", "since", "ends"} {
				if v, ok := m.ParamMap()[p]; ok && !strings.Contains(body, v) {
					t.Errorf("%s body of %s does not name %s %s: %q", lang, m.Key, p, v, body)
				}
			}
		}
	}
}

func sweep(t *testing.T, db *gorm.DB, at time.Time, s models.NotifySettings) {
	t.Helper()
	if err := models.SweepNotifications(t.Context(), db, at, s); err != nil {
		t.Fatalf("sweep at %s: %v", at.In(models.KST), err)
	}
}

var reminders = models.NotifySettings{ReminderOffsets: []time.Duration{72 * time.Hour, 24 * time.Hour},
	AllocationEndingAhead: 7 * 24 * time.Hour, TelemetryGap: 6 * time.Hour}

// TestReminderDue: the reminder due is the latest offset reached before
// the deadline, none before the first offset and none from the deadline on.
func TestReminderDue(t *testing.T) {
	t.Parallel()
	deadline := kst(2025, 8, 15, 0, 0, 0)
	offsets := []time.Duration{72 * time.Hour, 24 * time.Hour}
	for _, tc := range []struct {
		at   time.Time
		want time.Duration // 0: none
	}{
		{deadline.Add(-72*time.Hour - time.Second), 0},
		{deadline.Add(-72 * time.Hour), 72 * time.Hour},
		{deadline.Add(-72*time.Hour + time.Second), 72 * time.Hour},
		{deadline.Add(-24*time.Hour - time.Second), 72 * time.Hour},
		{deadline.Add(-24 * time.Hour), 24 * time.Hour},
		{deadline.Add(-time.Second), 24 * time.Hour},
		{deadline, 0},
		{deadline.Add(time.Second), 0},
	} {
		got, ok := models.ReminderDue(deadline, tc.at, offsets)
		if (tc.want != 0) != ok || got != tc.want {
			t.Errorf("at %s: %v %v, want %v", tc.at.In(models.KST), got, ok, tc.want)
		}
		// The order of the settings does not matter.
		if g2, ok2 := models.ReminderDue(deadline, tc.at, []time.Duration{24 * time.Hour, 72 * time.Hour}); g2 != got || ok2 != ok {
			t.Errorf("at %s, offsets reversed: %v %v", tc.at.In(models.KST), g2, ok2)
		}
	}
	if _, ok := models.ReminderDue(deadline, deadline.Add(-time.Hour), nil); ok {
		t.Error("a reminder without offsets")
	}
}

// TestDecisionAndAppealNotices: a published decision tells each applicant
// its own result and window, and no one else; an appeal's receipt goes to
// the filer, its alert to the officers, its answer to the filer, each once
// however often the request is sent; the officers are told once when the
// answer is overdue; an appeal that rolls back tells no one.
func TestDecisionAndAppealNotices(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		// An evaluator who belongs to an applicant, and a company the decision does not concern.
		kaistEvaluator := mustUser(t, db, seedAt, "evaluator-kaist", models.RoleReviewer, &w.org("kaist").ID)
		outsider := w.company("lunit")
		inbox := watchInbox(t, db)

		d, _ := w.decide(w.call, standardApplicants, publishAt, nil)
		ms := inbox.fresh()
		upstage, kakao, kaist := w.org("upstage").ID, w.org("kakao").ID, w.org("kaist").ID
		wantTo(t, "decision", ms, models.NotifyDecisionPublished, usersOf(t, db, models.RoleCompany, upstage, kakao, kaist))
		for _, m := range ms {
			if m.UserID == outsider.ID || m.UserID == kaistEvaluator.ID || m.UserID == w.officer.ID {
				t.Errorf("user %d, whom the decision does not concern, got %s", m.UserID, m.Key)
			}
			if m.Link != fmt.Sprintf("/decisions/%d", d.ID) {
				t.Errorf("link %q", m.Link)
			}
			p := m.ParamMap()
			want := map[string]string{"call": w.call.TitleKO, "result": "selected", "rank": "1",
				"opens": "2025-08-04 10:00:00", "closes": "2025-08-15 00:00:00"}
			var u models.User
			db.First(&u, m.UserID)
			switch *u.OrganisationID {
			case kakao:
				want["rank"] = "2"
			case kaist:
				want["result"], want["rank"] = "not_selected", "3"
			}
			if len(p) != len(want) {
				t.Errorf("params of %s: %v, want exactly %v", m.Key, p, want)
			}
			for k, v := range want {
				if p[k] != v {
					t.Errorf("%s: %s = %q, want %q", m.Key, k, p[k], v)
				}
			}
		}

		// An appeal whose transaction rolls back tells no one.
		boom := errors.New("the request failed after filing")
		err := db.Transaction(func(tx *gorm.DB) error {
			if _, _, err := models.FileAppeal(ctx, tx, appealIn(d, "kakao"), nil, w.company("kakao"), 14, publishAt.Add(time.Hour)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if ms := inbox.fresh(); len(ms) != 0 {
			t.Errorf("a rolled-back appeal recorded %d notices", len(ms))
		}

		// kaist appeals; the form is sent twice.
		filed := publishAt.Add(24 * time.Hour)
		a, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist"), nil, w.company("kaist"), 14, filed)
		if err != nil || !created {
			t.Fatalf("FileAppeal: %v %v", err, created)
		}
		if _, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist"), nil, w.company("kaist"), 14, filed.Add(time.Second)); err != nil || created {
			t.Fatalf("the second submit: %v %v", err, created)
		}
		ms = inbox.fresh()
		kaistUsers, officerUsers := usersOf(t, db, models.RoleCompany, kaist), usersOf(t, db, models.RoleOfficer)
		wantTo(t, "appeal filed", ms, models.NotifyAppealReceived, kaistUsers)
		wantTo(t, "appeal filed", ms, models.NotifyAppealFiled, officerUsers)
		if len(ms) != len(kaistUsers)+len(officerUsers) {
			t.Errorf("appeal filed: %d notices", len(ms))
		}
		if p := ms[0].ParamMap(); p["receipt"] != a.Receipt || p["answer_by"] != "2025-08-19 10:00:00" || ms[0].Link != fmt.Sprintf("/appeals/%d", a.ID) {
			t.Errorf("receipt: %v %s", p, ms[0].Link)
		}

		// Overdue from its answer-by instant, told once.
		sweep(t, db, a.AnswerBy.Add(-time.Second), reminders)
		if ms := inbox.fresh(); len(ms) != 0 {
			t.Errorf("before the answer is due: %d notices (%s)", len(ms), ms[0].Key)
		}
		sweep(t, db, a.AnswerBy, reminders)
		sweep(t, db, a.AnswerBy.Add(time.Minute), reminders)
		ms = inbox.fresh()
		wantTo(t, "overdue", ms, models.NotifyAppealOverdue, officerUsers)
		if len(ms) != len(officerUsers) {
			t.Errorf("overdue: %d notices", len(ms))
		}

		// The review starts (nothing to tell), then the appeal is dismissed.
		if err := models.DecideAppeal(ctx, db, a.ID, models.AppealStartReview, "", w.officer, a.AnswerBy.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ms := inbox.fresh(); len(ms) != 0 {
			t.Errorf("start of review: %d notices", len(ms))
		}
		if err := models.DecideAppeal(ctx, db, a.ID, models.AppealDismiss, "절차상 하자가 없습니다.", w.officer, a.AnswerBy.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ms = inbox.fresh()
		wantTo(t, "answered", ms, models.NotifyAppealAnswered, kaistUsers)
		if len(ms) != len(kaistUsers) || ms[0].ParamMap()["outcome"] != "dismissed" {
			t.Errorf("answered: %d notices, %v", len(ms), ms[0].ParamMap())
		}
		checkTexts(t, inbox.all)
	})
}

// TestAppealWindowReminders: the applicants not selected that have not
// appealed are reminded at each offset before the window closes, once;
// nobody after it closed, nor the one that appealed, nor the selected.
func TestAppealWindowReminders(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db, clock)
		apps := []applicant{
			{"upstage", standardApplicants[0].scores, true},
			{"kakao", standardApplicants[1].scores, false},
			{"kaist", standardApplicants[2].scores, false},
		}
		d, _ := w.decide(w.call, apps, publishAt, nil)
		if _, _, err := models.FileAppeal(t.Context(), db, appealIn(d, "kakao"), nil, w.company("kakao"), 14, publishAt.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		inbox := watchInbox(t, db)
		kaist := usersOf(t, db, models.RoleCompany, w.org("kaist").ID)
		for _, tc := range []struct {
			name   string
			at     time.Time
			offset string // "": no reminder
		}{
			{"just before 72h", appealCloses.Add(-72*time.Hour - time.Second), ""},
			{"at 72h", appealCloses.Add(-72 * time.Hour), "72h0m0s"},
			{"after 72h, told already", appealCloses.Add(-72*time.Hour + time.Second), ""},
			{"just before 24h", appealCloses.Add(-24*time.Hour - time.Second), ""},
			{"at 24h", appealCloses.Add(-24 * time.Hour), "24h0m0s"},
			{"after 24h", appealCloses.Add(-24*time.Hour + time.Minute), ""},
			{"just before the close", appealCloses.Add(-time.Second), ""},
			{"closed", appealCloses, ""},
			{"after the close", appealCloses.Add(time.Hour), ""},
		} {
			sweep(t, db, tc.at, reminders)
			ms := inbox.fresh()
			if tc.offset == "" {
				if len(ms) != 0 {
					t.Errorf("%s: %d notices (%s)", tc.name, len(ms), ms[0].Key)
				}
				continue
			}
			wantTo(t, tc.name, ms, models.NotifyReminder, kaist)
			for _, m := range ms {
				p := m.ParamMap()
				if !strings.HasSuffix(m.Key, ":"+tc.offset) || p["deadline"] != models.DeadlineAppealWindow ||
					p["closes"] != "2025-08-15 00:00:00" || m.Link != fmt.Sprintf("/decisions/%d/appeal", d.ID) {
					t.Errorf("%s: %s %v %s", tc.name, m.Key, p, m.Link)
				}
			}
		}
		checkTexts(t, inbox.all)
	})
}

// TestAgreementNotices: the parties are told when a version is sent, each
// signature (the officers too) and when it is in force; a party that has
// not signed is reminded before the version's first day, the ministry
// only once every other party has signed; one that signed is not.
func TestAgreementNotices(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		inbox := watchInbox(t, db)
		a, errs, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, ContactName: "김담당",
			Version: w.terms("2025-08-11", "2027-12-31", "Solar Pro")}, w.officer, at)
		if err != nil {
			t.Fatalf("CreateAgreement: %v %v", err, errs)
		}
		a = w.load(a)
		if err := models.SendVersion(ctx, db, a.ID, a.Versions[0].ID, w.officer, at); err != nil {
			t.Fatal(err)
		}
		parties := usersOf(t, db, models.RoleCompany, w.org("upstage").ID, w.org("lunit").ID)
		lunit := usersOf(t, db, models.RoleCompany, w.org("lunit").ID)
		officerUsers := usersOf(t, db, models.RoleOfficer)
		ms := inbox.fresh()
		wantTo(t, "sent", ms, models.NotifyAgreementSent, parties)
		if len(ms) != len(parties) {
			t.Errorf("sent: %d notices", len(ms))
		}
		// The ministry may not sign first: refused, it tells no one.
		if _, err := w.sign(a, 1, w.officer, at.Add(30*time.Minute)); !errors.Is(err, models.ErrMinistryFirst) {
			t.Fatalf("the ministry first: %v", err)
		}
		if ms := inbox.fresh(); len(ms) != 0 {
			t.Errorf("a refused signature recorded %d notices", len(ms))
		}
		if _, err := w.sign(a, 1, w.lead, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A second press of the button signs nothing new and tells no one.
		if _, err := w.sign(a, 1, w.lead, at.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ms = inbox.fresh()
		wantTo(t, "signed by the lead", ms, models.NotifyAgreementSigned, sortedIDs(parties, officerUsers))
		if len(ms) != len(parties)+len(officerUsers) {
			t.Errorf("signed: %d notices", len(ms))
		}

		deadline := kst(2025, 8, 11, 0, 0, 0) // the version's first day
		step := func(name string, at time.Time, want []uint, offset string) {
			t.Helper()
			sweep(t, db, at, reminders)
			ms := inbox.fresh()
			wantTo(t, name, ms, models.NotifyReminder, want)
			if len(ms) != len(want) {
				t.Errorf("%s: %d notices", name, len(ms))
			}
			for _, m := range ms {
				if p := m.ParamMap(); p["deadline"] != models.DeadlineSignature || p["closes"] != "2025-08-11 00:00:00" ||
					!strings.HasSuffix(m.Key, ":"+offset) {
					t.Errorf("%s: %s %v", name, m.Key, p)
				}
			}
		}
		step("just before 72h", deadline.Add(-72*time.Hour-time.Second), nil, "")
		step("at 72h: the member has not signed", deadline.Add(-72*time.Hour), lunit, "72h0m0s")
		step("after 72h", deadline.Add(-72*time.Hour+time.Minute), nil, "")
		if _, err := w.sign(a, 1, w.memb, deadline.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		inbox.fresh()
		step("at 24h: only the ministry has not", deadline.Add(-24*time.Hour), officerUsers, "24h0m0s")
		if _, err := w.sign(a, 1, w.officer, deadline.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		ms = inbox.fresh()
		wantTo(t, "countersigned", ms, models.NotifyAgreementSigned, sortedIDs(parties, officerUsers))
		wantTo(t, "in force", ms, models.NotifyAgreementEffective, parties)
		step("signed by all", deadline.Add(-time.Second), nil, "")
		checkTexts(t, inbox.all)
	})
}

// TestStageNotices: the teams are told when the proposed set opens for
// opinions, those that have sent none are reminded before it closes, and
// each team is told the stage's decision with its window.
func TestStageNotices(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		inbox := watchInbox(t, db)
		upstage := usersOf(t, db, models.RoleCompany, w.org("upstage").ID)
		kakao := usersOf(t, db, models.RoleCompany, w.org("kakao").ID)
		teams := sortedIDs(upstage, kakao)
		if errs, err := models.OpenOpinions(ctx, db, w.stage.ID, opinionsClose.Format(models.StageInstantLayout), w.officer, stageCreated); err != nil {
			t.Fatalf("OpenOpinions: %v %v", err, errs)
		}
		ms := inbox.fresh()
		wantTo(t, "opened", ms, models.NotifyOpinionOpened, teams) // kaist has no agreement: not a team
		if len(ms) != len(teams) || ms[0].ParamMap()["closes"] != "2025-11-14 18:00:00" {
			t.Errorf("opened: %d notices %v", len(ms), ms[0].ParamMap())
		}
		if _, err := models.SendOpinion(ctx, db, w.stage.ID, "벤치마크를 추가해 주십시오.", w.company("kakao"), stageCreated.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			at   time.Time
			want []uint
		}{
			{"just before 72h", opinionsClose.Add(-72*time.Hour - time.Second), nil},
			{"at 72h", opinionsClose.Add(-72 * time.Hour), upstage},
			{"at 24h", opinionsClose.Add(-24 * time.Hour), upstage},
			{"after 24h", opinionsClose.Add(-time.Second), nil},
			{"closed", opinionsClose, nil},
		} {
			sweep(t, db, tc.at, models.NotifySettings{ReminderOffsets: reminders.ReminderOffsets})
			ms := inbox.fresh()
			wantTo(t, tc.name, ms, models.NotifyOpinionClosing, tc.want)
			if len(ms) != len(tc.want) {
				t.Errorf("%s: %d notices", tc.name, len(ms))
			}
		}

		ops, err := models.ListOpinions(ctx, db, w.stage.ID, w.officer)
		if err != nil || len(ops) != 1 {
			t.Fatalf("opinions: %v %v", ops, err)
		}
		if errs, err := models.AnswerOpinion(ctx, db, w.stage.ID, ops[0].ID, "반영하겠습니다.", w.officer, opinionsClose); err != nil {
			t.Fatalf("AnswerOpinion: %v %v", err, errs)
		}
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		d := w.decided()
		ms = only(inbox.fresh(), models.NotifyDecisionPublished)
		wantTo(t, "stage decision", ms, models.NotifyDecisionPublished, teams)
		for _, m := range ms {
			p := m.ParamMap()
			result := "selected"
			if slices.Contains(kakao, m.UserID) {
				result = "not_selected"
			}
			if p["call"] != "1차 단계평가" || p["result"] != result || p["closes"] != "2025-12-27 00:00:00" || m.Link != fmt.Sprintf("/decisions/%d", d.ID) {
				t.Errorf("stage decision to %d: %v %s", m.UserID, p, m.Link)
			}
			// A stage decision reads "continues" or "eliminated", not "selected".
			data := map[string]any{}
			for k, v := range p {
				data[k] = v
			}
			want := map[string]string{"selected": "계속 수행", "not_selected": "탈락"}[result]
			if body := cat.For("ko").T("notice.decision.published.body", data); !strings.Contains(body, want) || strings.Contains(body, "선정") {
				t.Errorf("stage decision text to %d: %q, want %q", m.UserID, body, want)
			}
		}
		checkTexts(t, inbox.all)
	})
}

// TestUsageReportReminders: a team is reminded of a month's report at each
// offset before its due date and told, with the officers, when it is late;
// a report submitted on time is not; another team hears nothing.
func TestUsageReportReminders(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		teamA := mustUser(t, db, gpuNow, "team-a-1", models.RoleCompany, &f.teamA.ID)
		mustUser(t, db, gpuNow, "team-b-1", models.RoleCompany, &f.teamB.ID)
		alloc := func(gpus ...int) *models.Allocation {
			var uuids []string
			for _, g := range gpus {
				uuids = append(uuids, f.gpus[g].UUID)
			}
			a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
				BlockKind: models.BlockCustom, GPUCount: len(uuids), From: "2026-11-01", To: "2027-03-31", OwnGPUs: true, UUIDs: uuids})
			if err != nil {
				t.Fatalf("allocate: %v %v", err, errs)
			}
			return a
		}
		late, onTime := alloc(0, 1), alloc(2, 3)
		november, _ := models.ParseMonth("2026-11")
		if _, errs, err := models.SubmitUsageReport(ctx, db, onTime.ID, november, models.ReportInput{GPUHours: "10", MeanUtil: "50",
			Purpose: "사전학습", Workloads: "run 1"}, teamA, kst(2026, 12, 2, 10, 0, 0)); err != nil {
			t.Fatalf("submit: %v %v", err, errs)
		}
		inbox := watchInbox(t, db)
		team := usersOf(t, db, models.RoleCompany, f.teamA.ID)
		officerUsers := usersOf(t, db, models.RoleOfficer)
		// November's reports are due on 10 December 2026 (a Thursday): late from 11 December 00:00 KST.
		deadline := kst(2026, 12, 11, 0, 0, 0)
		kinds := []models.NotificationKind{models.NotifyReportDue, models.NotifyReportLate}
		for _, tc := range []struct {
			name string
			at   time.Time
			kind models.NotificationKind
			want []uint
		}{
			{"just before 72h", deadline.Add(-72*time.Hour - time.Second), "", nil},
			{"at 72h", deadline.Add(-72 * time.Hour), models.NotifyReportDue, team},
			{"after 72h", deadline.Add(-72*time.Hour + time.Second), "", nil},
			{"at 24h", deadline.Add(-24 * time.Hour), models.NotifyReportDue, team},
			{"just before the deadline", deadline.Add(-time.Second), "", nil},
			{"late", deadline, models.NotifyReportLate, sortedIDs(team, officerUsers)},
			{"late, told already", deadline.Add(time.Hour), "", nil},
		} {
			sweep(t, db, tc.at, reminders)
			ms := only(inbox.fresh(), kinds...)
			if tc.kind != "" {
				wantTo(t, tc.name, ms, tc.kind, tc.want)
			}
			if len(ms) != len(tc.want) {
				t.Errorf("%s: %d notices", tc.name, len(ms))
			}
			for _, m := range ms {
				if p := m.ParamMap(); p["month"] != "2026-11" || p["due"] != "2026-12-10" || p["allocation"] != fmt.Sprint(late.ID) {
					t.Errorf("%s: %s %v", tc.name, m.Key, p)
				}
			}
		}
		checkTexts(t, only(inbox.all, kinds...))
	})
}

// TestAllocationSweep: the team and the officers are told ahead of an
// allocation's end, once, and when none of its GPUs has been seen for more
// than the setting (not at it), once per gap.
func TestAllocationSweep(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		f := newGPUFixture(t, db)
		mustUser(t, db, gpuNow, "team-a-1", models.RoleCompany, &f.teamA.ID)
		mustUser(t, db, gpuNow, "team-b-1", models.RoleCompany, &f.teamB.ID)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-11-20", To: "2026-12-31", OwnGPUs: true, UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		want := sortedIDs(usersOf(t, db, models.RoleCompany, f.teamA.ID), usersOf(t, db, models.RoleOfficer))
		seen := func(at time.Time) {
			t.Helper()
			if err := db.Model(&models.GPU{}).Where("uuid IN ?", []string{f.gpus[0].UUID, f.gpus[1].UUID}).Update("last_seen", at.UTC()).Error; err != nil {
				t.Fatal(err)
			}
		}
		lastSeen := kst(2026, 12, 1, 12, 0, 0)
		seen(lastSeen)
		inbox := watchInbox(t, db)
		gap := []models.NotificationKind{models.NotifyTelemetryMissing}
		for _, tc := range []struct {
			name string
			at   time.Time
			seen time.Time // when set, the GPUs are seen then
			want []uint
		}{
			{"seen 6h ago", lastSeen.Add(6 * time.Hour), time.Time{}, nil},
			{"more than 6h", lastSeen.Add(6*time.Hour + time.Second), time.Time{}, want},
			{"the same gap", lastSeen.Add(9 * time.Hour), time.Time{}, nil},
			{"seen again", lastSeen.Add(11 * time.Hour), lastSeen.Add(10 * time.Hour), nil},
			{"a new gap", lastSeen.Add(16*time.Hour + time.Second), time.Time{}, want},
		} {
			if !tc.seen.IsZero() {
				seen(tc.seen)
			}
			sweep(t, db, tc.at, reminders)
			ms := only(inbox.fresh(), gap...)
			wantTo(t, tc.name, ms, models.NotifyTelemetryMissing, tc.want)
			for _, m := range ms {
				if m.Link != fmt.Sprintf("/allocations/%d", a.ID) {
					t.Errorf("%s: link %s", tc.name, m.Link)
				}
			}
		}

		// The allocation ends at 2027-01-01 00:00 KST; the notice goes out 7 days ahead.
		ends := kst(2027, 1, 1, 0, 0, 0)
		ending := []models.NotificationKind{models.NotifyAllocationEnding}
		for _, tc := range []struct {
			name string
			at   time.Time
			want []uint
		}{
			{"just before", ends.Add(-7*24*time.Hour - time.Second), nil},
			{"7 days ahead", ends.Add(-7 * 24 * time.Hour), want},
			{"told already", ends.Add(-time.Hour), nil},
			{"ended", ends, nil},
		} {
			seen(tc.at) // no gap meanwhile
			sweep(t, db, tc.at, reminders)
			ms := only(inbox.fresh(), ending...)
			wantTo(t, tc.name, ms, models.NotifyAllocationEnding, tc.want)
		}
		checkTexts(t, inbox.all)
	})
}

// TestUsageReportNotices: the team is told the outcome of each
// submission's verification (the auditors too of a discrepancy), a return
// with the note, and the sign-off.
func TestUsageReportNotices(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-whole", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		other := mustUser(t, db, gpuNow, "team-b-1", models.RoleCompany, &f.teamB.ID)
		inbox := watchInbox(t, db)
		team := usersOf(t, db, models.RoleCompany, f.teamA.ID)
		auditors := usersOf(t, db, models.RoleAuditor)

		r, errs, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil {
			t.Fatalf("submit: %v %v", err, errs)
		}
		wantTo(t, "verified", inbox.fresh(), models.NotifyReportVerified, team)
		// Verified again with the same outcome: told once.
		if _, err := models.VerifyUsageReportAgain(ctx, db, r.ID, f.company, afterDecember.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ms := inbox.fresh(); len(ms) != 0 {
			t.Errorf("verified again: %d notices", len(ms))
		}
		if _, err := models.ReturnUsageReport(ctx, db, r.ID, "작업 이름을 모두 적어 주십시오.", f.auditor, janKST(6, 10)); err != nil {
			t.Fatal(err)
		}
		ms := inbox.fresh()
		wantTo(t, "returned", ms, models.NotifyReportReturned, team)
		if len(ms) != len(team) || ms[0].ParamMap()["note"] != "작업 이름을 모두 적어 주십시오." || ms[0].Link != fmt.Sprintf("/usage-reports/%d", r.ID) {
			t.Errorf("returned: %d %v %s", len(ms), ms[0].ParamMap(), ms[0].Link)
		}
		if _, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1.2), f.company, janKST(20, 10)); err != nil {
			t.Fatal(err)
		}
		wantTo(t, "discrepancy", inbox.fresh(), models.NotifyReportDiscrepancy, sortedIDs(team, auditors))
		if err := models.SignOffUsageReport(ctx, db, r.ID, f.auditor, janKST(21, 10)); err != nil {
			t.Fatal(err)
		}
		wantTo(t, "signed off", inbox.fresh(), models.NotifyReportSignedOff, team)
		for _, m := range inbox.all {
			if m.UserID == other.ID {
				t.Errorf("another team's user got %s", m.Key)
			}
		}
		checkTexts(t, inbox.all)
	})
}

// TestStageReportReminders: before a stage report is due, each reminder
// offset reminds the teams that have not submitted theirs, once; a team
// that has submitted, an instant between offsets and the due instant
// itself remind no one; the text names the stage and the due instant.
func TestStageReportReminders(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newStageWorld(t, db, clock)
		in := models.StageReportInput{StageID: w.stage.ID, ModelVersions: "Solar Pro 2 (2025-11)", ServiceName: "Solar Chat",
			ServiceURL: "https://chat.example.kr", ServiceDescription: "누구나 써 보는 대화 서비스",
			Documents: []*models.UploadedFile{agreementPDF("report")}, Files: w.files, Uploads: pdfPolicy}
		if errs, err := models.SubmitStageReport(ctx, db, in, w.company("upstage"), reportDue.Add(-96*time.Hour)); err != nil {
			t.Fatal(err, errs)
		}
		kakao := usersOf(t, db, models.RoleCompany, w.org("kakao").ID)
		inbox := watchInbox(t, db)
		for _, tc := range []struct {
			name string
			at   time.Time
			want []uint
		}{
			{"just before 72h", reportDue.Add(-72*time.Hour - time.Second), nil},
			{"at 72h", reportDue.Add(-72 * time.Hour), kakao},
			{"again at 72h", reportDue.Add(-72*time.Hour + time.Minute), nil},
			{"at 24h", reportDue.Add(-24 * time.Hour), kakao},
			{"after 24h", reportDue.Add(-time.Second), nil},
			{"due", reportDue, nil},
		} {
			sweep(t, db, tc.at, reminders)
			ms := only(inbox.fresh(), models.NotifyReminder)
			wantTo(t, tc.name, ms, models.NotifyReminder, tc.want)
			for _, m := range ms {
				p := m.ParamMap()
				if p["deadline"] != models.DeadlineStageReport || p["closes"] != "2025-12-01 18:00:00" || p["object"] != "1차 단계평가" {
					t.Errorf("%s: %v", tc.name, p)
				}
			}
			checkTexts(t, ms)
		}
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		body := cat.For("ko").T("notice.reminder.body", map[string]any{"deadline": models.DeadlineStageReport, "object": "1차 단계평가", "closes": "2025-12-01 18:00:00"})
		if !strings.Contains(body, "단계평가 보고서") || strings.Contains(body, "이의신청") {
			t.Errorf("stage report reminder reads %q", body)
		}
	})
}
