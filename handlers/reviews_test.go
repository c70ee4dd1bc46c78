package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/xuri/excelize/v2"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// The officers' side of the selection: the list of a call's applications
// and its exports, reviewer assignment, conflict of interest and scores,
// the ranking with its tie-break, publication and the follow-up list.

// offCallForm is the call form as an officer fills it in.
func offCallForm(title, opens, closes string, slots int, criteria [][4]string) url.Values {
	f := url.Values{"title_ko": {title}, "title_en": {title + " (EN)"}, "description_ko": {"설명"},
		"description_en": {"Description"}, "opens_at": {opens}, "closes_at": {closes}, "slots": {fmt.Sprint(slots)}}
	for i := 0; i < 6; i++ {
		var row [4]string
		if i < len(criteria) {
			row = criteria[i]
		}
		p := fmt.Sprintf("criteria.%d.", i)
		f.Set(p+"name_ko", row[0])
		f.Set(p+"name_en", row[1])
		f.Set(p+"weight", row[2])
		f.Set(p+"max_score", row[3])
	}
	for i := 0; i < 5; i++ {
		p := fmt.Sprintf("documents.%d.", i)
		f.Set(p+"name_ko", "")
		f.Set(p+"name_en", "")
	}
	f.Set("documents.0.name_ko", "사업계획서")
	f.Set("documents.0.name_en", "Business plan")
	f.Set("documents.0.required", "1")
	return f
}

// offPDF is a small PDF as a company uploads it.
var offPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// offFixture is a call of the tests' own, with three weighted criteria
// (50/30/20, scored out of 10) and one required document, and applications
// submitted by real company users, one second apart, before it closed.
type offFixture struct {
	*story
	call    *models.Call
	officer *models.User
	admin   *models.User
	auditor *models.User
	apps    []*models.Application // in order of submission
	orgs    []models.Organisation
}

// offApplicants are the organisations that apply, in this order.
var offApplicants = []string{"naver-cloud", "upstage", "sk-telecom", "nc-ai", "lg-ai-research", "lunit",
	"motif-technologies", "bionexus", "sionic-ai", "junctionmed", "kakao", "kt", "konan-technology", "pion-corporation", "kaist"}

func newOffFixture(t *testing.T, kind testdb.Kind, applicants int) *offFixture {
	t.Helper()
	s := newStory(t, kind, nil)
	f := &offFixture{story: s, officer: s.officer(), admin: s.user("demo-admin"), auditor: s.user("demo-auditor")}
	now := s.now()
	f.call = s.saveCall(&models.Call{TitleKO: "2027년 정예팀 공모", TitleEN: "2027 elite team call",
		DescriptionKO: "시험 공모", DescriptionEN: "Test call", OpensAt: now.Add(-24 * time.Hour), ClosesAt: now.Add(time.Hour), Slots: 5,
		Criteria: []models.Criterion{
			{NameKO: "기술력", NameEN: "Technology", Weight: 50, MaxScore: 10},
			{NameKO: "사업성", NameEN: "Business", Weight: 30, MaxScore: 10},
			{NameKO: "파급효과", NameEN: "Impact", Weight: 20, MaxScore: 10},
		},
		Documents: []models.RequiredDocument{{NameKO: "사업계획서", NameEN: "Business plan", Required: true}},
	})
	for i, code := range offApplicants[:applicants] {
		s.app.clock.Set(now.Add(time.Duration(i) * time.Second))
		a := s.draft(f.call, code)
		s.attach(a, f.call, 0, storyFile{"사업계획서.pdf", offPDF})
		s.submit(a)
		f.apps = append(f.apps, a)
		f.orgs = append(f.orgs, *s.org(code))
	}
	s.app.clock.Set(f.call.ClosesAt.Add(time.Minute))
	return f
}

// assign makes a reviewer of an application and returns the assignment's id.
func (f *offFixture) assign(t *testing.T, appIdx int, reviewer *models.User) uint {
	t.Helper()
	return f.story.assign(f.apps[appIdx], reviewer)
}

// score has the reviewer declare no conflict and score the three criteria.
func (f *offFixture) score(t *testing.T, appIdx int, reviewer *models.User, a, b, c float64) {
	t.Helper()
	f.story.score(f.apps[appIdx], f.call, reviewer, a, b, c)
}

func (f *offFixture) path(format string, args ...any) string {
	return fmt.Sprintf(format, args...)
}

