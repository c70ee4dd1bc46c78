package models_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestWindowSentence: the notice's sentence about the appeal window states
// the closing instant the portal enforces, for both counting rules, with
// the last day moved past weekends and holidays (Chuseok 2025: 10-03 and
// 10-05 to 10-09 are holidays), and for an explicit deadline.
func TestWindowSentence(t *testing.T) {
	t.Parallel()
	counted := func(at time.Time, rule models.CountingRule) func() (models.Window, error) {
		return func() (models.Window, error) { return models.AppealWindow(at, 10, rule, models.KoreanHolidays) }
	}
	until := func(at, closes time.Time) func() (models.Window, error) {
		return func() (models.Window, error) { return models.AppealWindowUntil(at, closes) }
	}
	for _, tc := range []struct {
		name   string
		window func() (models.Window, error)
		ko, en string
	}{
		{"civil, Monday announcement, Thursday end", counted(kst(2025, 8, 4, 10, 0, 0), models.RuleCivil),
			"결과에 이의가 있는 신청기관은 2025. 8. 14.(목) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일은 산입하지 않고 다음 날부터 10일).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Thursday 14 August 2025 (10 days counted from the day after the announcement day)."},
		{"announcement day, Monday announcement, Wednesday end", counted(kst(2025, 8, 4, 10, 0, 0), models.RuleAnnouncementDay),
			"결과에 이의가 있는 신청기관은 2025. 8. 13.(수) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일을 첫날로 하여 10일).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Wednesday 13 August 2025 (10 days counting the announcement day as the first)."},
		{"civil, announced at midnight: the first day counts", counted(kst(2025, 8, 4, 0, 0, 0), models.RuleCivil),
			"결과에 이의가 있는 신청기관은 2025. 8. 13.(수) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일을 첫날로 하여 10일).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Wednesday 13 August 2025 (10 days counting the announcement day as the first)."},
		{"civil, Saturday end moves to Monday", counted(kst(2025, 8, 20, 10, 0, 0), models.RuleCivil),
			"결과에 이의가 있는 신청기관은 2025. 9. 1.(월) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일은 산입하지 않고 다음 날부터 10일이며, 마지막 날인 2025. 8. 30.(토)이 토요일 또는 공휴일이어서 토요일·공휴일이 아닌 다음 날까지로 함).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Monday 1 September 2025 (10 days counted from the day after the announcement day; the last day, Saturday 30 August 2025, is a Saturday or public holiday, so the period runs to the next working day)."},
		{"announcement day, Saturday end moves to Monday", counted(kst(2025, 8, 21, 10, 0, 0), models.RuleAnnouncementDay),
			"결과에 이의가 있는 신청기관은 2025. 9. 1.(월) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일을 첫날로 하여 10일이며, 마지막 날인 2025. 8. 30.(토)이 토요일 또는 공휴일이어서 토요일·공휴일이 아닌 다음 날까지로 함).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Monday 1 September 2025 (10 days counting the announcement day as the first; the last day, Saturday 30 August 2025, is a Saturday or public holiday, so the period runs to the next working day)."},
		{"civil, Chuseok end moves five days", counted(kst(2025, 9, 25, 10, 0, 0), models.RuleCivil),
			"결과에 이의가 있는 신청기관은 2025. 10. 10.(금) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일은 산입하지 않고 다음 날부터 10일이며, 마지막 날인 2025. 10. 5.(일)이 토요일 또는 공휴일이어서 토요일·공휴일이 아닌 다음 날까지로 함).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Friday 10 October 2025 (10 days counted from the day after the announcement day; the last day, Sunday 5 October 2025, is a Saturday or public holiday, so the period runs to the next working day)."},
		{"announcement day, Chuseok end", counted(kst(2025, 9, 29, 10, 0, 0), models.RuleAnnouncementDay),
			"결과에 이의가 있는 신청기관은 2025. 10. 10.(금) 24:00까지 이 포털에서 이의신청을 할 수 있습니다(공고일을 첫날로 하여 10일이며, 마지막 날인 2025. 10. 8.(수)이 토요일 또는 공휴일이어서 토요일·공휴일이 아닌 다음 날까지로 함).",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Friday 10 October 2025 (10 days counting the announcement day as the first; the last day, Wednesday 8 October 2025, is a Saturday or public holiday, so the period runs to the next working day)."},
		{"explicit deadline at 18:00", until(kst(2025, 8, 4, 10, 0, 0), kst(2025, 8, 20, 18, 0, 0)),
			"결과에 이의가 있는 신청기관은 2025. 8. 20.(수) 18:00까지 이 포털에서 이의신청을 할 수 있습니다.",
			"An applicant that objects to the result may file an objection on this portal until 18:00 KST on Wednesday 20 August 2025."},
		{"explicit deadline at midnight is the end of the day before", until(kst(2025, 8, 4, 10, 0, 0), kst(2025, 8, 21, 0, 0, 0)),
			"결과에 이의가 있는 신청기관은 2025. 8. 20.(수) 24:00까지 이 포털에서 이의신청을 할 수 있습니다.",
			"An applicant that objects to the result may file an objection on this portal until 24:00 KST on Wednesday 20 August 2025."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.window()
			if err != nil {
				t.Fatal(err)
			}
			if got := models.WindowSentenceKO(w, 10); got != tc.ko {
				t.Errorf("Korean:\n got %s\nwant %s", got, tc.ko)
			}
			if got := models.WindowSentenceEN(w, 10); got != tc.en {
				t.Errorf("English:\n got %s\nwant %s", got, tc.en)
			}
			// The stated instant is the one the portal enforces: the end
			// of the last day, or the explicit deadline.
			last := w.Closes.Add(-time.Nanosecond).In(models.KST)
			if !strings.Contains(tc.ko, fmt.Sprintf("%d. %d. %d.(", last.Year(), int(last.Month()), last.Day())) {
				t.Errorf("the sentence does not name the last day %s", last.Format(time.DateOnly))
			}
		})
	}
}

