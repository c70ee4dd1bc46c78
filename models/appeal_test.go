package models_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// appealActions is every officer action on an appeal.
var appealActions = []models.AppealAction{models.AppealStartReview, models.AppealUphold, models.AppealDismiss}

// TestNextAppealStatus walks every status × action × role against the rule:
// received --start_review--> under_review --uphold--> upheld
//
//	\--dismiss-> dismissed
//
// by officers and admins only. Anyone else is ErrForbidden whatever the
// cell; the ministry asking for a missing edge gets ErrInvalidTransition.
func TestNextAppealStatus(t *testing.T) {
	t.Parallel()
	want := map[models.AppealStatus]map[models.AppealAction]models.AppealStatus{
		models.AppealReceived:    {models.AppealStartReview: models.AppealUnderReview},
		models.AppealUnderReview: {models.AppealUphold: models.AppealUpheld, models.AppealDismiss: models.AppealDismissed},
	}
	if got := fmt.Sprint(models.AppealStatuses); got != "[received under_review upheld dismissed]" {
		t.Errorf("AppealStatuses = %s: the table covers received, under_review, upheld, dismissed", got)
	}
	cells := 0
	for _, from := range models.AppealStatuses {
		for _, action := range appealActions {
			for _, role := range allRoles {
				cells++
				to, ok := want[from][action]
				var wantErr error
				switch {
				case role != models.RoleOfficer && role != models.RoleAdmin:
					wantErr, to = models.ErrForbidden, from
				case !ok:
					wantErr, to = models.ErrInvalidTransition, from
				}
				got, err := models.NextAppealStatus(from, action, role)
				if got != to || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
					t.Errorf("%s/%s/%s: %s, %v; want %s, %v", from, action, roleName(role), got, err, to, wantErr)
				}
			}
		}
	}
	if cells != 4*3*6 {
		t.Errorf("walked %d cells, want 72", cells)
	}
	for _, s := range models.AppealStatuses {
		if s.Decided() != (s == models.AppealUpheld || s == models.AppealDismissed) {
			t.Errorf("%s.Decided() = %v", s, s.Decided())
		}
	}
}

func TestAppealOverdue(t *testing.T) {
	t.Parallel()
	// Filed 2025-08-05 10:00 KST with 14 days to answer: AnswerBy is
	// 2025-08-19 10:00 KST; the answer is late from that instant on.
	filed := kst(2025, 8, 5, 10, 0, 0)
	answerBy := filed.AddDate(0, 0, 14)
	if !answerBy.Equal(kst(2025, 8, 19, 10, 0, 0)) {
		t.Fatalf("derivation: %v", answerBy)
	}
	cases := []struct {
		status models.AppealStatus
		at     time.Time
		want   bool
	}{
		{models.AppealReceived, answerBy.Add(-time.Second), false},
		{models.AppealReceived, answerBy, true},
		{models.AppealReceived, answerBy.Add(time.Second), true},
		{models.AppealUnderReview, answerBy.Add(-time.Second), false},
		{models.AppealUnderReview, answerBy, true},
		{models.AppealUpheld, answerBy.Add(time.Hour), false},
		{models.AppealDismissed, answerBy.Add(time.Hour), false},
	}
	for _, tc := range cases {
		a := models.Appeal{Status: tc.status, FiledAt: filed, AnswerBy: answerBy}
		if got := a.Overdue(tc.at); got != tc.want {
			t.Errorf("%s at %v: Overdue = %v, want %v", tc.status, tc.at, got, tc.want)
		}
	}
}