func TestCallApplicationsListFilterSortPage(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 12)
		ctx := context.Background()
		// Eleven more organisations start drafts while the call is open: 23
		// applications in all, more than one page of 20.
		for i := 1; i <= 11; i++ {
			org := models.Organisation{Code: fmt.Sprintf("test-%02d", i), NameKO: fmt.Sprintf("테스트기관 %02d", i),
				NameEN: fmt.Sprintf("Test organisation %02d", i), Kind: models.OrgCompany}
			if err := f.app.db.Create(&org).Error; err != nil {
				t.Fatal(err)
			}
			u, err := models.UpsertUser(ctx, f.app.db, models.Identity{Issuer: "test", Subject: org.Code,
				Role: models.RoleCompany, OrganisationID: &org.ID}, f.app.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			draft := &models.Application{CallID: f.call.ID, TitleKO: "초안 과제", TitleEN: "Draft", Summary: "초안"}
			if err := models.CreateApplication(ctx, f.app.db, draft, u, f.call.OpensAt.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		f.assign(t, 0, f.officer) // Naver Cloud goes under review

		c := f.app.client()
		c.signInDemo("demo-officer")
		base := f.path("/officer/calls/%d/applications", f.call.ID)

		doc := c.page(c.get(base))
		if n := doc.Find(`[data-testid="application-row"]`).Length(); n != 20 {
			t.Fatalf("page 1: %d rows, want 20", n)
		}
		if got := testIDTexts(doc, "app-count"); len(got) != 1 || !strings.Contains(got[0], "23") {
			t.Errorf("count %v, want 23", got)
		}

		// Filter by status.
		doc = c.page(c.get(base + "?status=submitted"))
		rows := doc.Find(`[data-testid="application-row"]`)
		if rows.Length() != 11 {
			t.Errorf("submitted: %d rows, want 11", rows.Length())
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			if st, _ := s.Attr("data-status"); st != "submitted" {
				t.Errorf("submitted filter shows a %s row", st)
			}
		})
		if got := testIDTexts(c.page(c.get(base+"?status=under_review")), "app-lead"); !slices.Equal(got, []string{f.orgs[0].NameKO}) {
			t.Errorf("under_review filter: %v", got)
		}
		if n := c.page(c.get(base + "?status=draft")).Find(`[data-testid="application-row"]`).Length(); n != 11 {
			t.Errorf("draft filter: %d rows, want 11", n)
		}

		// Filter by text, in Korean and English names.
		if got := testIDTexts(c.page(c.get(base+"?q="+url.QueryEscape("업스테이지"))), "app-lead"); len(got) != 1 || got[0] != f.orgs[1].NameKO {
			t.Errorf("query 업스테이지: %v", got)
		}
		if got := testIDTexts(c.page(c.get(base+"?q=UPSTAGE")), "app-lead"); len(got) != 1 {
			t.Errorf("query UPSTAGE: %v", got)
		}

		// Sort by lead, both ways, over two pages.
		all := func(sort string) []string {
			p1 := testIDTexts(c.page(c.get(base+"?sort="+sort)), "app-lead")
			doc := c.page(c.get(base + "?sort=" + sort + "&page=2"))
			if doc.Find(`[data-testid="page-next"]`).Length() != 0 || doc.Find(`[data-testid="page-prev"]`).Length() != 1 {
				t.Errorf("sort %s, last page: want a previous link and no next link", sort)
			}
			if href, _ := doc.Find(`[data-testid="page-prev"]`).Attr("href"); !strings.Contains(href, "sort="+sort) {
				t.Errorf("previous page link %q loses the sort", href)
			}
			return append(p1, testIDTexts(doc, "app-lead")...)
		}
		asc, desc := all("lead"), all("-lead")
		if len(asc) != 23 || !slices.IsSorted(asc) {
			t.Errorf("sort=lead: %v", asc)
		}
		slices.Reverse(desc)
		if !slices.Equal(asc, desc) {
			t.Errorf("sort=-lead is not the reverse of sort=lead: %v", desc)
		}
		// The header links toggle the direction and keep the filter.
		doc = c.page(c.get(base + "?status=submitted&sort=lead"))
		if href, _ := doc.Find(`[data-testid="sort-lead"]`).Attr("href"); !strings.Contains(href, "sort=-lead") || !strings.Contains(href, "status=submitted") {
			t.Errorf("sort link %q", href)
		}
		if href, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href"); !strings.Contains(href, "status=submitted") || !strings.Contains(href, "format=csv") {
			t.Errorf("export link %q", href)
		}
		// Sort by submission time: the order they were submitted in.
		got := testIDTexts(c.page(c.get(base+"?status=submitted&sort=submitted")), "app-lead")
		var want []string
		for _, o := range f.orgs[1:] {
			want = append(want, o.NameKO)
		}
		if !slices.Equal(got, want) {
			t.Errorf("sort=submitted: %v, want %v", got, want)
		}

		// Unknown filter values are ignored, not errors.
		wantCode(t, "", c.get(base+"?status=bogus&sort=drop+table&page=-1"), http.StatusOK)
	})
}

