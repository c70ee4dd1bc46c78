package models_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// upholdAppeal has the organisation appeal against d at filedAt and the
// officer uphold it a day later.
func (w *world) upholdAppeal(d *models.Decision, code string, filedAt time.Time) *models.Appeal {
	w.t.Helper()
	ctx := w.t.Context()
	a, created, err := models.FileAppeal(ctx, w.db, models.AppealInput{DecisionID: d.ID, Ground: models.GroundScoringError,
		Statement: "채점 오류가 있습니다.", IdempotencyKey: "uphold-" + code + "-0123456789"}, nil, w.company(code), 14, filedAt)
	if err != nil || !created {
		w.t.Fatalf("FileAppeal: %v (created %v)", err, created)
	}
	if err := models.DecideAppeal(ctx, w.db, a.ID, models.AppealStartReview, "", w.officer, filedAt.Add(time.Hour)); err != nil {
		w.t.Fatalf("start review: %v", err)
	}
	if err := models.DecideAppeal(ctx, w.db, a.ID, models.AppealUphold, "평가 절차의 중대한 하자가 확인되었습니다.", w.officer,
		filedAt.Add(24*time.Hour)); err != nil {
		w.t.Fatalf("uphold: %v", err)
	}
	return a
}

func statuses(t *testing.T, w *world, apps map[string]*models.Application) map[string]models.ApplicationStatus {
	t.Helper()
	out := map[string]models.ApplicationStatus{}
	for code, a := range apps {
		out[code] = w.load(a.ID).Status
	}
	return out
}