// publishWith publishes a selection of upstage and kakao on call at at,
// with the generated text as the officer was shown it at shownAt under
// shownRule (nil shown: none given).
func (w *world) publishWith(call *models.Call, apps map[string]*models.Application, rule models.CountingRule,
	explicit *time.Time, shown *models.NoticeTexts, at time.Time) (*models.Decision, error) {
	w.t.Helper()
	return models.PublishSelection(w.t.Context(), w.db, models.PublishInput{CallID: call.ID,
		Selected: []uint{apps["upstage"].ID, apps["kakao"].ID}, NoticeKO: "선정 결과를 공고합니다.",
		NoticeEN: "The selection is announced.", CountingRule: rule, ExplicitClose: explicit, Shown: shown}, w.officer, at)
}

// submitAndScore has the standard applicants submit to call and be scored.
func (w *world) submitAndScore(call *models.Call) map[string]*models.Application {
	w.t.Helper()
	out := map[string]*models.Application{}
	for i, a := range standardApplicants {
		out[a.code] = w.submit(call, a.code, inWindow.Add(time.Duration(i)*time.Hour))
	}
	for _, a := range standardApplicants {
		w.score(call, out[a.code].ID, w.officer, a.scores, reviewAt)
	}
	return out
}

// TestPublishNoticeTexts: what is published is exactly the generated text
// the officer was shown; text generated for another rule, deadline or day,
// or from remedies since changed, is refused and nothing is published. The
// call's remedies are frozen into the decision and given with appeal answers.
func TestPublishNoticeTexts(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		call := w.newCall("불복 고지 공모", 2)
		if call.RemediesKO != models.DefaultRemediesKO || call.RemediesEN != models.DefaultRemediesEN {
			t.Errorf("a call saved without remedies has %q / %q, want the defaults", call.RemediesKO, call.RemediesEN)
		}
		const ownKO, ownEN = "이 결정에는 행정심판법에 따른 행정심판을 청구할 수 있습니다.", "You may request an administrative appeal."
		call.RemediesKO, call.RemediesEN = ownKO, ownEN
		if err := models.SaveCall(ctx, db, call, w.officer, criteriaAt); err != nil {
			t.Fatal(err)
		}
		apps := w.submitAndScore(call)

		texts := func(rule models.CountingRule, explicit *time.Time, at time.Time) models.NoticeTexts {
			t.Helper()
			nt, err := models.NoticeTextsFor(ctx, db, call, rule, explicit, at)
			if err != nil {
				t.Fatal(err)
			}
			return nt
		}
		deadline := kst(2025, 8, 20, 18, 0, 0)
		civil := texts(models.RuleCivil, nil, publishAt)
		byDay := texts(models.RuleAnnouncementDay, nil, publishAt)
		explicit := texts(models.RuleCivil, &deadline, publishAt)
		nextDay := texts(models.RuleCivil, nil, publishAt.Add(24*time.Hour))
		if !strings.Contains(civil.WindowKO, "2025. 8. 14.(목) 24:00까지") || !strings.Contains(byDay.WindowKO, "2025. 8. 13.(수) 24:00까지") ||
			!strings.Contains(explicit.WindowKO, "2025. 8. 20.(수) 18:00까지") || !strings.Contains(nextDay.WindowKO, "2025. 8. 18.(월) 24:00까지") {
			t.Errorf("window sentences:\n%s\n%s\n%s\n%s", civil.WindowKO, byDay.WindowKO, explicit.WindowKO, nextDay.WindowKO)
		}
		if civil.RemediesKO != ownKO || civil.RemediesEN != ownEN {
			t.Errorf("remedies %q / %q, want the call's", civil.RemediesKO, civil.RemediesEN)
		}
		stale := civil
		stale.RemediesKO = models.DefaultRemediesKO
		for _, tc := range []struct {
			name     string
			rule     models.CountingRule
			explicit *time.Time
			shown    models.NoticeTexts
		}{
			{"shown for the civil rule, published by the announcement day", models.RuleAnnouncementDay, nil, civil},
			{"shown for the announcement day, published by the civil rule", models.RuleCivil, nil, byDay},
			{"shown without a deadline, published with one", models.RuleCivil, &deadline, civil},
			{"shown with a deadline, published without", models.RuleCivil, nil, explicit},
			{"shown the day before", models.RuleCivil, nil, texts(models.RuleCivil, nil, publishAt.Add(-24*time.Hour))},
			{"shown other remedies", models.RuleCivil, nil, stale},
			{"shown nothing", models.RuleCivil, nil, models.NoticeTexts{}},
		} {
			_, err := w.publishWith(call, apps, tc.rule, tc.explicit, &tc.shown, publishAt)
			wantErr(t, tc.name, err, models.ErrNoticeChanged)
		}
		if n := count(t, db, &models.Decision{}); n != 0 {
			t.Fatalf("%d decisions after refusals, want 0", n)
		}

		d, err := w.publishWith(call, apps, models.RuleCivil, &deadline, &explicit, publishAt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := models.GetDecision(ctx, db, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.WindowNoticeKO != explicit.WindowKO || got.WindowNoticeEN != explicit.WindowEN ||
			got.RemediesKO != ownKO || got.RemediesEN != ownEN || got.HashVersion != 2 || !got.VerifyContent() {
			t.Errorf("published %+v", got)
		}
		// A later edit of the call's remedies leaves the published decision as it was.
		call.RemediesKO = "바뀐 안내"
		if err := models.SaveCall(ctx, db, call, w.officer, publishAt.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, err := models.GetDecision(ctx, db, d.ID); err != nil || again.RemediesKO != ownKO || !again.VerifyContent() {
			t.Errorf("after the call's remedies changed: %q, %v", again.RemediesKO, err)
		}
		// An appeal answer carries the call's remedies as they stand when it is decided.
		a := w.upholdAppeal(got, "kaist", kst(2025, 8, 6, 10, 0, 0))
		answered, err := models.GetAppeal(ctx, db, a.ID)
		if err != nil || answered.RemediesKO != "바뀐 안내" || answered.RemediesEN != ownEN {
			t.Errorf("appeal answer remedies %q / %q, %v", answered.RemediesKO, answered.RemediesEN, err)
		}
	})
}

// TestDecisionHashCovers: the content hash (version 2) changes with every
// published field: the notice and its generated parts, the counting rule,
// the explicit deadline, the decision corrected and each entry's fields.
func TestDecisionHashCovers(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db, clock)
		deadline := kst(2025, 8, 20, 18, 0, 0)
		d, _ := w.decide(w.newCall("해시 공모", 2), standardApplicants, publishAt, &deadline)
		stored, err := models.GetDecision(t.Context(), db, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.HashVersion != 2 || !stored.VerifyContent() || stored.WindowNoticeKO == "" || stored.RemediesKO == "" {
			t.Fatalf("published decision: version %d, verifies %v, %+v", stored.HashVersion, stored.VerifyContent(), stored)
		}
		one := uint(1)
		for _, tc := range []struct {
			name   string
			change func(d *models.Decision)
		}{
			{"Korean notice", func(d *models.Decision) { d.NoticeKO += " " }},
			{"English notice", func(d *models.Decision) { d.NoticeEN = "Changed." }},
			{"text moved between the notices", func(d *models.Decision) {
				d.NoticeKO, d.NoticeEN = d.NoticeKO+d.NoticeEN[:1], d.NoticeEN[1:]
			}},
			{"Korean window sentence", func(d *models.Decision) { d.WindowNoticeKO = strings.Replace(d.WindowNoticeKO, "20", "21", 1) }},
			{"English window sentence", func(d *models.Decision) { d.WindowNoticeEN = "" }},
			{"Korean remedies", func(d *models.Decision) { d.RemediesKO = "없음" }},
			{"English remedies", func(d *models.Decision) { d.RemediesEN += "." }},
			{"explicit deadline moved", func(d *models.Decision) { t := d.ExplicitClose.Add(time.Hour); d.ExplicitClose = &t }},
			{"explicit deadline removed", func(d *models.Decision) { d.ExplicitClose = nil }},
			{"counting rule", func(d *models.Decision) { d.CountingRule = models.RuleAnnouncementDay }},
			{"tie-break rule", func(d *models.Decision) { d.TieBreak = "추첨" }},
			{"decision corrected", func(d *models.Decision) { d.SupersedesID = &one }},
			{"publication instant", func(d *models.Decision) { d.PublishedAt = d.PublishedAt.Add(time.Microsecond) }},
			{"entry English name", func(d *models.Decision) { d.Entries[0].NameEN = "Someone" }},
			{"entry members", func(d *models.Decision) { d.Entries[0].Members = "" }},
			{"entry selection", func(d *models.Decision) { d.Entries[2].Selected = true }},
			{"entry dropped", func(d *models.Decision) { d.Entries = d.Entries[:2] }},
		} {
			c := *stored
			c.Entries = append([]models.DecisionEntry(nil), stored.Entries...)
			tc.change(&c)
			if c.VerifyContent() {
				t.Errorf("%s changed: the decision still verifies", tc.name)
			}
		}
		unknown := *stored
		unknown.HashVersion = 3
		if unknown.VerifyContent() {
			t.Error("a decision of an unknown hash version verifies")
		}
	})
}