func TestCallApplicationsExport(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 4)
		f.score(t, 0, f.officer, 9, 9, 9) // Naver Cloud under review with a score
		c := f.app.client()
		c.signInDemo("demo-officer")
		base := f.path("/officer/calls/%d/export", f.call.ID)

		// CSV: BOM, header, Korean names, the filter's rows only.
		resp := c.get(base + "?format=csv&status=submitted&sort=lead")
		wantCode(t, "", resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
			t.Errorf("content disposition %q", cd)
		}
		body := readAll(resp)
		if !strings.HasPrefix(body, "\ufeff") {
			t.Fatalf("CSV without a UTF-8 byte-order mark: %q", body[:min(20, len(body))])
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 4 { // header + 3 submitted (Naver Cloud is under review)
			t.Fatalf("CSV has %d records, want 4: %v", len(recs), recs)
		}
		if recs[0][0] != "접수번호" || recs[0][1] != "주관기관" {
			t.Errorf("CSV header %v", recs[0])
		}
		var leads []string
		for _, r := range recs[1:] {
			leads = append(leads, r[1])
			if r[5] != "제출" {
				t.Errorf("CSV row status %q, want 제출", r[5])
			}
			if !strings.HasPrefix(r[0], "KAI-") {
				t.Errorf("CSV receipt %q", r[0])
			}
		}
		want := []string{f.orgs[1].NameKO, f.orgs[2].NameKO, f.orgs[3].NameKO}
		slices.Sort(want)
		if !slices.Equal(leads, want) {
			t.Errorf("CSV leads %v, want %v", leads, want)
		}
		// The officer's export carries the running score.
		resp = c.get(base + "?format=csv&status=under_review")
		recs, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(readAll(resp), "\ufeff"))).ReadAll()
		if len(recs) != 2 || recs[0][len(recs[0])-1] != "종합 점수" || recs[1][len(recs[1])-1] != "90" {
			t.Errorf("officer CSV with scores: %v", recs)
		}

		// XLSX, opened with excelize.
		resp = c.get(base + "?format=xlsx&q=" + url.QueryEscape(f.orgs[2].NameKO))
		wantCode(t, "", resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Errorf("xlsx content type %q", ct)
		}
		x, err := excelize.OpenReader(strings.NewReader(readAll(resp)))
		if err != nil {
			t.Fatalf("open xlsx: %v", err)
		}
		defer x.Close()
		sheet := x.GetSheetName(0)
		if a1, _ := x.GetCellValue(sheet, "A1"); a1 != "접수번호" {
			t.Errorf("xlsx A1 = %q", a1)
		}
		if b2, _ := x.GetCellValue(sheet, "B2"); b2 != f.orgs[2].NameKO {
			t.Errorf("xlsx B2 = %q, want %q", b2, f.orgs[2].NameKO)
		}
		if rows, _ := x.GetRows(sheet); len(rows) != 2 {
			t.Errorf("xlsx has %d rows, want 2", len(rows))
		}

		// An auditor's export has no scores before the decision.
		a := f.app.client()
		a.signInDemo("demo-auditor")
		recs, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(readAll(a.get(base+"?format=csv")), "\ufeff"))).ReadAll()
		if len(recs) == 0 || slices.Contains(recs[0], "종합 점수") {
			t.Errorf("auditor CSV header before the decision: %v", recs)
		}
		doc := a.page(a.get(f.path("/officer/calls/%d/applications", f.call.ID)))
		if doc.Find(`[data-testid="app-score"]`).Length() != 0 || doc.Find(`[data-testid="scores-private"]`).Length() != 1 {
			t.Error("auditor list shows scores before the decision")
		}
		if doc.Find(`[data-testid="assign-form"]`).Length() != 0 {
			t.Error("auditor list offers to assign reviewers")
		}

		wantCode(t, "", c.get(base+"?format=pdf"), http.StatusBadRequest)
	})
}

func TestCSVFormulaCells(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := writeCSV(&buf, exportTable{Header: []string{"a", "b"}, Rows: [][]any{{"=HYPERLINK(\"x\")", 1.5}}}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `"'=HYPERLINK(""x"")",1.5`) {
		t.Errorf("formula not neutralised: %q", got)
	}
}

