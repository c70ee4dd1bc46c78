package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// External evaluators (평가위원): an officer assigns the demo evaluator to
// two of three submissions; the evaluator reads and scores the first,
// recuses themselves from the second, and sees nothing else of the
// programme: not the third application, not its documents, no officer,
// company, audit or GPU page.
func TestExternalEvaluator(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 3)
		ev := f.user("demo-reviewer")
		if ev.Role != models.RoleReviewer || ev.OrganisationID != nil {
			t.Fatalf("demo-reviewer: role %q, organisation %v; want an evaluator with no organisation", ev.Role, ev.OrganisationID)
		}
		officer := f.app.client()
		officer.signInDemo("demo-officer")

		// The officer's list offers the evaluator as a reviewer, and assigns them.
		list := f.path("/officer/calls/%d/applications", f.call.ID)
		doc := officer.page(officer.get(list))
		if doc.Find(fmt.Sprintf(`[data-testid="assign-form"] option[value="%d"]`, ev.ID)).Length() != 3 {
			t.Fatal("the assign forms do not offer the external evaluator")
		}
		for _, i := range []int{0, 1} {
			resp := officer.post(f.path("/applications/%d/reviewers", f.apps[i].ID), url.Values{"reviewer_id": {itoa(ev.ID)}})
			wantCode(t, "assign the evaluator", resp, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); !strings.Contains(loc, "assigned=") {
				t.Fatalf("assign the evaluator to application %d: redirect %q", i, loc)
			}
			if n := count(t, f.app, &models.AuditEntry{}, "action = ? AND object_id = ? AND summary LIKE ?", "review.assign",
				itoa(f.apps[i].ID), "%"+ev.Name+" (reviewer)%"); n != 1 {
				t.Errorf("application %d: %d audit rows of the evaluator's assignment, want 1", i, n)
			}
		}
		as, err := models.AssignmentsOf(t.Context(), f.app.db, ev.ID)
		if err != nil || len(as) != 2 {
			t.Fatalf("the evaluator's assignments: %v, %v", as, err)
		}
		scoring, recusing := as[0].ID, as[1].ID

		c := f.app.client()
		c.signInDemo("demo-reviewer")

		// The start page is their assignments, with the review period.
		resp := c.get("/dashboard")
		wantCode(t, "dashboard", resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/reviews" {
			t.Errorf("the evaluator's dashboard is %q, want /reviews", loc)
		}
		doc = c.page(c.get("/reviews"))
		if n := doc.Find(`[data-testid="review-row"]`).Length(); n != 2 {
			t.Errorf("%d assignments listed, want 2", n)
		}
		if doc.Find(`[data-testid="evaluator-lead"]`).Length() != 1 {
			t.Error("the evaluator's list does not say what they see")
		}
		period := strings.TrimSpace(doc.Find(`[data-testid="review-period"]`).First().Text())
		if !strings.Contains(period, "접수 마감") {
			t.Errorf("review period %q: want the call's close", period)
		}
		if main := doc.Find("main").Text(); strings.Contains(main, f.orgs[2].NameKO) {
			t.Errorf("the evaluator's list names %s, not assigned to them", f.orgs[2].NameKO)
		}
		var nav []string
		doc.Find("nav a").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			nav = append(nav, href)
		})
		for _, href := range nav {
			if !slices.Contains([]string{"/", "/calls", "/decisions", "/stages", "/k-ai", "/support/figures", "/reviews", "/evaluations"}, href) {
				t.Errorf("the evaluator's navigation links to %s", href)
			}
		}

		// The assigned application: its content and documents, to score.
		page := f.path("/reviews/%d", scoring)
		doc = c.page(c.get(page))
		if got := strings.TrimSpace(doc.Find(`[data-testid="review-summary"]`).Text()); got != f.apps[0].Summary {
			t.Errorf("summary %q, want the application's", got)
		}
		href, ok := doc.Find(`[data-testid="review-document"]`).Attr("href")
		if !ok {
			t.Fatal("no document on the assigned application's page")
		}
		if doc.Find(fmt.Sprintf(`a[href="/applications/%d"]`, f.apps[0].ID)).Length() != 0 {
			t.Error("the evaluator's page links to the application page, which they may not open")
		}
		wantCode(t, "assigned document", c.get(href), http.StatusOK)
		// Every link of their pages leads somewhere they may go.
		for _, path := range []string{"/reviews", page} {
			c.page(c.get(path)).Find("main a[href], nav a[href]").Each(func(_ int, s *goquery.Selection) {
				href, _ := s.Attr("href")
				if !strings.HasPrefix(href, "/") {
					return
				}
				if resp := c.get(href); resp.StatusCode >= 400 {
					t.Errorf("%s links to %s, which answers %d", path, href, resp.StatusCode)
				}
			})
		}

		// Anything else of the programme: refused, or "not found".
		other := f.apps[2]
		otherDoc := f.firstDocument(other)
		for path, want := range map[string]int{
			f.path("/applications/%d/documents/%d", other.ID, otherDoc): http.StatusNotFound,
			f.path("/applications/%d", other.ID):                        http.StatusForbidden,
			f.path("/applications/%d", f.apps[0].ID):                    http.StatusForbidden,
			f.path("/applications/%d/consortium", f.apps[0].ID):         http.StatusForbidden,
			list: http.StatusForbidden,
			f.path("/officer/calls/%d/ranking", f.call.ID): http.StatusForbidden,
			f.path("/organisations/%d", f.orgs[0].ID):      http.StatusForbidden,
			"/organisations": http.StatusForbidden,
			"/officer":       http.StatusForbidden,
			"/company":       http.StatusForbidden,
			"/audit":         http.StatusForbidden,
			"/appeals":       http.StatusForbidden,
			"/agreements":    http.StatusForbidden,
			"/allocations":   http.StatusForbidden,
			"/gpus/clusters": http.StatusForbidden,
			"/calls":         http.StatusOK,
			"/k-ai":          http.StatusOK,
		} {
			resp := c.get(path)
			wantCode(t, path, resp, want)
			if want != http.StatusOK && strings.Contains(c.page(resp).Find("main").Text(), f.orgs[2].NameKO) {
				t.Errorf("%s: the refusal names %s", path, f.orgs[2].NameKO)
			}
		}

		// Declare no conflict, then score: saved, audited.
		wantCode(t, "declare none", c.post(page+"/conflict", url.Values{"conflict": {models.ConflictNone}}), http.StatusSeeOther)
		full := url.Values{}
		for i, cr := range f.call.Criteria {
			full.Set(fmt.Sprintf("score.%d", cr.ID), []string{"9", "8", "7"}[i])
			full.Set(fmt.Sprintf("comment.%d", cr.ID), "근거가 충분함")
		}
		wantCode(t, "scores", c.post(page+"/scores", full), http.StatusSeeOther)
		if n := count(t, f.app, &models.Score{}, "assignment_id = ?", scoring); n != 3 {
			t.Errorf("%d scores saved, want 3", n)
		}
		for _, action := range []string{"review.conflict", "review.score"} {
			if n := auditRows(t, f.app, action, itoa(f.apps[0].ID)); n != 1 {
				t.Errorf("%d %s audit rows, want 1", n, action)
			}
		}

		// A declared conflict: scoring refused with the reason, the content withheld.
		rpage := f.path("/reviews/%d", recusing)
		doc = c.page(c.get(rpage))
		recusedDoc, _ := doc.Find(`[data-testid="review-document"]`).Attr("href")
		wantCode(t, "recuse", c.post(rpage+"/conflict", url.Values{"conflict": {models.ConflictRecused}}), http.StatusSeeOther)
		if n := auditRows(t, f.app, "review.conflict", itoa(f.apps[1].ID)); n != 1 {
			t.Errorf("%d conflict audit rows for the recusal, want 1", n)
		}
		scores := url.Values{}
		for _, cr := range f.call.Criteria {
			scores.Set(fmt.Sprintf("score.%d", cr.ID), "5")
			scores.Set(fmt.Sprintf("comment.%d", cr.ID), "보통")
		}
		resp = c.post(rpage+"/scores", scores)
		wantCode(t, "scores after recusal", resp, http.StatusConflict)
		msg := strings.TrimSpace(c.page(resp).Find(`[data-testid="review-message"]`).Text())
		if want := f.app.h.cat.For("ko").T("officer.review.recused_no_score"); msg != want {
			t.Errorf("scores after recusal: message %q, want %q", msg, want)
		}
		if n := count(t, f.app, &models.Score{}, "assignment_id = ?", recusing); n != 0 {
			t.Errorf("%d scores saved after the recusal", n)
		}
		doc = c.page(c.get(rpage))
		if doc.Find(`[data-testid="review-content-withheld"]`).Length() != 1 || doc.Find(`[data-testid="review-document"]`).Length() != 0 {
			t.Error("the recused evaluator's page still shows the application's content")
		}
		if recusedDoc == "" {
			t.Fatal("no document on the page before the recusal")
		}
		wantCode(t, "document after recusal", c.get(recusedDoc), http.StatusNotFound)

		// Another reviewer's assignment is "not found" to the evaluator.
		mine := f.assign(t, 2, f.officer)
		wantCode(t, "the officer's assignment", c.get(f.path("/reviews/%d", mine)), http.StatusNotFound)
		wantCode(t, "the officer's scores", c.post(f.path("/reviews/%d/scores", mine), full), http.StatusNotFound)
	})
}