// hashV1 is the content hash of the first decisions, written out as they
// were computed, so that the portal's own must keep agreeing with it.
func hashV1(d *models.Decision) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%s|%s|%s|%s|%d|%s\n", d.CallID, d.Kind, d.NoticeKO, d.NoticeEN, d.CountingRule,
		d.PublishedByID, d.PublishedAt.UTC().Format(time.RFC3339Nano))
	for _, e := range d.Entries {
		fmt.Fprintf(h, "%d|%d|%d|%s|%.6f|%t\n", e.Rank, e.ApplicationID, e.OrganisationID, e.NameKO, e.Score, e.Selected)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDecisionHashV1StillVerifies: a decision published before the
// migration that versions the hash keeps verifying after it (its row gets
// version 1), and the decisions table stays immutable.
func TestDecisionHashV1StillVerifies(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		call := w.newCall("옛 결정 공모", 2)
		// Back to the schema before the migration: without its columns and its row.
		added := map[string][]string{"calls": {"remedies_ko", "remedies_en"}, "appeals": {"remedies_ko", "remedies_en"},
			"decisions": {"window_notice_ko", "window_notice_en", "remedies_ko", "remedies_en", "hash_version"}}
		for table, cols := range added {
			for _, col := range cols {
				if err := db.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
					t.Fatalf("drop %s.%s: %v", table, col, err)
				}
			}
		}
		if err := db.Exec("DELETE FROM schema_migrations WHERE id = ?", "2026112705_legal_notices").Error; err != nil {
			t.Fatal(err)
		}
		explicit := kst(2025, 8, 20, 18, 0, 0)
		old := &models.Decision{CallID: call.ID, Kind: models.DecisionSelection, NoticeKO: "선정 결과를 공고합니다.|",
			NoticeEN: "The selection.", CountingRule: models.RuleCivil, ExplicitClose: &explicit, TieBreak: models.TieBreakRule,
			PublishedByID: w.officer.ID, PublishedAt: publishAt.UTC(),
			Entries: []models.DecisionEntry{
				{Rank: 1, ApplicationID: 101, OrganisationID: w.org("upstage").ID, NameKO: "업스테이지", NameEN: "Upstage", Members: "업스테이지", Score: 90, Selected: true},
				{Rank: 2, ApplicationID: 102, OrganisationID: w.org("kaist").ID, NameKO: "한국과학기술원(KAIST)", NameEN: "KAIST", Members: "한국과학기술원(KAIST)", Score: 60.5},
			}}
		old.ContentHash = hashV1(old)
		if err := db.Omit("WindowNoticeKO", "WindowNoticeEN", "RemediesKO", "RemediesEN", "HashVersion").Create(old).Error; err != nil {
			t.Fatalf("insert a decision as the old schema had it: %v", err)
		}
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatalf("migrate: %v", err)
		}

		got, err := models.GetDecision(ctx, db, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.HashVersion != 1 || got.WindowNoticeKO != "" || got.RemediesKO != "" {
			t.Errorf("migrated decision: version %d, window %q, remedies %q; want version 1 and nothing generated",
				got.HashVersion, got.WindowNoticeKO, got.RemediesKO)
		}
		if !got.VerifyContent() || got.ContentHash != old.ContentHash {
			t.Errorf("the decision published before the migration no longer verifies (hash %s)", got.ContentHash)
		}
		// Version 1 covers its notice; its hash does not pass for version 2.
		changed := *got
		changed.NoticeKO = "바뀐 공고"
		if changed.VerifyContent() {
			t.Error("a version-1 decision with a changed notice still verifies")
		}
		as2 := *got
		as2.HashVersion = 2
		if as2.VerifyContent() {
			t.Error("a version-1 hash verifies as version 2")
		}
		if err := db.Exec("UPDATE decisions SET hash_version = 2 WHERE id = ?", old.ID).Error; err == nil {
			t.Error("the migrated decisions table accepts updates")
		}
		// Decisions published now use version 2; the call keeps its remedies column.
		var c models.Call
		if err := db.First(&c, call.ID).Error; err != nil || c.RemediesKO != "" {
			t.Errorf("migrated call: remedies %q, %v; want empty (the default applies)", c.RemediesKO, err)
		}
		if ko, _ := c.Remedies(); ko != models.DefaultRemediesKO {
			t.Errorf("remedies of a call without its own: %q", ko)
		}
	})
}

