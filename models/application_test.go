package models_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// kst is an instant given as a wall-clock time in Korea.
func kst(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, models.KST)
}

// The instants of the test call, modelled on the 2025 call (all KST).
var (
	seedAt     = kst(2025, 6, 1, 9, 0, 0)   // demo.Seed
	criteriaAt = kst(2025, 6, 16, 10, 0, 0) // the officer writes the call
	callOpens  = kst(2025, 6, 20, 9, 0, 0)  // OpensAt
	inWindow   = kst(2025, 7, 1, 10, 0, 0)  // companies draft and submit
	callCloses = kst(2025, 7, 21, 18, 0, 0) // ClosesAt: 2025-07-21T18:00:00+09:00
	reviewAt   = kst(2025, 7, 22, 10, 0, 0) // reviewers assigned and scoring
	publishAt  = kst(2025, 8, 4, 10, 0, 0)  // selection published (a Monday)
	// appealCloses is the close of the 10-day objection period of a decision
	// published at publishAt under the civil rule: the announcement is not
	// at midnight, so day 1 is 08-05 (민법 §157) and day 10 is 08-14, a
	// Thursday and a working day, so the period ends at the end of 08-14
	// (§159): 2025-08-15 00:00 KST.
	appealCloses = kst(2025, 8, 15, 0, 0, 0)
)

// Criteria of the test call, by index: 0 technology (weight 50, scale 100),
// 1 commercialisation (30, scale 50), 2 impact (20, scale 10).
func testCriteria() []models.Criterion {
	return []models.Criterion{
		{NameKO: "기술력", NameEN: "Technology", Weight: 50, MaxScore: 100},
		{NameKO: "사업화", NameEN: "Commercialisation", Weight: 30, MaxScore: 50},
		{NameKO: "파급효과", NameEN: "Impact", Weight: 20, MaxScore: 10},
	}
}

// Documents of the test call: 0 required, 1 optional.
func testDocuments() []models.RequiredDocument {
	return []models.RequiredDocument{
		{NameKO: "사업계획서", NameEN: "Business plan", Required: true},
		{NameKO: "참고자료", NameEN: "Supporting material", Required: false},
	}
}

var pdfPolicy = models.UploadPolicy{MaxBytes: 1 << 20, Allowed: []models.FileKind{models.FilePDF}}

// world is the data most store tests start from: the demo organisations and
// users (demo.Seed), a file store and one call of our own, with criteria
// and documents, closing at callCloses.
type world struct {
	t                       *testing.T
	db                      *gorm.DB
	clock                   *testdb.Clock
	files                   *models.FileStore
	officer, admin, auditor *models.User
	call                    *models.Call
	users                   map[string]*models.User // company users by organisation code
	reviewers               []*models.User
}

func newWorld(t *testing.T, db *gorm.DB, clock *testdb.Clock) *world {
	t.Helper()
	ctx := t.Context()
	clock.Set(seedAt)
	if err := demo.Seed(ctx, db, seedAt); err != nil {
		t.Fatalf("demo.Seed: %v", err)
	}
	files, err := models.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, clock: clock, files: files, users: map[string]*models.User{}}
	w.officer = w.demoUser("demo-officer")
	w.admin = w.demoUser("demo-admin")
	w.auditor = w.demoUser("demo-auditor")
	w.users["upstage"] = w.demoUser("demo-company-upstage")
	w.users["kaist"] = w.demoUser("demo-company-kaist")
	w.reviewers = []*models.User{w.officer}
	w.call = w.newCall("정예팀 공모 (test)", 5)
	return w
}

func (w *world) demoUser(subject string) *models.User {
	w.t.Helper()
	var u models.User
	if err := w.db.Preload("Organisation").Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
		w.t.Fatalf("demo user %s: %v", subject, err)
	}
	return &u
}