// TestAdminSetsEvaluatorRole: an administrator can make a ministry or
// auditor account an external evaluator in the portal, as for the other
// roles; the account then sees only what an evaluator sees.
func TestAdminSetsEvaluatorRole(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		auditor := s.user("demo-auditor")
		admin := s.app.client()
		admin.signInDemo("demo-admin")
		doc := admin.page(admin.get(fmt.Sprintf("/admin/users/%d", auditor.ID)))
		if doc.Find(`select[name="role"] option[value="reviewer"]`).Length() != 1 {
			t.Fatal("the role form does not offer the evaluator role")
		}
		resp := admin.post(fmt.Sprintf("/admin/users/%d/role", auditor.ID), url.Values{"role": {"reviewer"}})
		wantCode(t, "set reviewer", resp, http.StatusSeeOther)
		u, err := models.GetUser(t.Context(), s.app.db, auditor.ID)
		if err != nil || u.Role != models.RoleReviewer {
			t.Fatalf("role after setting: %v, %v; want reviewer", u, err)
		}
		c := s.app.client()
		c.signInDemo("demo-auditor")
		wantCode(t, "audit as evaluator", c.get("/audit"), http.StatusForbidden)
		wantCode(t, "reviews as evaluator", c.get("/reviews"), http.StatusOK)
	})
}