// TestAppealAgainstCorrectedDecision: an appeal against a decision that a
// correction replaced is refused by the model, whoever files it and whether
// or not its window is open, naming the decision that now stands at the end
// of the chain of corrections; nothing is filed.
func TestAppealAgainstCorrectedDecision(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		call := w.newCall("정정 공모", 2)
		d1, apps := w.decide(call, standardApplicants, publishAt, nil) // upstage, kakao
		correct := func(d *models.Decision, selected []string, at time.Time) *models.Decision {
			t.Helper()
			var ids []uint
			for _, code := range selected {
				ids = append(ids, apps[code].ID)
			}
			fix, err := models.PublishSelection(ctx, db, models.PublishInput{CallID: call.ID, Selected: ids,
				NoticeKO: "정정 공고", NoticeEN: "Correction", CountingRule: models.RuleCivil, Supersedes: d.ID}, w.officer, at)
			if err != nil {
				t.Fatalf("correct decision %d: %v", d.ID, err)
			}
			return fix
		}
		w.upholdAppeal(d1, "kaist", kst(2025, 8, 6, 10, 0, 0))
		d2 := correct(d1, []string{"upstage", "kaist"}, kst(2025, 8, 20, 10, 0, 0))
		w.upholdAppeal(d2, "kakao", kst(2025, 8, 22, 10, 0, 0))
		d3 := correct(d2, []string{"upstage", "kakao"}, kst(2025, 8, 25, 10, 0, 0)) // closes 2025-09-05 00:00

		for d, want := range map[*models.Decision]*models.Decision{d1: d3, d2: d3, d3: d3} {
			if got, err := models.StandingDecision(ctx, db, d); err != nil || got.ID != want.ID {
				t.Errorf("standing decision of %d = %v, %v; want %d", d.ID, got, err, want.ID)
			}
		}

		stranger := &models.User{ID: w.officer.ID, Role: models.RoleCompany}
		none := uint(999999)
		stranger.OrganisationID = &none
		at := kst(2025, 8, 26, 10, 0, 0)
		for i, tc := range []struct {
			name     string
			decision *models.Decision
			code     string
			by       *models.User
			at       time.Time
			want     error
			standing uint
		}{
			{"the first decision, its window closed", d1, "kaist", nil, at, models.ErrDecisionSuperseded, d3.ID},
			{"the middle decision, within its window", d2, "kakao", nil, at, models.ErrDecisionSuperseded, d3.ID},
			{"the middle decision by the organisation it selected", d2, "kaist", nil, at, models.ErrDecisionSuperseded, d3.ID},
			{"the standing decision", d3, "kaist", nil, at, nil, 0},
			{"the standing decision after its window", d3, "upstage", nil, kst(2025, 9, 5, 0, 0, 0), models.ErrAppealWindowClosed, 0},
			{"an organisation not concerned", d1, "", stranger, at, models.ErrForbidden, 0},
		} {
			by := tc.by
			if by == nil {
				by = w.company(tc.code)
			}
			before := count(t, db, &models.Appeal{})
			a, created, err := models.FileAppeal(ctx, db, models.AppealInput{DecisionID: tc.decision.ID, Ground: models.GroundOther,
				Statement: "이의가 있습니다.", IdempotencyKey: fmt.Sprintf("corrected-%d-0123456789", i)}, nil, by, 14, tc.at)
			wantErr(t, tc.name, err, tc.want)
			if tc.want != nil {
				if a != nil || created || count(t, db, &models.Appeal{}) != before {
					t.Errorf("%s: an appeal was filed", tc.name)
				}
			} else if !created {
				t.Errorf("%s: not filed", tc.name)
			}
			var sup *models.DecisionSupersededError
			if errors.As(err, &sup) && (sup.Standing == nil || sup.Standing.ID != tc.standing || sup.Decision != tc.decision.ID) {
				t.Errorf("%s: refusal names decision %d standing %v, want %d standing %d", tc.name, sup.Decision, sup.Standing, tc.decision.ID, tc.standing)
			}
		}
	})
}