// newCall saves a call of the demo programme with the test criteria and documents.
func (w *world) newCall(title string, slots int) *models.Call {
	w.t.Helper()
	prog, err := models.CurrentProgramme(w.t.Context(), w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	c := &models.Call{ProgrammeID: prog.ID, TitleKO: title, TitleEN: title + " (EN)", OpensAt: callOpens,
		ClosesAt: callCloses, Slots: slots, Criteria: testCriteria(), Documents: testDocuments()}
	w.clock.Set(criteriaAt)
	if err := models.SaveCall(w.t.Context(), w.db, c, w.officer, criteriaAt); err != nil {
		w.t.Fatalf("SaveCall: %v", err)
	}
	return c
}

func (w *world) org(code string) *models.Organisation {
	w.t.Helper()
	o, err := models.GetOrganisationByCode(w.t.Context(), w.db, code)
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

// company returns a company user of the organisation, creating one (as
// sign-in would) for organisations without a demo user.
func (w *world) company(code string) *models.User {
	w.t.Helper()
	if u, ok := w.users[code]; ok {
		return u
	}
	o := w.org(code)
	u := mustUser(w.t, w.db, seedAt, "company-"+code, models.RoleCompany, &o.ID)
	w.users[code] = u
	return u
}

// reviewer returns the i-th officer reviewer (0 is demo-officer).
func (w *world) reviewer(i int) *models.User {
	w.t.Helper()
	for len(w.reviewers) <= i {
		n := len(w.reviewers)
		msit := w.org(demo.MinistryCode)
		w.reviewers = append(w.reviewers, mustUser(w.t, w.db, seedAt, fmt.Sprintf("reviewer-%d", n), models.RoleOfficer, &msit.ID))
	}
	return w.reviewers[i]
}

// draft creates the organisation's application to call at.
func (w *world) draft(call *models.Call, code string, at time.Time) *models.Application {
	w.t.Helper()
	a := &models.Application{CallID: call.ID, TitleKO: "파운데이션 모델 " + code, TitleEN: "Foundation model " + code,
		Summary: "요약 " + code}
	w.clock.Set(at)
	if err := models.CreateApplication(w.t.Context(), w.db, a, w.company(code), at); err != nil {
		w.t.Fatalf("CreateApplication %s: %v", code, err)
	}
	return a
}

// upload stores a tiny PDF uploaded by u.
func (w *world) upload(u *models.User, at time.Time) *models.StoredFile {
	w.t.Helper()
	f, err := w.files.Save(w.t.Context(), w.db, "계획서.pdf", bytes.NewReader(tinyPDF), pdfPolicy, u.ID, at)
	if err != nil {
		w.t.Fatalf("upload: %v", err)
	}
	return f
}

// attachRequired attaches a file for every required document of the call.
func (w *world) attachRequired(call *models.Call, a *models.Application, u *models.User, at time.Time) {
	w.t.Helper()
	for _, d := range call.Documents {
		if !d.Required {
			continue
		}
		if err := models.AttachDocument(w.t.Context(), w.db, a.ID, d.ID, w.upload(u, at), u, at); err != nil {
			w.t.Fatalf("AttachDocument: %v", err)
		}
	}
}

// submit drafts, completes and submits the organisation's application.
func (w *world) submit(call *models.Call, code string, at time.Time) *models.Application {
	w.t.Helper()
	a := w.draft(call, code, at)
	w.attachRequired(call, a, w.company(code), at)
	done, err := models.TransitionApplication(w.t.Context(), w.db, a.ID, models.ActSubmit, w.company(code), at)
	if err != nil || !done {
		w.t.Fatalf("submit %s: done=%v, %v", code, done, err)
	}
	return w.load(a.ID)
}

func (w *world) load(id uint) *models.Application {
	w.t.Helper()
	a, err := models.GetApplication(w.t.Context(), w.db, id)
	if err != nil {
		w.t.Fatalf("GetApplication %d: %v", id, err)
	}
	return a
}

// assignment makes the reviewer review the application (if not already) and
// returns the assignment.
func (w *world) assignment(appID uint, rev *models.User, at time.Time) models.ReviewAssignment {
	w.t.Helper()
	ctx := w.t.Context()
	find := func() (models.ReviewAssignment, bool) {
		as, err := models.ListAssignments(ctx, w.db, appID)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, a := range as {
			if a.ReviewerID == rev.ID {
				return a, true
			}
		}
		return models.ReviewAssignment{}, false
	}
	if a, ok := find(); ok {
		return a
	}
	if err := models.AssignReviewer(ctx, w.db, appID, rev.ID, w.officer, at); err != nil {
		w.t.Fatalf("AssignReviewer: %v", err)
	}
	a, _ := find()
	return a
}

// scoreInputs pairs values with the call's criteria, in order.
func scoreInputs(call *models.Call, values [3]float64) []models.ScoreInput {
	in := make([]models.ScoreInput, len(call.Criteria))
	for i, c := range call.Criteria {
		in[i] = models.ScoreInput{CriterionID: c.ID, Value: values[i], Comment: "근거 " + c.NameKO}
	}
	return in
}

// score has the reviewer declare no conflict and score the application.
func (w *world) score(call *models.Call, appID uint, rev *models.User, values [3]float64, at time.Time) {
	w.t.Helper()
	ctx := w.t.Context()
	as := w.assignment(appID, rev, at)
	if as.Conflict == models.ConflictUndeclared {
		if err := models.DeclareConflict(ctx, w.db, as.ID, models.ConflictNone, rev, at); err != nil {
			w.t.Fatalf("DeclareConflict: %v", err)
		}
	}
	if err := models.SaveScores(ctx, w.db, as.ID, scoreInputs(call, values), rev, at); err != nil {
		w.t.Fatalf("SaveScores: %v", err)
	}
}

// applicant is one application of a decided call: its lead, the scores of
// the one reviewer, and whether it is selected.
type applicant struct {
	code     string
	scores   [3]float64
	selected bool
}

// standardApplicants: weighted totals 50·s0/100 + 30·s1/50 + 20·s2/10:
// upstage 45+27+18 = 90, kakao 40+24+16 = 80, kaist 30+18+12 = 60.
var standardApplicants = []applicant{
	{"upstage", [3]float64{90, 45, 9}, true},
	{"kakao", [3]float64{80, 40, 8}, true},
	{"kaist", [3]float64{60, 30, 6}, false},
}

// decide submits, reviews and publishes a selection for call, the way the
// officer does it, and returns the published decision and the applications
// by organisation code.
func (w *world) decide(call *models.Call, apps []applicant, at time.Time, explicit *time.Time) (*models.Decision, map[string]*models.Application) {
	w.t.Helper()
	out := map[string]*models.Application{}
	for i, a := range apps {
		out[a.code] = w.submit(call, a.code, inWindow.Add(time.Duration(i)*time.Hour))
	}
	var selected []uint
	for _, a := range apps {
		w.score(call, out[a.code].ID, w.officer, a.scores, reviewAt)
		if a.selected {
			selected = append(selected, out[a.code].ID)
		}
	}
	w.clock.Set(at)
	d, err := models.PublishSelection(w.t.Context(), w.db, models.PublishInput{CallID: call.ID, Selected: selected,
		NoticeKO: "선정 결과를 공고합니다.", NoticeEN: "The selection is announced.", CountingRule: models.RuleCivil,
		ExplicitClose: explicit}, w.officer, at)
	if err != nil {
		w.t.Fatalf("PublishSelection: %v", err)
	}
	for code, a := range out {
		out[code] = w.load(a.ID)
	}
	return d, out
}

// countAudit counts the audit rows of an action (and object ID, if given).
func countAudit(t *testing.T, db *gorm.DB, action, objectID string) int64 {
	t.Helper()
	q := db.Model(&models.AuditEntry{}).Where("action = ?", action)
	if objectID != "" {
		q = q.Where("object_id = ?", objectID)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// chainOK fails the test unless the audit chain verifies.
func chainOK(t *testing.T, db *gorm.DB) {
	t.Helper()
	check, err := models.VerifyAuditChain(t.Context(), db)
	if err != nil || !check.OK() {
		t.Errorf("audit chain: %+v, %v; want it whole", check, err)
	}
}

// wantErr checks err against a sentinel (nil: no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// allRoles is every role including the anonymous visitor.
var allRoles = append([]models.Role{models.RoleAnonymous}, models.Roles...)

func TestApplicationEnumerations(t *testing.T) {
	t.Parallel()
	// The tables below are written for exactly these statuses, actions and
	// roles: a new one must be added to them.
	wantStatuses := []models.ApplicationStatus{"draft", "submitted", "under_review", "selected", "not_selected", "withdrawn"}
	if !slices.Equal(models.ApplicationStatuses, wantStatuses) {
		t.Errorf("ApplicationStatuses = %v, want %v", models.ApplicationStatuses, wantStatuses)
	}
	wantActions := []models.ApplicationAction{"submit", "withdraw", "start_review", "select", "not_select"}
	if !slices.Equal(models.ApplicationActions, wantActions) {
		t.Errorf("ApplicationActions = %v, want %v", models.ApplicationActions, wantActions)
	}
	wantRoles := []models.Role{"", "reviewer", "company", "auditor", "officer", "admin"}
	if !slices.Equal(allRoles, wantRoles) {
		t.Errorf("roles = %q, want %q", allRoles, wantRoles)
	}
}

// TestNextStatus walks every status × action × role at the instants that
// matter for the time rules, against a table written from the rules:
//
//	draft        --submit (company)-------> submitted      only while open
//	draft        --withdraw (company)-----> withdrawn      only before the close
//	submitted    --withdraw (company)-----> withdrawn      only before the close
//	submitted    --start_review (ministry)> under_review   only after the close
//	under_review --select (ministry)------> selected
//	under_review --not_select (ministry)--> not_selected
//	selected     --not_select (ministry)--> not_selected   corrected decision
//	not_selected --select (ministry)------> selected       corrected decision
//
// Anything else is ErrInvalidTransition (whoever asks); an existing edge
// asked by another role is ErrForbidden; the time rules come last.
func TestNextStatus(t *testing.T) {
	t.Parallel()
	type edge struct {
		to      models.ApplicationStatus
		company bool // true: only company users; false: only officers and admins
	}
	edges := map[models.ApplicationStatus]map[models.ApplicationAction]edge{
		models.StatusDraft: {
			models.ActSubmit:   {models.StatusSubmitted, true},
			models.ActWithdraw: {models.StatusWithdrawn, true},
		},
		models.StatusSubmitted: {
			models.ActWithdraw:    {models.StatusWithdrawn, true},
			models.ActStartReview: {models.StatusUnderReview, false},
		},
		models.StatusUnderReview: {
			models.ActSelect:    {models.StatusSelected, false},
			models.ActNotSelect: {models.StatusNotSelected, false},
		},
		models.StatusSelected:    {models.ActNotSelect: {models.StatusNotSelected, false}},
		models.StatusNotSelected: {models.ActSelect: {models.StatusSelected, false}},
	}
	call := &models.Call{OpensAt: callOpens, ClosesAt: callCloses}
	// Per instant, what the time rule says of each timed action (nil: allowed).
	// Select and not_select have no time rule.
	instants := []struct {
		name                     string
		at                       time.Time
		submit, withdraw, review error
	}{
		{"one second before opening", callOpens.Add(-time.Second), models.ErrCallNotOpen, nil, models.ErrReviewBeforeClose},
		{"at opening", callOpens, nil, nil, models.ErrReviewBeforeClose},
		{"one second before the close", callCloses.Add(-time.Second), nil, nil, models.ErrReviewBeforeClose},
		{"exactly at the close", callCloses, models.ErrCallClosed, models.ErrCallClosed, nil},
		// 2025-07-21T09:00:00Z is 18:00 KST: the same instant given in UTC.
		{"at the close, given in UTC", time.Date(2025, 7, 21, 9, 0, 0, 0, time.UTC), models.ErrCallClosed, models.ErrCallClosed, nil},
		{"one second after the close", callCloses.Add(time.Second), models.ErrCallClosed, models.ErrCallClosed, nil},
	}
	// Starting an application follows the submit rule.
	for _, in := range instants {
		if err := call.CheckApplying(in.at); !errors.Is(err, in.submit) || (in.submit == nil) != (err == nil) {
			t.Errorf("%s: CheckApplying = %v, want %v", in.name, err, in.submit)
		}
	}
	cells := 0
	for _, from := range models.ApplicationStatuses {
		for _, action := range models.ApplicationActions {
			for _, role := range allRoles {
				cells++
				t.Run(fmt.Sprintf("%s/%s/%s", from, action, roleName(role)), func(t *testing.T) {
					e, exists := edges[from][action]
					for _, in := range instants {
						var want error
						wantTo := from
						switch {
						case !exists:
							want = models.ErrInvalidTransition
						case e.company && role != models.RoleCompany,
							!e.company && role != models.RoleOfficer && role != models.RoleAdmin:
							want = models.ErrForbidden
						case action == models.ActSubmit:
							want = in.submit
						case action == models.ActWithdraw:
							want = in.withdraw
						case action == models.ActStartReview:
							want = in.review
						}
						if want == nil {
							wantTo = e.to
						}
						got, err := models.NextStatus(from, action, role, call, in.at)
						if got != wantTo || !errors.Is(err, want) || (want == nil) != (err == nil) {
							t.Errorf("%s: NextStatus = %s, %v; want %s, %v", in.name, got, err, wantTo, want)
						}
						var closed *models.CallClosedError
						if errors.As(err, &closed) {
							if !closed.Closes.Equal(callCloses) {
								t.Errorf("%s: CallClosedError.Closes = %v, want %v", in.name, closed.Closes, callCloses)
							}
							if !strings.Contains(closed.Error(), "2025-07-21 18:00:00 KST") {
								t.Errorf("%s: message %q does not name the close in KST", in.name, closed.Error())
							}
						}
					}
				})
			}
		}
	}
	if cells != 6*5*6 {
		t.Errorf("walked %d cells, want 180", cells)
	}
}

func roleName(r models.Role) string {
	if r == models.RoleAnonymous {
		return "anonymous"
	}
	return string(r)
}

func TestApplicationMissing(t *testing.T) {
	t.Parallel()
	call := &models.Call{Documents: []models.RequiredDocument{
		{ID: 11, NameKO: "사업계획서", Required: true},
		{ID: 12, NameKO: "참고자료", Required: false},
		{ID: 13, NameKO: "확약서", Required: true},
	}}
	valid := models.Application{TitleKO: "솔라", TitleEN: "Solar", Summary: "요약"}
	doc := func(id uint) models.ApplicationDocument { return models.ApplicationDocument{RequiredDocumentID: id} }
	cases := []struct {
		name  string
		edit  func(a *models.Application)
		wants []string // fields that must be reported, and no others
	}{
		{"no documents: both required ones missing", func(a *models.Application) {}, []string{"document.11", "document.13"}},
		{"only the optional one", func(a *models.Application) { a.Documents = []models.ApplicationDocument{doc(12)} },
			[]string{"document.11", "document.13"}},
		{"one required one", func(a *models.Application) { a.Documents = []models.ApplicationDocument{doc(11)} },
			[]string{"document.13"}},
		{"both required, optional absent: complete", func(a *models.Application) {
			a.Documents = []models.ApplicationDocument{doc(13), doc(11)}
		}, nil},
		{"all three", func(a *models.Application) {
			a.Documents = []models.ApplicationDocument{doc(11), doc(12), doc(13)}
		}, nil},
		{"a document of another call does not count", func(a *models.Application) {
			a.Documents = []models.ApplicationDocument{doc(11), doc(99)}
		}, []string{"document.13"}},
		{"typed fields too", func(a *models.Application) {
			a.TitleKO, a.Summary = " ", ""
			a.Documents = []models.ApplicationDocument{doc(11), doc(13)}
		}, []string{"title_ko", "summary"}},
		{"300 Korean characters is the limit, not 300 bytes", func(a *models.Application) {
			a.TitleKO = strings.Repeat("가", 300)
			a.Documents = []models.ApplicationDocument{doc(11), doc(13)}
		}, nil},
		{"301 characters is too long", func(a *models.Application) {
			a.TitleKO = strings.Repeat("가", 301)
			a.Documents = []models.ApplicationDocument{doc(11), doc(13)}
		}, []string{"title_ko"}},
		{"summary of 5001 characters", func(a *models.Application) {
			a.Summary = strings.Repeat("요", 5001)
			a.Documents = []models.ApplicationDocument{doc(11), doc(13)}
		}, []string{"summary"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := valid
			tc.edit(&a)
			got := a.Missing(call)
			for _, f := range tc.wants {
				if !got.Has(f) {
					t.Errorf("Missing() = %v, want %s reported", got, f)
				}
			}
			if len(got) != len(tc.wants) {
				t.Errorf("Missing() = %v, want exactly %v", got, tc.wants)
			}
			if got.Has("document.11") && got["document.11"] != "application.error.document_missing" {
				t.Errorf("message = %q", got["document.11"])
			}
		})
	}
}

func TestApplicationStore(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		up, kaist := w.company("upstage"), w.company("kaist")

		// One application per lead and call.
		a := w.draft(w.call, "upstage", inWindow)
		if a.Status != models.StatusDraft || a.Version != 1 || a.LeadOrgID != *up.OrganisationID {
			t.Errorf("created %+v, want a draft, version 1, led by upstage", a)
		}
		if got := w.load(a.ID); len(got.Members) != 1 || got.Members[0].Role != models.MemberLead {
			t.Errorf("members = %+v, want the lead only", got.Members)
		}
		if n := countAudit(t, db, "application.create", fmt.Sprint(a.ID)); n != 1 {
			t.Errorf("application.create rows = %d, want 1", n)
		}
		again := &models.Application{CallID: w.call.ID, TitleKO: "두 번째", TitleEN: "Second", Summary: "요약"}
		wantErr(t, "second application of the same lead", models.CreateApplication(ctx, db, again, up, inWindow), models.ErrConflict)
		colleague := mustUser(t, db, seedAt, "upstage-colleague", models.RoleCompany, up.OrganisationID)
		again = &models.Application{CallID: w.call.ID, TitleKO: "두 번째", TitleEN: "Second", Summary: "요약"}
		wantErr(t, "second application by a colleague of the lead", models.CreateApplication(ctx, db, again, colleague, inWindow), models.ErrConflict)
		again = &models.Application{CallID: w.call.ID, TitleKO: "부처", TitleEN: "Ministry", Summary: "요약"}
		wantErr(t, "an officer applies", models.CreateApplication(ctx, db, again, w.officer, inWindow), models.ErrForbidden)
		again = &models.Application{CallID: w.call.ID, TitleKO: "늦음", TitleEN: "Late", Summary: "요약"}
		err := models.CreateApplication(ctx, db, again, w.company("lunit"), callCloses)
		var closed *models.CallClosedError
		if !errors.As(err, &closed) || !closed.Closes.Equal(callCloses) {
			t.Errorf("draft at the close: %v, want CallClosedError at %v", err, callCloses)
		}

		// A stale draft loses.
		first, second := *w.load(a.ID), *w.load(a.ID)
		first.TitleKO = "첫 편집"
		if err := models.UpdateDraft(ctx, db, &first, up, inWindow); err != nil || first.Version != 2 {
			t.Fatalf("UpdateDraft = %v, version %d; want success, version 2", err, first.Version)
		}
		second.TitleKO = "낡은 편집"
		wantErr(t, "UpdateDraft from version 1 after version 2", models.UpdateDraft(ctx, db, &second, up, inWindow), models.ErrConflict)
		if got := w.load(a.ID); got.TitleKO != "첫 편집" || got.Version != 2 {
			t.Errorf("after the stale save: %q v%d, want the first edit, v2", got.TitleKO, got.Version)
		}

		// Incomplete: the required document is missing.
		done, err := models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, up, inWindow)
		wantErr(t, "submit without the required document", err, models.ErrInvalid)
		if done || w.load(a.ID).Status != models.StatusDraft {
			t.Errorf("incomplete submit changed the application (done=%v)", done)
		}

		// Another organisation's company user sees nothing of it.
		other := *w.load(a.ID)
		other.TitleKO = "남의 것"
		wantErr(t, "UpdateDraft by another organisation", models.UpdateDraft(ctx, db, &other, kaist, inWindow), models.ErrNotFound)
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, kaist, inWindow)
		wantErr(t, "submit by another organisation", err, models.ErrNotFound)
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActWithdraw, kaist, inWindow)
		wantErr(t, "withdraw by another organisation", err, models.ErrNotFound)
		wantErr(t, "attach by another organisation",
			models.AttachDocument(ctx, db, a.ID, w.call.Documents[0].ID, w.upload(kaist, inWindow), kaist, inWindow), models.ErrNotFound)
		wantErr(t, "add member by another organisation",
			inviteErr(models.InviteMember(ctx, db, a.ID, w.org("lunit").ID, models.MemberTerms{Role: models.MemberData}, kaist, inWindow)), models.ErrNotFound)

		// Complete, then a double submit: one change, one audit row.
		w.attachRequired(w.call, a, up, inWindow)
		at := inWindow.Add(time.Hour)
		done1, err1 := models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, up, at)
		done2, err2 := models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, up, at.Add(time.Second))
		if !done1 || err1 != nil || done2 || err2 != nil {
			t.Errorf("double submit: (%v, %v), (%v, %v); want (true, nil), (false, nil)", done1, err1, done2, err2)
		}
		got := w.load(a.ID)
		// Receipt: KAI-<KST date of submission>-<id, 5 digits>.
		wantReceipt := fmt.Sprintf("KAI-20250701-%05d", a.ID)
		if got.Status != models.StatusSubmitted || got.Receipt != wantReceipt || got.SubmittedAt == nil || !got.SubmittedAt.Equal(at) {
			t.Errorf("after submit: %s, receipt %q, at %v; want submitted, %q, %v", got.Status, got.Receipt, got.SubmittedAt, wantReceipt, at)
		}
		if n := countAudit(t, db, "application.submit", fmt.Sprint(a.ID)); n != 1 {
			t.Errorf("application.submit rows = %d, want 1", n)
		}
		first = *got
		first.TitleKO = "제출 후 편집"
		wantErr(t, "UpdateDraft after submission", models.UpdateDraft(ctx, db, &first, up, at), models.ErrInvalidTransition)

		// Withdrawal: one second before the close yes, at and after no.
		k := w.submit(w.call, "kaist", inWindow)
		for _, late := range []time.Time{callCloses, callCloses.Add(time.Second)} {
			_, err := models.TransitionApplication(ctx, db, k.ID, models.ActWithdraw, kaist, late)
			var closed *models.CallClosedError
			if !errors.As(err, &closed) || !closed.Closes.Equal(callCloses) || !errors.Is(err, models.ErrCallClosed) {
				t.Errorf("withdraw at %v: %v, want CallClosedError{Closes: %v}", late, err, callCloses)
			}
		}
		done, err = models.TransitionApplication(ctx, db, k.ID, models.ActWithdraw, kaist, callCloses.Add(-time.Second))
		if !done || err != nil || w.load(k.ID).Status != models.StatusWithdrawn {
			t.Errorf("withdraw one second before the close: %v, %v; want withdrawn", done, err)
		}
		if done, err = models.TransitionApplication(ctx, db, k.ID, models.ActWithdraw, kaist, callCloses.Add(-time.Second)); done || err != nil {
			t.Errorf("second withdraw: %v, %v; want (false, nil)", done, err)
		}

		// The review starts only at the close, and only by the ministry.
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActStartReview, w.officer, callCloses.Add(-time.Second))
		wantErr(t, "start_review before the close", err, models.ErrReviewBeforeClose)
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActStartReview, up, callCloses)
		wantErr(t, "start_review by the company", err, models.ErrForbidden)
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActStartReview, w.auditor, callCloses)
		wantErr(t, "start_review by an auditor", err, models.ErrForbidden)
		if done, err = models.TransitionApplication(ctx, db, a.ID, models.ActStartReview, w.officer, callCloses); !done || err != nil {
			t.Errorf("start_review at the close: %v, %v", done, err)
		}
		if s := w.load(a.ID).Status; s != models.StatusUnderReview {
			t.Errorf("status = %s, want under_review", s)
		}
		_, err = models.TransitionApplication(ctx, db, a.ID, models.ActWithdraw, up, callCloses.Add(time.Hour))
		wantErr(t, "withdraw under review", err, models.ErrInvalidTransition)

		// Five submits of one application at once: exactly one changes it.
		lu := w.company("lunit")
		l := w.draft(w.call, "lunit", inWindow)
		w.attachRequired(w.call, l, lu, inWindow)
		const n = 5
		var (
			wg    sync.WaitGroup
			dones [n]bool
			errs  [n]error
		)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				dones[i], errs[i] = models.TransitionApplication(ctx, db, l.ID, models.ActSubmit, lu, inWindow.Add(time.Minute))
			}()
		}
		close(start)
		wg.Wait()
		changed := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("concurrent submit %d: %v", i, errs[i])
			}
			if dones[i] {
				changed++
			}
		}
		if changed != 1 {
			t.Errorf("%d concurrent submits made the change, want exactly 1", changed)
		}
		if n := countAudit(t, db, "application.submit", fmt.Sprint(l.ID)); n != 1 {
			t.Errorf("application.submit rows after concurrent submits = %d, want 1", n)
		}
		if got := w.load(l.ID); got.Status != models.StatusSubmitted || got.Version != 2 {
			t.Errorf("after the concurrent submits: %s v%d, want submitted v2", got.Status, got.Version)
		}
		chainOK(t, db)
	})
}