func TestAppealMaySee(t *testing.T) {
	t.Parallel()
	org, other := uint(7), uint(8)
	a := &models.Appeal{OrganisationID: org}
	cases := []struct {
		name string
		u    *models.User
		want bool
	}{
		{"nobody", nil, false},
		{"a user with no role", &models.User{Role: models.RoleAnonymous, OrganisationID: &org}, false},
		{"the appellant's company user", &models.User{Role: models.RoleCompany, OrganisationID: &org}, true},
		{"another company's user", &models.User{Role: models.RoleCompany, OrganisationID: &other}, false},
		{"a company user without an organisation", &models.User{Role: models.RoleCompany}, false},
		{"an auditor", &models.User{Role: models.RoleAuditor}, true},
		{"an officer", &models.User{Role: models.RoleOfficer}, true},
		{"an admin", &models.User{Role: models.RoleAdmin}, true},
	}
	for _, tc := range cases {
		if got := a.MaySee(tc.u); got != tc.want {
			t.Errorf("%s: MaySee = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAppealInputValidate(t *testing.T) {
	t.Parallel()
	ok := models.AppealInput{DecisionID: 1, Ground: models.GroundProceduralDefect, Statement: "절차 하자", IdempotencyKey: strings.Repeat("k", 16)}
	cases := []struct {
		name  string
		edit  func(*models.AppealInput)
		field string
	}{
		{"valid", func(*models.AppealInput) {}, ""},
		{"unknown ground", func(in *models.AppealInput) { in.Ground = "dislike" }, "ground"},
		{"blank statement", func(in *models.AppealInput) { in.Statement = " \n " }, "statement"},
		{"10000 characters", func(in *models.AppealInput) { in.Statement = strings.Repeat("이", 10000) }, ""},
		{"10001 characters", func(in *models.AppealInput) { in.Statement = strings.Repeat("이", 10001) }, "statement"},
		{"key of 15", func(in *models.AppealInput) { in.IdempotencyKey = strings.Repeat("k", 15) }, "idempotency_key"},
		{"key of 64", func(in *models.AppealInput) { in.IdempotencyKey = strings.Repeat("k", 64) }, ""},
		{"key of 65", func(in *models.AppealInput) { in.IdempotencyKey = strings.Repeat("k", 65) }, "idempotency_key"},
	}
	for _, tc := range cases {
		in := ok
		tc.edit(&in)
		errs := in.Validate()
		if (tc.field == "") != !errs.Any() || (tc.field != "" && (!errs.Has(tc.field) || len(errs) != 1)) {
			t.Errorf("%s: %v, want only %q", tc.name, errs, tc.field)
		}
	}
}

// appealIn is a filing with a key unique to its label.
func appealIn(d *models.Decision, label string) models.AppealInput {
	return models.AppealInput{DecisionID: d.ID, Ground: models.GroundProceduralDefect,
		Statement: "평가 절차에 중대한 하자가 있습니다. " + label, IdempotencyKey: fmt.Sprintf("%-20s", "key-"+label)}
}

func TestFileAppeal(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		d, _ := w.decide(w.call, standardApplicants, publishAt, nil)
		kaist, kakao := w.company("kaist"), w.company("kakao")

		win, err := models.DecisionWindow(ctx, db, d, publishAt)
		if err != nil || !win.Closes.Equal(appealCloses) || win.LastDay != models.NewDate(2025, 8, 14) {
			t.Fatalf("window %+v, %v; want last day 2025-08-14, closing %v", win, err, appealCloses)
		}

		// Inside the window, with evidence.
		filedAt := kst(2025, 8, 5, 10, 0, 0)
		ev := w.upload(kaist, filedAt)
		a, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist-1"), []*models.StoredFile{ev}, kaist, 14, filedAt)
		if err != nil || !created {
			t.Fatalf("FileAppeal: %v (created %v)", err, created)
		}
		wantReceipt := fmt.Sprintf("KAI-APL-20250805-%05d", a.ID)
		if a.Status != models.AppealReceived || a.Receipt != wantReceipt || a.OrganisationID != *kaist.OrganisationID ||
			!a.FiledAt.Equal(filedAt) || !a.AnswerBy.Equal(kst(2025, 8, 19, 10, 0, 0)) {
			t.Errorf("appeal %+v; want received, receipt %s, answer by 2025-08-19 10:00 KST", a, wantReceipt)
		}
		got, err := models.GetAppeal(ctx, db, a.ID)
		if err != nil || len(got.Evidence) != 1 || got.Evidence[0].File.SHA256 != ev.SHA256 || got.Receipt != wantReceipt {
			t.Errorf("reloaded %+v, %v; want one evidence file and the receipt", got, err)
		}
		// AnswerBy with another answer period: FiledAt + 7 days.
		b, _, err := models.FileAppeal(ctx, db, appealIn(d, "kakao-7days"), nil, kakao, 7, filedAt)
		if err != nil || !b.AnswerBy.Equal(kst(2025, 8, 12, 10, 0, 0)) {
			t.Errorf("answer in 7 days: %v, %v; want 2025-08-12 10:00 KST", b.AnswerBy, err)
		}

		// The same key again is the same appeal: no new row, no new audit row.
		again, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist-1"), []*models.StoredFile{ev}, kaist, 14, filedAt.Add(3*time.Second))
		if err != nil || created || again.ID != a.ID {
			t.Errorf("double submit: %v, created %v, id %d; want appeal %d, created false", err, created, again.ID, a.ID)
		}
		if n := countAudit(t, db, "appeal.file", fmt.Sprint(a.ID)); n != 1 {
			t.Errorf("appeal.file rows for the double submit = %d, want 1", n)
		}
		// A different key is a second appeal.
		c, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist-2"), nil, kaist, 14, filedAt.Add(time.Minute))
		if err != nil || !created || c.ID == a.ID {
			t.Errorf("another key: %v, created %v, id %d; want a new appeal", err, created, c.ID)
		}
		if list, err := models.ListAppeals(ctx, db, models.AppealFilter{OrganisationID: *kaist.OrganisationID}); err != nil || len(list) != 2 {
			t.Errorf("kaist's appeals: %d, %v; want 2", len(list), err)
		}
		// The same key twice at once (a double click): one appeal. The
		// second either finds the first (created=false) or, when both
		// inserted at once, loses on the unique key (ErrConflict).
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			raced    [2]*models.Appeal
			created2 [2]bool
			errs     [2]error
		)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				raced[i], created2[i], errs[i] = models.FileAppeal(ctx, db, appealIn(d, "race"), nil, kakao, 14, filedAt)
			}()
		}
		close(start)
		wg.Wait()
		made := 0
		for i := range 2 {
			switch {
			case errs[i] == nil && created2[i]:
				made++
			case errs[i] == nil:
			case !errors.Is(errs[i], models.ErrConflict):
				t.Errorf("racing filing %d: %v, want success or ErrConflict", i, errs[i])
			}
		}
		if raced[0] != nil && raced[1] != nil && raced[0].ID != raced[1].ID {
			t.Errorf("racing filings made appeals %d and %d, want one", raced[0].ID, raced[1].ID)
		}
		if list, _ := models.ListAppeals(ctx, db, models.AppealFilter{OrganisationID: *kakao.OrganisationID}); made != 1 ||
			len(list) != 2 || countAudit(t, db, "appeal.file", fmt.Sprint(list[1].ID)) != 1 {
			t.Errorf("racing filings: %d created, kakao has %d appeals; want 1 created (2 with the 7-day one), one audit row", made, len(list))
		}
		// The longest key Validate accepts (64) files too, on both databases.
		long := appealIn(d, "long")
		long.IdempotencyKey = strings.Repeat("L", 64)
		if l, created, err := models.FileAppeal(ctx, db, long, nil, kaist, 14, filedAt); err != nil || !created || l.Receipt != fmt.Sprintf("KAI-APL-20250805-%05d", l.ID) {
			t.Errorf("64-character key: %v (created %v)", err, created)
		}

		// The edges of the window. 2025-08-14T14:59:59Z is 23:59:59 KST.
		closedAt := func(label string, at time.Time, want time.Time) {
			t.Helper()
			_, _, err := models.FileAppeal(ctx, db, appealIn(d, label), nil, kakao, 14, at)
			var closed *models.AppealWindowClosedError
			if !errors.As(err, &closed) || !errors.Is(err, models.ErrAppealWindowClosed) || !closed.Closes.Equal(want) {
				t.Errorf("%s: %v; want AppealWindowClosedError{Closes: %v}", label, err, want)
			}
		}
		for label, at := range map[string]time.Time{
			"one second before the close": appealCloses.Add(-time.Second),
			"the same, given in UTC":      time.Date(2025, 8, 14, 14, 59, 59, 0, time.UTC),
			"at the announcement":         publishAt,
		} {
			if _, created, err := models.FileAppeal(ctx, db, appealIn(d, label), nil, kakao, 14, at); err != nil || !created {
				t.Errorf("%s: %v (created %v), want filed", label, err, created)
			}
		}
		closedAt("exactly at the close", appealCloses, appealCloses)
		closedAt("at the close, given in UTC", time.Date(2025, 8, 14, 15, 0, 0, 0, time.UTC), appealCloses)
		closedAt("one second after the close", appealCloses.Add(time.Second), appealCloses)
		closedAt("one second before the announcement", publishAt.Add(-time.Second), appealCloses)
		_, _, err = models.FileAppeal(ctx, db, appealIn(d, "message"), nil, kakao, 14, appealCloses)
		if err == nil || !strings.Contains(err.Error(), "2025-08-15 00:00:00 KST") {
			t.Errorf("message %v does not name the close in KST", err)
		}
		// A one-off holiday added after the close on the window's last day
		// does not reopen it.
		if _, err := models.AddExtraHoliday(ctx, db, "2025-08-14", "임시공휴일", "Temporary holiday", w.admin, kst(2025, 8, 16, 10, 0, 0)); err != nil {
			t.Fatal(err)
		}
		closedAt("after a holiday added too late", kst(2025, 8, 16, 11, 0, 0), appealCloses)

		// Who may file.
		_, _, err = models.FileAppeal(ctx, db, appealIn(d, "lunit"), nil, w.company("lunit"), 14, filedAt)
		wantErr(t, "an organisation the decision does not concern", err, models.ErrForbidden)
		_, _, err = models.FileAppeal(ctx, db, appealIn(d, "officer"), nil, w.officer, 14, filedAt)
		wantErr(t, "an officer", err, models.ErrForbidden)
		_, _, err = models.FileAppeal(ctx, db, appealIn(d, "nobody"), nil, nil, 14, filedAt)
		wantErr(t, "nobody", err, models.ErrForbidden)
		bad := appealIn(d, "bad")
		bad.Statement = ""
		_, _, err = models.FileAppeal(ctx, db, bad, nil, kakao, 14, filedAt)
		wantErr(t, "no statement", err, models.ErrInvalid)
		missing := appealIn(d, "missing")
		missing.DecisionID = d.ID + 100
		_, _, err = models.FileAppeal(ctx, db, missing, nil, kakao, 14, filedAt)
		wantErr(t, "no such decision", err, models.ErrNotFound)
		// The key is the organisation's: kakao reusing kaist's key files its own appeal.
		k, created, err := models.FileAppeal(ctx, db, appealIn(d, "kaist-1"), nil, kakao, 14, filedAt)
		if err != nil || !created || k.ID == a.ID || k.OrganisationID != *kakao.OrganisationID {
			t.Errorf("kakao with kaist's key: %+v, %v, created %v; want kakao's own appeal", k, err, created)
		}

		// A notice that states its own closing instant: 2025-08-19 18:00
		// KST, after the rule's 08-15 00:00, and unmoved by holidays.
		explicit := kst(2025, 8, 19, 18, 0, 0)
		call2 := w.newCall("명시 기한 공모", 5)
		d2, _ := w.decide(call2, []applicant{{"lunit", [3]float64{70, 30, 6}, true}, {"kaist", [3]float64{50, 20, 5}, false}}, publishAt, &explicit)
		if _, created, err := models.FileAppeal(ctx, db, appealIn(d2, "explicit-in"), nil, kaist, 14, explicit.Add(-time.Second)); err != nil || !created {
			t.Errorf("one second before the stated close: %v, want filed", err)
		}
		for _, at := range []time.Time{explicit, explicit.Add(time.Second)} {
			_, _, err := models.FileAppeal(ctx, db, appealIn(d2, "explicit-"+at.Format("150405")), nil, kaist, 14, at)
			var closed *models.AppealWindowClosedError
			if !errors.As(err, &closed) || !closed.Closes.Equal(explicit) {
				t.Errorf("at %v: %v, want closed at %v", at, err, explicit)
			}
		}

		// Stats are per decision, and count outcomes only.
		if s, err := models.DecisionAppealStats(ctx, db, d2.ID); err != nil || s != (models.AppealStats{Filed: 1, Pending: 1}) {
			t.Errorf("stats of the second decision %+v, %v", s, err)
		}
		if s, err := models.DecisionAppealStats(ctx, db, d.ID+d2.ID+100); err != nil || s != (models.AppealStats{}) {
			t.Errorf("stats of no decision %+v, %v", s, err)
		}
		// a, b, c, the race, the long key, the three in-window edge
		// filings and kakao's: nine on the first decision, one on the second.
		if n := countAudit(t, db, "appeal.file", ""); n != 10 {
			t.Errorf("appeal.file rows = %d, want 10", n)
		}
		chainOK(t, db)
	})
}