func TestPublishSelection(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		call := w.newCall("두 자리 공모", 2)
		apps := map[string]*models.Application{}
		for i, a := range standardApplicants {
			apps[a.code] = w.submit(call, a.code, inWindow.Add(time.Duration(i)*time.Hour))
		}
		in := models.PublishInput{CallID: call.ID, Selected: []uint{apps["upstage"].ID, apps["kakao"].ID},
			NoticeKO: "선정 결과", NoticeEN: "Selection", CountingRule: models.RuleCivil}
		// Each publication is checked first, as the confirmation page
		// does: CheckPublish must refuse what PublishSelection refuses,
		// for the same reason.
		publish := func(in models.PublishInput, by *models.User, at time.Time) error {
			_, cerr := models.CheckPublish(ctx, db, in, at)
			_, err := models.PublishSelection(ctx, db, in, by, at)
			for _, kind := range []error{models.ErrInvalid, models.ErrConflict, models.ErrInvalidTransition,
				models.ErrReviewBeforeClose, models.ErrNoticeChanged} {
				if errors.Is(cerr, kind) != errors.Is(err, kind) {
					t.Errorf("the check answered %v, the publication %v", cerr, err)
				}
			}
			return err
		}

		wantErr(t, "publish before the close", publish(in, w.officer, callCloses.Add(-time.Second)), models.ErrReviewBeforeClose)
		wantErr(t, "publish with applications nobody reviews", publish(in, w.officer, publishAt), models.ErrInvalid)
		// Everyone assigned; kaist's reviewer has not scored yet.
		w.score(call, apps["upstage"].ID, w.officer, standardApplicants[0].scores, reviewAt)
		w.score(call, apps["kakao"].ID, w.officer, standardApplicants[1].scores, reviewAt)
		w.assignment(apps["kaist"].ID, w.officer, reviewAt)
		wantErr(t, "publish with an unscored application", publish(in, w.officer, publishAt), models.ErrInvalid)
		w.score(call, apps["kaist"].ID, w.officer, standardApplicants[2].scores, reviewAt)

		tooMany := in
		tooMany.Selected = []uint{apps["upstage"].ID, apps["kakao"].ID, apps["kaist"].ID}
		wantErr(t, "three selected for two slots", publish(tooMany, w.officer, publishAt), models.ErrInvalid)
		none := in
		none.Selected = nil
		wantErr(t, "none selected", publish(none, w.officer, publishAt), models.ErrInvalid)
		stranger := in
		stranger.Selected = []uint{apps["upstage"].ID, 999999}
		wantErr(t, "an application that is not ranked", publish(stranger, w.officer, publishAt), models.ErrInvalid)
		noNotice := in
		noNotice.NoticeEN = " "
		wantErr(t, "no English notice", publish(noNotice, w.officer, publishAt), models.ErrInvalid)
		for _, at := range []time.Time{publishAt, publishAt.Add(-time.Hour)} {
			pastClose := in
			pastClose.ExplicitClose = &at
			wantErr(t, "a closing instant not after the publication", publish(pastClose, w.officer, publishAt), models.ErrInvalid)
			if errs, _ := models.CheckPublish(ctx, db, pastClose, publishAt); errs["explicit_close"] != "officer.decision.close_past" {
				t.Errorf("closing instant %v refused without a message on explicit_close: %v", at, errs)
			}
		}
		wantErr(t, "published by a company", publish(in, w.company("upstage"), publishAt), models.ErrForbidden)
		wantErr(t, "published by an auditor", publish(in, w.auditor, publishAt), models.ErrForbidden)
		if n := count(t, db, &models.Decision{}); n != 0 {
			t.Fatalf("%d decisions after refusals, want 0", n)
		}
		for code, s := range statuses(t, w, apps) {
			if s != models.StatusUnderReview {
				t.Errorf("%s is %s after the refusals, want under_review", code, s)
			}
		}

		d, err := models.PublishSelection(ctx, db, in, w.officer, publishAt)
		if err != nil {
			t.Fatalf("PublishSelection: %v", err)
		}
		wantStatus := map[string]models.ApplicationStatus{"upstage": models.StatusSelected, "kakao": models.StatusSelected,
			"kaist": models.StatusNotSelected}
		if got := statuses(t, w, apps); fmt.Sprint(got) != fmt.Sprint(wantStatus) {
			t.Errorf("statuses %v, want %v", got, wantStatus)
		}
		if n := countAudit(t, db, "decision.publish", fmt.Sprint(d.ID)); n != 1 {
			t.Errorf("decision.publish rows = %d, want 1", n)
		}

		// Reloaded, the decision is the ranking of standardApplicants:
		// upstage 90, kakao 80, kaist 60, with names as published.
		got, err := models.GetDecision(ctx, db, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.VerifyContent() || got.ContentHash != d.ContentHash || len(got.ContentHash) != 64 {
			t.Errorf("reloaded hash %q (verifies %v), published %q", got.ContentHash, got.VerifyContent(), d.ContentHash)
		}
		if !got.PublishedAt.Equal(publishAt) || got.TieBreak != models.TieBreakRule || got.SupersedesID != nil {
			t.Errorf("decision %+v", got)
		}
		wantEntries := []struct {
			code     string
			name     string
			score    float64
			selected bool
		}{{"upstage", "업스테이지", 90, true}, {"kakao", "카카오", 80, true}, {"kaist", "한국과학기술원(KAIST)", 60, false}}
		if len(got.Entries) != 3 {
			t.Fatalf("%d entries, want 3", len(got.Entries))
		}
		for i, we := range wantEntries {
			e := got.Entries[i]
			if e.Rank != i+1 || e.ApplicationID != apps[we.code].ID || e.NameKO != we.name || !near(e.Score, we.score) ||
				e.Selected != we.selected || e.Members != we.name {
				t.Errorf("entry %d = %+v, want %s rank %d score %v selected %v", i, e, we.code, i+1, we.score, we.selected)
			}
		}
		// Tampering with a loaded copy is noticed.
		got.Entries[2].Selected = true
		if got.VerifyContent() {
			t.Error("a changed entry still verifies")
		}

		// The database refuses to change or remove a published decision.
		for _, stmt := range []string{
			"UPDATE decisions SET notice_ko = 'changed' WHERE id = ?",
			"DELETE FROM decisions WHERE id = ?",
			"UPDATE decision_entries SET selected = NOT selected WHERE decision_id = ?",
			"DELETE FROM decision_entries WHERE decision_id = ?",
		} {
			if err := db.Exec(stmt, d.ID).Error; err == nil {
				t.Errorf("%q succeeded, want the trigger to refuse it", stmt)
			}
		}
		again, err := models.GetDecision(ctx, db, d.ID)
		if err != nil || !again.VerifyContent() || again.NoticeKO != "선정 결과" || len(again.Entries) != 3 {
			t.Errorf("after the refused changes: %+v, %v", again, err)
		}

		// One selection per call; a correction needs an upheld appeal.
		wantErr(t, "second publish", publish(in, w.officer, publishAt.Add(time.Hour)), models.ErrConflict)
		correct := in
		correct.Supersedes = d.ID
		correct.Selected = []uint{apps["upstage"].ID, apps["kaist"].ID}
		wantErr(t, "correction without an upheld appeal", publish(correct, w.officer, publishAt.Add(time.Hour)), models.ErrInvalidTransition)

		// A dismissed appeal does not open a correction either.
		dis, _, err := models.FileAppeal(ctx, db, models.AppealInput{DecisionID: d.ID, Ground: models.GroundOther,
			Statement: "이의", IdempotencyKey: "dismissed-kakao-0123"}, nil, w.company("kakao"), 14, publishAt.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "review", models.DecideAppeal(ctx, db, dis.ID, models.AppealStartReview, "", w.officer, publishAt.Add(2*time.Hour)), nil)
		wantErr(t, "dismiss", models.DecideAppeal(ctx, db, dis.ID, models.AppealDismiss, "하자 없음", w.officer, publishAt.Add(3*time.Hour)), nil)
		wantErr(t, "correction after a dismissed appeal", publish(correct, w.officer, publishAt.Add(4*time.Hour)), models.ErrInvalidTransition)

		st, err := models.StandingOf(ctx, db, d)
		if err != nil || st.UnderReReview || st.SupersededBy != nil {
			t.Errorf("standing before an upheld appeal: %+v, %v; want neither under re-review nor superseded", st, err)
		}

		w.upholdAppeal(d, "kaist", kst(2025, 8, 6, 10, 0, 0))
		st, err = models.StandingOf(ctx, db, d)
		if err != nil || !st.UnderReReview || st.SupersededBy != nil {
			t.Errorf("standing after the upheld appeal: %+v, %v; want under re-review", st, err)
		}
		tooManyFix := correct
		tooManyFix.Selected = []uint{apps["upstage"].ID, apps["kakao"].ID, apps["kaist"].ID}
		wantErr(t, "correction over the slots", publish(tooManyFix, w.officer, kst(2025, 8, 20, 10, 0, 0)), models.ErrInvalid)

		// The corrected decision selects kaist instead of kakao.
		fixAt := kst(2025, 8, 20, 10, 0, 0)
		d2, err := models.PublishSelection(ctx, db, correct, w.officer, fixAt)
		if err != nil {
			t.Fatalf("corrected decision: %v", err)
		}
		wantStatus = map[string]models.ApplicationStatus{"upstage": models.StatusSelected, "kakao": models.StatusNotSelected,
			"kaist": models.StatusSelected}
		if got := statuses(t, w, apps); fmt.Sprint(got) != fmt.Sprint(wantStatus) {
			t.Errorf("statuses after the correction %v, want %v", got, wantStatus)
		}
		if d2.SupersedesID == nil || *d2.SupersedesID != d.ID {
			t.Errorf("SupersedesID = %v, want %d", d2.SupersedesID, d.ID)
		}
		re, err := models.GetDecision(ctx, db, d2.ID)
		if err != nil || !re.VerifyContent() {
			t.Errorf("corrected decision reloaded: verifies %v, %v", re != nil && re.VerifyContent(), err)
		}
		for _, e := range re.Entries {
			if want := e.ApplicationID != apps["kakao"].ID; e.Selected != want {
				t.Errorf("corrected entry %s selected=%v, want %v", e.NameKO, e.Selected, want)
			}
		}
		// The first decision is unchanged: the correction is a new row.
		if old, err := models.GetDecision(ctx, db, d.ID); err != nil || !old.VerifyContent() || !old.Entries[1].Selected {
			t.Errorf("first decision after the correction: %v, kakao selected %v", err, old != nil && old.Entries[1].Selected)
		}
		st, err = models.StandingOf(ctx, db, d)
		if err != nil || st.UnderReReview || st.SupersededBy == nil || st.SupersededBy.ID != d2.ID {
			t.Errorf("standing of the first decision: %+v, %v; want superseded by %d", st, err, d2.ID)
		}
		if st, err := models.StandingOf(ctx, db, d2); err != nil || st.UnderReReview || st.SupersededBy != nil {
			t.Errorf("standing of the correction: %+v, %v; want current", st, err)
		}
		// The correction opens its own window: 08-20 10:00 → day 1 08-21,
		// day 10 08-30 (a Saturday) → Monday 09-01; closes 09-02 00:00.
		win, err := models.DecisionWindow(ctx, db, d2, fixAt)
		if err != nil || !win.Opens.Equal(fixAt) || !win.Closes.Equal(kst(2025, 9, 2, 0, 0, 0)) {
			t.Errorf("window of the correction %+v, %v; want opening %v, closing 2025-09-02 00:00 KST", win, err, fixAt)
		}

		// The first decision is no longer current: correcting it again is refused.
		wantErr(t, "correcting a superseded decision", publish(correct, w.officer, fixAt.Add(time.Hour)), models.ErrConflict)
		wantErr(t, "a second first decision", publish(in, w.officer, fixAt.Add(time.Hour)), models.ErrConflict)
		// Nor can the correction be corrected without an upheld appeal of its own.
		again2 := correct
		again2.Supersedes = d2.ID
		wantErr(t, "correcting the correction", publish(again2, w.officer, fixAt.Add(time.Hour)), models.ErrInvalidTransition)
		// A correction of nothing: a call with no decision.
		fresh := in
		fresh.CallID, fresh.Supersedes = w.call.ID, d.ID
		wantErr(t, "correction on a call without a decision", publish(fresh, w.officer, fixAt), models.ErrInvalid)
		if n := count(t, db, &models.Decision{}); n != 2 {
			t.Errorf("%d decisions, want 2", n)
		}
		if n := countAudit(t, db, "decision.publish", ""); n != 2 {
			t.Errorf("decision.publish rows = %d, want 2", n)
		}
		list, err := models.ListDecisions(ctx, db)
		if err != nil || len(list) != 2 || list[0].ID != d2.ID || list[1].ID != d.ID || list[0].Call.ID != call.ID {
			t.Errorf("ListDecisions = %+v, %v; want the correction, then the first", list, err)
		}
		wantErr(t, "GetDecision of nothing", func() error { _, err := models.GetDecision(ctx, db, d2.ID+100); return err }(),
			models.ErrNotFound)
		chainOK(t, db)
	})
}