func TestListApplications(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		// Titles start with 가 나 다 라 so that every collation orders them
		// alike; lead names in Korean: 루닛 < 업스테이지 < 카카오 < 한국과학기술원.
		mk := func(code, ko, en string, submitAt *time.Time) uint {
			a := &models.Application{CallID: w.call.ID, TitleKO: ko, TitleEN: en, Summary: "요약"}
			if err := models.CreateApplication(ctx, db, a, w.company(code), inWindow); err != nil {
				t.Fatal(err)
			}
			if submitAt != nil {
				w.attachRequired(w.call, a, w.company(code), *submitAt)
				if _, err := models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, w.company(code), *submitAt); err != nil {
					t.Fatal(err)
				}
			}
			return a.ID
		}
		up := mk("upstage", "다 솔라 모델", "Solar foundation model", ptr(kst(2025, 7, 10, 9, 0, 0)))
		kaist := mk("kaist", "가 오픈 학술 모델", "Open academic model", ptr(kst(2025, 7, 5, 9, 0, 0)))
		lunit := mk("lunit", "라 의료 모델", "Medical model", nil)
		kakao := mk("kakao", "나 카나나 모델", "Kanana model", ptr(kst(2025, 7, 15, 9, 0, 0)))
		// An application to another call never shows in this call's list.
		other := w.newCall("다른 공모", 3)
		mk2 := &models.Application{CallID: other.ID, TitleKO: "가 다른", TitleEN: "Other", Summary: "요약"}
		if err := models.CreateApplication(ctx, db, mk2, w.company("upstage"), inWindow); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name  string
			f     models.ApplicationFilter
			want  []uint
			total int64
		}{
			{"the call, by id", models.ApplicationFilter{CallID: w.call.ID}, []uint{up, kaist, lunit, kakao}, 4},
			{"status submitted", models.ApplicationFilter{CallID: w.call.ID, Status: models.StatusSubmitted}, []uint{up, kaist, kakao}, 3},
			{"status draft", models.ApplicationFilter{CallID: w.call.ID, Status: models.StatusDraft}, []uint{lunit}, 1},
			{"by lead", models.ApplicationFilter{LeadOrgID: w.org("upstage").ID}, []uint{up, mk2.ID}, 2},
			{"English title, any case", models.ApplicationFilter{CallID: w.call.ID, Query: "SOLAR"}, []uint{up}, 1},
			{"Korean title", models.ApplicationFilter{CallID: w.call.ID, Query: "카나나"}, []uint{kakao}, 1},
			{"lead's Korean name", models.ApplicationFilter{CallID: w.call.ID, Query: "루닛"}, []uint{lunit}, 1},
			{"lead's English name, any case", models.ApplicationFilter{CallID: w.call.ID, Query: " kaist "}, []uint{kaist}, 1},
			{"common word", models.ApplicationFilter{CallID: w.call.ID, Query: "model", Sort: "title"}, []uint{kaist, kakao, up, lunit}, 4},
			{"no match", models.ApplicationFilter{CallID: w.call.ID, Query: "없는말"}, nil, 0},
			{"query and status", models.ApplicationFilter{CallID: w.call.ID, Query: "model", Status: models.StatusDraft}, []uint{lunit}, 1},
			{"submitted, earliest first", models.ApplicationFilter{CallID: w.call.ID, Status: models.StatusSubmitted, Sort: "submitted"},
				[]uint{kaist, up, kakao}, 3},
			{"submitted, latest first", models.ApplicationFilter{CallID: w.call.ID, Status: models.StatusSubmitted, Sort: "-submitted"},
				[]uint{kakao, up, kaist}, 3},
			{"title", models.ApplicationFilter{CallID: w.call.ID, Sort: "title"}, []uint{kaist, kakao, up, lunit}, 4},
			{"title descending", models.ApplicationFilter{CallID: w.call.ID, Sort: "-title"}, []uint{lunit, up, kakao, kaist}, 4},
			{"lead", models.ApplicationFilter{CallID: w.call.ID, Sort: "lead"}, []uint{lunit, up, kakao, kaist}, 4},
			{"unknown sort falls back to id", models.ApplicationFilter{CallID: w.call.ID, Sort: "password"}, []uint{up, kaist, lunit, kakao}, 4},
			{"page 1 of 2", models.ApplicationFilter{CallID: w.call.ID, Sort: "title", Limit: 3}, []uint{kaist, kakao, up}, 4},
			{"page 2 of 2", models.ApplicationFilter{CallID: w.call.ID, Sort: "title", Limit: 3, Offset: 3}, []uint{lunit}, 4},
			{"past the end", models.ApplicationFilter{CallID: w.call.ID, Sort: "title", Limit: 3, Offset: 6}, nil, 4},
		}
		for _, tc := range cases {
			apps, total, err := models.ListApplications(ctx, db, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var ids []uint
			for _, a := range apps {
				ids = append(ids, a.ID)
				if a.LeadOrg.ID != a.LeadOrgID {
					t.Errorf("%s: lead organisation not loaded", tc.name)
				}
			}
			if !slices.Equal(ids, tc.want) || total != tc.total {
				t.Errorf("%s: ids %v (total %d), want %v (total %d)", tc.name, ids, total, tc.want, tc.total)
			}
		}
	})
}

// inviteErr keeps InviteMember's error.
func inviteErr(_ *models.ConsortiumRequest, err error) error { return err }