func TestAssignReviewer(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 2)
		c := f.app.client()
		c.signInDemo("demo-officer")
		list := f.path("/officer/calls/%d/applications", f.call.ID)
		target := f.path("/applications/%d/reviewers", f.apps[0].ID)

		// The form is on the list, per row.
		doc := c.page(c.get(list))
		if n := doc.Find(`[data-testid="assign-form"]`).Length(); n != 2 {
			t.Fatalf("%d assign forms, want 2", n)
		}
		resp := c.post(target, url.Values{"reviewer_id": {itoa(f.admin.ID)}})
		wantCode(t, "", resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != list+"?assigned="+itoa(f.apps[0].ID) {
			t.Errorf("redirect to %q", loc)
		}
		doc = c.page(c.get(list))
		row := doc.Find(`[data-testid="application-row"][data-app="` + itoa(f.apps[0].ID) + `"]`)
		if st, _ := row.Attr("data-status"); st != "under_review" {
			t.Errorf("status %q after assignment, want under_review", st)
		}
		if got := strings.TrimSpace(row.Find(`[data-testid="app-reviewer"]`).Text()); !strings.Contains(got, f.admin.Name) {
			t.Errorf("reviewer shown as %q", got)
		}

		// Errors come back to the list with a message.
		for _, tc := range []struct {
			reviewer string
			due      string
			code     string
		}{
			{itoa(f.admin.ID), "", "duplicate"},
			{itoa(f.auditor.ID), "", "reviewer"},
			{"abc", "", "reviewer"},
			{itoa(f.officer.ID), "2001-01-01", "due"},
		} {
			resp := c.post(target, url.Values{"reviewer_id": {tc.reviewer}, "due": {tc.due}})
			wantCode(t, "", resp, http.StatusSeeOther)
			loc := resp.Header.Get("Location")
			if !strings.Contains(loc, "assign_error="+tc.code) {
				t.Errorf("reviewer %s: redirect %q, want assign_error=%s", tc.reviewer, loc, tc.code)
				continue
			}
			if c.page(c.get(loc)).Find(`[data-testid="assign-error"]`).Length() != 1 {
				t.Errorf("reviewer %s: no message on the list", tc.reviewer)
			}
		}
		if n := count(t, f.app, &models.ReviewAssignment{}, "application_id = ?", f.apps[0].ID); n != 1 {
			t.Errorf("%d assignments, want 1", n)
		}
		wantCode(t, "", c.post("/applications/999999/reviewers", url.Values{"reviewer_id": {itoa(f.admin.ID)}}), http.StatusNotFound)
	})
}

func TestReviewFlow(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 2)
		mine := f.assign(t, 0, f.officer)
		recusing := f.assign(t, 1, f.officer)
		others := f.assign(t, 0, f.admin)
		cr := f.call.Criteria
		c := f.app.client()
		c.signInDemo("demo-officer")

		// My reviews.
		doc := c.page(c.get("/reviews"))
		if n := doc.Find(`[data-testid="review-row"]`).Length(); n != 2 {
			t.Fatalf("%d review rows, want 2", n)
		}
		page := f.path("/reviews/%d", mine)

		// Before the declaration the score sheet is disabled, and saving is refused.
		doc = c.page(c.get(page))
		if doc.Find(`[data-testid="conflict-form"]`).Length() != 1 || doc.Find(`[data-testid="scores-disabled"]`).Length() != 1 {
			t.Fatal("undeclared: want the conflict form and a disabled score sheet")
		}
		if _, ok := doc.Find(`[data-testid="score-form"] fieldset`).Attr("disabled"); !ok {
			t.Error("undeclared: score fieldset not disabled")
		}
		full := url.Values{}
		for i, x := range []string{"8", "7.5", "6"} {
			full.Set(fmt.Sprintf("score.%d", cr[i].ID), x)
			full.Set(fmt.Sprintf("comment.%d", cr[i].ID), "좋음")
		}
		resp := c.post(page+"/scores", full)
		wantCode(t, "", resp, http.StatusConflict)
		if c.page(resp).Find(`[data-testid="review-message"]`).Length() != 1 {
			t.Error("scores before the declaration: no message")
		}
		if n := count(t, f.app, &models.Score{}, "assignment_id = ?", mine); n != 0 {
			t.Errorf("%d scores saved before the declaration", n)
		}

		// A recused reviewer cannot score.
		wantCode(t, "", c.post(f.path("/reviews/%d/conflict", recusing), url.Values{"conflict": {"recused"}}), http.StatusSeeOther)
		rec := url.Values{}
		for i := range cr {
			rec.Set(fmt.Sprintf("score.%d", cr[i].ID), "5")
			rec.Set(fmt.Sprintf("comment.%d", cr[i].ID), "x")
		}
		wantCode(t, "", c.post(f.path("/reviews/%d/scores", recusing), rec), http.StatusConflict)
		if n := count(t, f.app, &models.Score{}, "assignment_id = ?", recusing); n != 0 {
			t.Errorf("%d scores saved by a recused reviewer", n)
		}
		doc = c.page(c.get(f.path("/reviews/%d", recusing)))
		if st, _ := doc.Find(`[data-testid="conflict-state"]`).Attr("data-conflict"); st != "recused" {
			t.Errorf("recused page conflict state %q", st)
		}

		// A declaration must choose, and is made once.
		wantCode(t, "", c.post(page+"/conflict", url.Values{"conflict": {"maybe"}}), http.StatusUnprocessableEntity)
		wantCode(t, "", c.post(page+"/conflict", url.Values{"conflict": {"none"}}), http.StatusSeeOther)
		wantCode(t, "", c.post(page+"/conflict", url.Values{"conflict": {"recused"}}), http.StatusConflict)

		// Bad scores: out of range, no comment, not a number; the input is kept.
		bad := url.Values{}
		bad.Set(fmt.Sprintf("score.%d", cr[0].ID), "11")
		bad.Set(fmt.Sprintf("comment.%d", cr[0].ID), "너무 높음")
		bad.Set(fmt.Sprintf("score.%d", cr[1].ID), "7")
		bad.Set(fmt.Sprintf("comment.%d", cr[1].ID), "")
		bad.Set(fmt.Sprintf("score.%d", cr[2].ID), "일곱")
		bad.Set(fmt.Sprintf("comment.%d", cr[2].ID), "숫자 아님")
		resp = c.post(page+"/scores", bad)
		wantCode(t, "", resp, http.StatusUnprocessableEntity)
		doc = c.page(resp)
		for i, msg := range []string{"review.error.range", "review.error.comment", "form.number"} {
			want := f.app.h.cat.For("ko").T(msg)
			if got := strings.TrimSpace(doc.Find(fmt.Sprintf(`[data-testid="error-score.%d"]`, cr[i].ID)).Text()); got != want {
				t.Errorf("criterion %d: error %q, want %q", i, got, want)
			}
		}
		if v, _ := doc.Find(fmt.Sprintf(`input[name="score.%d"]`, cr[2].ID)).Attr("value"); v != "일곱" {
			t.Errorf("typed score not kept: %q", v)
		}
		if v := doc.Find(fmt.Sprintf(`textarea[name="comment.%d"]`, cr[0].ID)).Text(); v != "너무 높음" {
			t.Errorf("typed comment not kept: %q", v)
		}
		if n := count(t, f.app, &models.Score{}, "assignment_id = ?", mine); n != 0 {
			t.Errorf("%d scores saved from an invalid sheet", n)
		}

		// Good scores, decimals allowed.
		resp = c.post(page+"/scores", full)
		wantCode(t, "", resp, http.StatusSeeOther)
		doc = c.page(c.get(resp.Header.Get("Location")))
		if doc.Find(`[data-testid="scores-saved"]`).Length() != 1 {
			t.Error("no confirmation after saving")
		}
		if v, _ := doc.Find(fmt.Sprintf(`input[name="score.%d"]`, cr[1].ID)).Attr("value"); v != "7.5" {
			t.Errorf("saved score shown as %q", v)
		}
		if n := auditRows(t, f.app, "review.score", itoa(f.apps[0].ID)); n != 1 {
			t.Errorf("%d review.score audit rows, want 1", n)
		}

		// Another officer's assignment is not found, to read or to write.
		for _, resp := range []*http.Response{
			c.get(f.path("/reviews/%d", others)),
			c.post(f.path("/reviews/%d/conflict", others), url.Values{"conflict": {"none"}}),
			c.post(f.path("/reviews/%d/scores", others), full),
		} {
			wantCode(t, "", resp, http.StatusNotFound)
		}
	})
}