func TestDecideAppeal(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		d, _ := w.decide(w.call, standardApplicants, publishAt, nil)
		file := func(code, label string) *models.Appeal {
			a, _, err := models.FileAppeal(ctx, db, appealIn(d, label), nil, w.company(code), 14, kst(2025, 8, 6, 9, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		at := kst(2025, 8, 7, 10, 0, 0)
		decide := func(id uint, action models.AppealAction, reasons string, by *models.User) error {
			return models.DecideAppeal(ctx, db, id, action, reasons, by, at)
		}
		a := file("kaist", "a")

		wantErr(t, "uphold a received appeal", decide(a.ID, models.AppealUphold, "이유", w.officer), models.ErrInvalidTransition)
		wantErr(t, "dismiss a received appeal", decide(a.ID, models.AppealDismiss, "이유", w.officer), models.ErrInvalidTransition)
		wantErr(t, "review by the appellant", decide(a.ID, models.AppealStartReview, "", w.company("kaist")), models.ErrForbidden)
		wantErr(t, "review by an auditor", decide(a.ID, models.AppealStartReview, "", w.auditor), models.ErrForbidden)
		wantErr(t, "no such appeal", decide(a.ID+100, models.AppealStartReview, "", w.officer), models.ErrNotFound)
		wantErr(t, "start review", decide(a.ID, models.AppealStartReview, "", w.officer), nil)
		wantErr(t, "start review twice", decide(a.ID, models.AppealStartReview, "", w.officer), models.ErrInvalidTransition)
		if got, _ := models.GetAppeal(ctx, db, a.ID); got.Status != models.AppealUnderReview || got.ReviewedAt == nil || !got.ReviewedAt.Equal(at) {
			t.Errorf("after start_review: %s, reviewed %v", got.Status, got.ReviewedAt)
		}
		wantErr(t, "uphold without reasons", decide(a.ID, models.AppealUphold, "", w.officer), models.ErrInvalid)
		wantErr(t, "uphold with blank reasons", decide(a.ID, models.AppealUphold, " \n\t", w.officer), models.ErrInvalid)
		wantErr(t, "dismiss without reasons", decide(a.ID, models.AppealDismiss, "", w.admin), models.ErrInvalid)

		// Two officers decide at once: one wins, the other is told it
		// changed meanwhile (ErrConflict) — or, when the database made it
		// wait for the winner's commit, that the appeal is already decided
		// (ErrInvalidTransition). Both are 409 for the handler.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, p := range []struct {
			action models.AppealAction
			by     *models.User
		}{{models.AppealUphold, w.officer}, {models.AppealDismiss, w.admin}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = models.DecideAppeal(ctx, db, a.ID, p.action, "  결정 이유 "+string(p.action)+"  ", p.by, at.Add(time.Hour))
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("both decisions succeeded")
				}
				winner = i
			case !errors.Is(err, models.ErrConflict) && !errors.Is(err, models.ErrInvalidTransition):
				t.Errorf("loser %d: %v, want ErrConflict or ErrInvalidTransition", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("no decision won: %v", errs)
		}
		wantStatus := []models.AppealStatus{models.AppealUpheld, models.AppealDismissed}[winner]
		wantBy := []*models.User{w.officer, w.admin}[winner]
		got, err := models.GetAppeal(ctx, db, a.ID)
		if err != nil || got.Status != wantStatus || got.DecidedByID == nil || *got.DecidedByID != wantBy.ID ||
			got.DecidedAt == nil || !got.DecidedAt.Equal(at.Add(time.Hour)) || !strings.HasPrefix(got.Reasons, "결정 이유") ||
			strings.TrimSpace(got.Reasons) != got.Reasons {
			t.Errorf("decided appeal %+v, %v; want %s by %d with trimmed reasons", got, err, wantStatus, wantBy.ID)
		}
		if n := countAudit(t, db, "appeal.uphold", "") + countAudit(t, db, "appeal.dismiss", ""); n != 1 {
			t.Errorf("decision audit rows = %d, want 1", n)
		}
		wantErr(t, "decide a decided appeal", decide(a.ID, models.AppealDismiss, "다시", w.officer), models.ErrInvalidTransition)

		// Stats: a decided (upheld or dismissed), b under review, c received,
		// e upheld, f dismissed.
		b, c, e, f := file("kakao", "b"), file("kakao", "c"), file("upstage", "e"), file("kaist", "f")
		for _, id := range []uint{b.ID, e.ID, f.ID} {
			wantErr(t, "start review", decide(id, models.AppealStartReview, "", w.officer), nil)
		}
		wantErr(t, "uphold e", decide(e.ID, models.AppealUphold, "인용", w.officer), nil)
		wantErr(t, "dismiss f", decide(f.ID, models.AppealDismiss, "기각", w.officer), nil)
		want := models.AppealStats{Filed: 5, Upheld: 1, Dismissed: 1, Pending: 2}
		if winner == 0 {
			want.Upheld++
		} else {
			want.Dismissed++
		}
		if s, err := models.DecisionAppealStats(ctx, db, d.ID); err != nil || s != want {
			t.Errorf("stats %+v, %v; want %+v", s, err, want)
		}
		pending, err := models.ListAppeals(ctx, db, models.AppealFilter{DecisionID: d.ID, Status: models.AppealReceived})
		if err != nil || len(pending) != 1 || pending[0].ID != c.ID {
			t.Errorf("received appeals %+v, %v; want only c", pending, err)
		}
		chainOK(t, db)
	})
}