func TestConcurrentScoring(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 1)
		ctx := context.Background()
		reviewers := []*models.User{f.officer, f.admin}
		subjects := []string{"demo-officer", "demo-admin"}
		ids := make([]uint, 2)
		clients := make([]*testClient, 2)
		for i, r := range reviewers {
			ids[i] = f.assign(t, 0, r)
			if err := models.DeclareConflict(ctx, f.app.db, ids[i], models.ConflictNone, r, f.app.clock.Now()); err != nil {
				t.Fatal(err)
			}
			clients[i] = f.app.client()
			clients[i].signInDemo(subjects[i])
		}
		for round := 0; round < 5; round++ {
			reqs := make([]*http.Request, 2)
			for i := range reviewers {
				form := url.Values{"_csrf": {clients[i].csrfToken()}}
				for j, cr := range f.call.Criteria {
					form.Set(fmt.Sprintf("score.%d", cr.ID), fmt.Sprint(i*3+j+round%2))
					form.Set(fmt.Sprintf("comment.%d", cr.ID), fmt.Sprintf("reviewer %d round %d", i, round))
				}
				reqs[i], _ = http.NewRequest(http.MethodPost, f.app.srv.URL+f.path("/reviews/%d/scores", ids[i]), strings.NewReader(form.Encode()))
				reqs[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			var wg sync.WaitGroup
			status := make([]int, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			for i := range reqs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := clients[i].c.Do(reqs[i])
					if err != nil {
						errs[i] = err
						return
					}
					resp.Body.Close()
					status[i] = resp.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			for i := range reqs {
				if errs[i] != nil || status[i] != http.StatusSeeOther {
					t.Fatalf("round %d, reviewer %d: %v, status %d", round, i, errs[i], status[i])
				}
			}
			as, err := models.ListAssignments(ctx, f.app.db, f.apps[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				i := slices.Index(ids, a.ID)
				if len(a.Scores) != 3 {
					t.Fatalf("round %d: reviewer %d kept %d scores, want 3", round, i, len(a.Scores))
				}
				for _, s := range a.Scores {
					j := slices.IndexFunc(f.call.Criteria, func(c models.Criterion) bool { return c.ID == s.CriterionID })
					if want := float64(i*3 + j + round%2); s.Value != want || s.Comment != fmt.Sprintf("reviewer %d round %d", i, round) {
						t.Errorf("round %d: reviewer %d criterion %d = %v %q, want %v", round, i, j, s.Value, s.Comment, want)
					}
				}
			}
		}
	})
}

// offRankingScores gives twelve applications their scores (A 50%, B 30%,
// C 20%, out of 10): Upstage's 70 ties SK Telecom's on total and loses on
// the highest-weighted criterion... see the expectations in TestRanking.
var offRankingScores = [][3]float64{
	{10, 10, 10}, // 0 naver-cloud 100
	{9, 9, 9},    // 1 upstage 90
	{8, 6, 6},    // 2 sk-telecom 70: A 40
	{6, 8, 9},    // 3 nc-ai 72
	{7, 7, 7},    // 4 lg-ai-research 70: A 35, tie with 2 broken by criterion A
	{7, 7, 7},    // 5 lunit 70: same as 4, submitted later
	{6, 6, 6},    // 6 motif 60
	{5, 5, 5},    // 7 bionexus 50
	{4, 4, 4},    // 8 sionic-ai 40
	{3, 3, 3},    // 9 junctionmed 30
	{2, 2, 2},    // 10 kakao 20
	{1, 1, 1},    // 11 kt 10
}

// offRankingOrder is the expected order, by fixture index.
var offRankingOrder = []int{0, 1, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11}

func newRankedFixture(t *testing.T, kind testdb.Kind) *offFixture {
	t.Helper()
	f := newOffFixture(t, kind, len(offRankingScores))
	for i, s := range offRankingScores {
		f.score(t, i, f.officer, s[0], s[1], s[2])
	}
	return f
}

func TestRankingAndPublish(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newRankedFixture(t, kind)
		c := f.app.client()
		c.signInDemo("demo-officer")
		ranking := f.path("/officer/calls/%d/ranking", f.call.ID)

		// The follow-up list is empty before the decision.
		doc := c.page(c.get(f.path("/officer/calls/%d/follow-up", f.call.ID)))
		if doc.Find(`[data-testid="not-decided"]`).Length() != 1 {
			t.Error("follow-up before the decision: no 'not yet decided'")
		}

		// Auditors may not see the ranking.
		a := f.app.client()
		a.signInDemo("demo-auditor")
		wantCode(t, "", a.get(ranking), http.StatusForbidden)

		doc = c.page(c.get(ranking))
		rows := doc.Find(`[data-testid="ranking-row"]`)
		if rows.Length() != 12 {
			t.Fatalf("%d ranking rows, want 12", rows.Length())
		}
		var order []uint
		tie := map[int]string{}
		ticked := 0
		rows.Each(func(i int, s *goquery.Selection) {
			id, _ := s.Attr("data-app")
			for j, app := range f.apps {
				if itoa(app.ID) == id {
					order = append(order, uint(j))
				}
			}
			if tb, _ := s.Attr("data-tiebreak"); tb != "" {
				tie[i+1] = tb
			}
			if _, ok := s.Find(`[data-testid="select"]`).Attr("checked"); ok {
				ticked++
				if i >= 5 {
					t.Errorf("rank %d is ticked by default", i+1)
				}
			}
			if n := s.Find(`[data-testid="criterion-points"]`).Length(); n != 3 {
				t.Errorf("rank %d shows %d criterion columns", i+1, n)
			}
			if got := strings.TrimSpace(s.Find(`[data-testid="reviewers"]`).Text()); got != "1" {
				t.Errorf("rank %d reviewers %q", i+1, got)
			}
		})
		for i, want := range offRankingOrder {
			if i < len(order) && int(order[i]) != want {
				t.Errorf("rank %d is fixture %d, want %d (order %v)", i+1, order[i], want, order)
			}
		}
		if ticked != 5 {
			t.Errorf("%d ticked by default, want the top 5", ticked)
		}
		if !maps2Equal(tie, map[int]string{5: "criterion", 6: "submitted"}) {
			t.Errorf("tie-breaks %v, want rank 5 by criterion and rank 6 by submission", tie)
		}
		// The totals and points: SK Telecom (rank 4) has 40 on A.
		r4 := rows.Eq(3)
		if got := strings.TrimSpace(r4.Find(`[data-testid="total"]`).Text()); got != "70" {
			t.Errorf("rank 4 total %q", got)
		}
		if got := strings.TrimSpace(r4.Find(`[data-testid="criterion-points"]`).First().Text()); got != "40" {
			t.Errorf("rank 4 points on A %q", got)
		}
		rule := doc.Find(`[data-testid="tie-rule"]`).Text()
		if !strings.Contains(rule, "기술력") || !strings.Contains(rule, "먼저 제출한") {
			t.Errorf("tie-break rule not stated: %q", rule)
		}
		if got := rows.Eq(4).Find(`[data-testid="tie"]`).Text(); !strings.Contains(got, "4위와 동점") {
			t.Errorf("rank 5 tie note %q", got)
		}

		// Publishing with errors: no notice, too many selected; the input is kept.
		var top []string
		for _, i := range offRankingOrder[:6] {
			top = append(top, itoa(f.apps[i].ID))
		}
		resp := c.post(f.path("/officer/calls/%d/decision", f.call.ID), url.Values{"selected": top,
			"notice_ko": {""}, "notice_en": {"The result."}, "counting_rule": {"announcement-day"}})
		wantCode(t, "", resp, http.StatusUnprocessableEntity)
		doc = c.page(resp)
		if doc.Find(`[data-testid="error-notice_ko"]`).Length() != 1 || doc.Find(`[data-testid="error-selected"]`).Length() != 1 {
			t.Error("publish errors: want messages on notice_ko and selected")
		}
		if got := doc.Find(`textarea[name="notice_en"]`).Text(); got != "The result." {
			t.Errorf("typed notice not kept: %q", got)
		}
		if n := doc.Find(`[data-testid="select"][checked]`).Length(); n != 6 {
			t.Errorf("%d boxes ticked after the error, want the 6 sent", n)
		}
		if _, ok := doc.Find(`input[name="counting_rule"][value="announcement-day"]`).Attr("checked"); !ok {
			t.Error("chosen counting rule not kept")
		}
		if n := count(t, f.app, &models.Decision{}, "call_id = ?", f.call.ID); n != 0 {
			t.Fatalf("%d decisions after a refused publication", n)
		}

		// Publish the top five: first the confirmation page, which publishes nothing.
		form := url.Values{"selected": top[:5], "notice_ko": {"선정 결과를 공고합니다."},
			"notice_en": {"The selection is announced."}, "counting_rule": {"civil"}}
		shownNotice(t, c, ranking, form)
		resp = c.post(f.path("/officer/calls/%d/decision", f.call.ID), form)
		wantCode(t, "", resp, http.StatusOK)
		doc = c.page(resp)
		var confirmed []string
		doc.Find(`[data-testid="confirm-selected-team"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-app")
			confirmed = append(confirmed, id)
		})
		if !slices.Equal(confirmed, top[:5]) || doc.Find(`[data-testid="confirm-ranking-row"]`).Length() != len(offRankingOrder) {
			t.Errorf("confirmation selects %v, want %v, with the whole ranking", confirmed, top[:5])
		}
		if w, _ := models.DecisionWindow(t.Context(), f.app.db, &models.Decision{PublishedAt: f.app.clock.Now(), CountingRule: models.RuleCivil},
			f.app.clock.Now()); strings.TrimSpace(doc.Find(`[data-testid="confirm-window-closes"]`).Text()) != views.KST(w.Closes) {
			t.Errorf("confirmation shows the window closing %q, want %s", doc.Find(`[data-testid="confirm-window-closes"]`).Text(), views.KST(w.Closes))
		}
		if n := doc.Find(`[data-testid="confirm-form"] input[name="selected"]`).Length(); n != 5 {
			t.Errorf("the confirmation sends %d selected, want 5", n)
		}
		if n := count(t, f.app, &models.Decision{}, "call_id = ?", f.call.ID); n != 0 {
			t.Fatalf("%d decisions before the confirmation", n)
		}
		form.Set("confirm", "1")
		resp = c.post(f.path("/officer/calls/%d/decision", f.call.ID), form)
		wantCode(t, "", resp, http.StatusSeeOther)
		var d models.Decision
		if err := f.app.db.Where("call_id = ?", f.call.ID).First(&d).Error; err != nil {
			t.Fatal(err)
		}
		if loc := resp.Header.Get("Location"); loc != "/decisions/"+itoa(d.ID) {
			t.Errorf("publish redirects to %q", loc)
		}
		if d.CountingRule != models.RuleCivil || d.PublishedByID != f.officer.ID || !d.PublishedAt.Equal(f.app.clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("decision %+v", d)
		}
		if n := count(t, f.app, &models.Decision{}, "call_id = ?", f.call.ID); n != 1 {
			t.Errorf("%d decisions, want 1", n)
		}
		if n := auditRows(t, f.app, "decision.publish", itoa(d.ID)); n != 1 {
			t.Errorf("%d decision.publish audit rows, want 1", n)
		}
		for rank, i := range offRankingOrder {
			var app models.Application
			f.app.db.First(&app, f.apps[i].ID)
			want := models.StatusNotSelected
			if rank < 5 {
				want = models.StatusSelected
			}
			if app.Status != want {
				t.Errorf("rank %d (%s) is %s, want %s", rank+1, f.orgs[i].Code, app.Status, want)
			}
		}

		// A second publication is refused.
		resp = c.post(f.path("/officer/calls/%d/decision", f.call.ID), form)
		wantCode(t, "", resp, http.StatusConflict)
		if n := count(t, f.app, &models.Decision{}, "call_id = ?", f.call.ID); n != 1 {
			t.Errorf("%d decisions after a second publication, want 1", n)
		}
		// The ranking page now points to the decision and offers no form.
		doc = c.page(c.get(ranking))
		if doc.Find(`[data-testid="decided"]`).Length() != 1 || doc.Find(`[data-testid="publish"]`).Length() != 0 {
			t.Error("ranking after publication: want the decision and no publish form")
		}

		// The follow-up list: ranks 6–10 and the rest, for auditors too.
		doc = a.page(a.get(f.path("/officer/calls/%d/follow-up", f.call.ID)))
		near := doc.Find(`[data-testid="follow-up-near"] [data-testid="follow-up-row"]`)
		rest := doc.Find(`[data-testid="follow-up-rest"] [data-testid="follow-up-row"]`)
		if near.Length() != 5 || rest.Length() != 2 {
			t.Fatalf("follow-up: %d near and %d rest, want 5 and 2", near.Length(), rest.Length())
		}
		near.Each(func(i int, s *goquery.Selection) {
			org := f.orgs[offRankingOrder[5+i]]
			if r, _ := s.Attr("data-rank"); r != fmt.Sprint(6+i) {
				t.Errorf("near row %d rank %s", i, r)
			}
			if got := strings.TrimSpace(s.Find(`[data-testid="follow-up-lead"]`).Text()); got != org.NameKO {
				t.Errorf("near row %d lead %q, want %q", i, got, org.NameKO)
			}
			if got := strings.TrimSpace(s.Find(`[data-testid="follow-up-members"]`).Text()); !strings.Contains(got, org.NameKO) {
				t.Errorf("near row %d members %q", i, got)
			}
		})
		if got := strings.TrimSpace(near.First().Find(`[data-testid="follow-up-score"]`).Text()); got != "70" {
			t.Errorf("rank 6 score %q", got)
		}
		if r, _ := rest.First().Attr("data-rank"); r != "11" {
			t.Errorf("first of the rest has rank %s", r)
		}
		// After publication auditors see the scores in the list.
		doc = a.page(a.get(f.path("/officer/calls/%d/applications", f.call.ID)))
		if doc.Find(`[data-testid="app-score"]`).Length() != 12 {
			t.Error("auditor list after publication: no scores")
		}
	})
}

func maps2Equal(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOfficerPagesTranslated renders every page of this area in both
// languages, before and after the decision, and looks for message IDs that
// have no text.
func TestOfficerPagesTranslated(t *testing.T) {
	t.Parallel()
	f := newRankedFixture(t, testdb.SQLite)
	f.assign(t, 11, f.admin)
	check := func(stage string) {
		for _, lang := range []string{"ko", "en"} {
			for _, subject := range []string{"demo-officer", "demo-admin", "demo-auditor"} {
				c := f.app.client()
				c.signInDemo(subject)
				wantCode(t, "", c.post("/lang", url.Values{"lang": {lang}, "next": {"/"}}), http.StatusSeeOther)
				paths := []string{f.path("/calls/%d", f.call.ID), f.path("/officer/calls/%d/applications", f.call.ID),
					f.path("/officer/calls/%d/follow-up", f.call.ID)}
				if subject != "demo-auditor" {
					paths = append(paths, "/officer/calls/new", f.path("/officer/calls/%d/edit", f.call.ID),
						f.path("/officer/calls/%d/ranking", f.call.ID), "/reviews")
					as, _ := models.AssignmentsOf(context.Background(), f.app.db, demoUser(t, f.app, subject).ID)
					for _, a := range as {
						paths = append(paths, f.path("/reviews/%d", a.ID))
					}
				}
				for _, p := range paths {
					resp := c.get(p)
					body := readAll(resp)
					if resp.StatusCode != http.StatusOK {
						t.Errorf("%s, %s, %s %s: status %d", stage, subject, lang, p, resp.StatusCode)
					}
					for _, prefix := range []string{"[officer.", "[call.", "[review.", "[decision.", "[form.", "[pager."} {
						if i := strings.Index(body, prefix); i >= 0 {
							t.Errorf("%s, %s %s: untranslated %s", stage, lang, p, body[i:min(len(body), i+50)])
						}
					}
				}
			}
		}
	}
	check("before the decision")
	var top []uint
	for _, i := range offRankingOrder[:5] {
		top = append(top, f.apps[i].ID)
	}
	// The admin's assignment has no scores: it does not count, the officer's does.
	if _, err := models.PublishSelection(context.Background(), f.app.db, models.PublishInput{CallID: f.call.ID, Selected: top,
		NoticeKO: "공고", NoticeEN: "Notice", CountingRule: models.RuleCivil}, f.officer, f.app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	check("after the decision")
}
