package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/demo"
	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// newStoryApp is the portal with the demo story seeded: the 2025 call, its
// 15 applications and the selection published on 2025-08-04.
func newStoryApp(t *testing.T, kind testdb.Kind) (*testApp, *models.Decision) {
	t.Helper()
	s := newStory(t, kind, nil)
	return s.app, s.demoSelection()
}

func textOf(doc *goquery.Document, testID string) string {
	return strings.Join(strings.Fields(doc.Find(`[data-testid="`+testID+`"]`).First().Text()), " ")
}

// demoNames returns the Korean and English names of the demo applicants,
// selected or not.
func demoNames(selected bool) []string {
	var out []string
	for _, d := range demo.Organisations {
		if d.Selected == selected {
			out = append(out, d.NameKO, d.NameEN)
		}
	}
	return out
}

func TestDecisionsListEmpty(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		c := app.client()
		resp := c.get("/decisions")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /decisions: status %d", resp.StatusCode)
		}
		doc := c.page(resp)
		if doc.Find(`[data-testid="no-decisions"]`).Length() != 1 || doc.Find(`[data-testid="decision-row"]`).Length() != 0 {
			t.Error("no decision published, but the page does not say so")
		}
		for _, path := range []string{"/decisions/1", "/decisions/abc", "/decisions/-1", "/decisions/99999999999"} {
			if resp := c.get(path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
			} else {
				resp.Body.Close()
			}
		}
	})
}

func TestPublicDecisionPages(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, d := newStoryApp(t, kind)
		path := "/decisions/" + itoa(d.ID)
		anon := app.client()

		// The list.
		doc := anon.page(anon.get("/decisions"))
		rows := doc.Find(`[data-testid="decision-row"]`)
		if rows.Length() != 1 {
			t.Fatalf("%d decision rows, want 1", rows.Length())
		}
		if href, _ := rows.Find(`[data-testid="decision-link"]`).Attr("href"); href != path {
			t.Errorf("decision link = %q, want %q", href, path)
		}
		for id, want := range map[string]string{
			"decision-link":           d.Call.TitleKO,
			"decision-kind":           "정예팀 선정 결과",
			"decision-published-at":   "2025-08-04 10:00:00 KST",
			"decision-selected-count": "5개 팀",
		} {
			if got := textOf(doc, id); got != want {
				t.Errorf("list %s = %q, want %q", id, got, want)
			}
		}

		// The decision, as the public sees it.
		resp := anon.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		doc = anon.page(resp)
		var names []string
		doc.Find(`[data-testid="selected-team"]`).Each(func(_ int, s *goquery.Selection) {
			names = append(names, strings.TrimSpace(s.Find(`[data-testid="team-name"]`).Text()))
			if strings.TrimSpace(s.Find(`[data-testid="team-members"]`).Text()) == "" {
				t.Errorf("team %s: no consortium members shown", names[len(names)-1])
			}
		})
		var want []string
		for _, e := range d.Entries {
			if e.Selected {
				want = append(want, e.NameKO)
			}
		}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("selected teams = %q, want %q (in Korean alphabetical order)", names, want)
		}
		for id, want := range map[string]string{
			"page-title":              d.Call.TitleKO,
			"decision-published-at":   "2025-08-04 10:00:00 KST",
			"decision-published-by":   "과학기술정보통신부 · 김정책",
			"decision-hash":           d.ContentHash,
			"appeal-opens":            "2025-08-04 10:00:00 KST",
			"appeal-last-day":         "2025-08-14 (목)",
			"appeal-closes":           "2025-08-15 00:00:00 KST",
			"appeal-status":           "접수 마감",
			"decision-selected-count": "5개 팀",
		} {
			if got := textOf(doc, id); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		if v, _ := doc.Find(`[data-testid="decision-verified"]`).Attr("data-verified"); v != "true" {
			t.Errorf("decision-verified = %q, want true", v)
		}
		if got := textOf(doc, "decision-notice"); !strings.Contains(got, "5개 정예팀을 선정") {
			t.Errorf("notice = %q, want the Korean notice", got)
		}
		// The notice's sentence about the window states the closing instant the portal enforces.
		if got := textOf(doc, "decision-window-notice"); !strings.Contains(got, "2025. 8. 14.(목) 24:00까지") {
			t.Errorf("window sentence = %q, want the closing instant 2025. 8. 14.(목) 24:00", got)
		}
		// Nothing of the applicants that were not selected, no score, no rank.
		main := doc.Find("main").Text()
		for _, n := range demoNames(false) {
			if strings.Contains(main, n) {
				t.Errorf("the public page names %q, which was not selected", n)
			}
		}
		for _, e := range d.Entries {
			for _, f := range []string{"%.2f", "%.1f", "%.6f"} {
				if s := fmt.Sprintf(f, e.Score); strings.Contains(main, s) {
					t.Errorf("the public page shows the score %s of rank %d", s, e.Rank)
				}
			}
		}
		for _, id := range []string{"own-result", "officer-links", "ranking-link", "follow-up-link"} {
			if doc.Find(`[data-testid="`+id+`"]`).Length() != 0 {
				t.Errorf("the anonymous visitor sees %s", id)
			}
		}

		// In English: the English names and notice.
		en := app.client()
		resp = en.post("/lang", url.Values{"lang": {"en"}, "next": {path}})
		resp.Body.Close()
		doc = en.page(en.get(path))
		names = nil
		doc.Find(`[data-testid="team-name"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, strings.TrimSpace(s.Text())) })
		if want := []string{"LG AI Research", "NC AI", "Naver Cloud", "SK Telecom", "Upstage"}; !slices.Equal(names, want) {
			t.Errorf("English selected teams = %q, want %q", names, want)
		}
		if got := textOf(doc, "decision-notice"); !strings.Contains(got, "five elite teams") {
			t.Errorf("English notice = %q", got)
		}
		if got := textOf(doc, "appeal-last-day"); got != "2025-08-14 (Thu)" {
			t.Errorf("English last day = %q", got)
		}
		if got := textOf(doc, "decision-published-by"); !strings.HasPrefix(got, "Ministry of Science and ICT · ") {
			t.Errorf("English published by = %q", got)
		}
	})
}

// TestDecisionOwnResult: a company sees its own result and rank on the
// public page, and nobody else's.
func TestDecisionOwnResult(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, d := newStoryApp(t, kind)
		path := "/decisions/" + itoa(d.ID)
		for _, tc := range []struct {
			subject, code string
			selected      bool
		}{
			{"demo-company-upstage", "upstage", true},
			{"demo-company-kaist", "kaist", false},
		} {
			org, err := models.GetOrganisationByCode(t.Context(), app.db, tc.code)
			if err != nil {
				t.Fatal(err)
			}
			entry, ok := d.Entry(org.ID)
			if !ok {
				t.Fatalf("%s is not in the decision", tc.code)
			}
			c := app.client()
			c.signInDemo(tc.subject)
			doc := c.page(c.get(path))
			if n := doc.Find(`[data-testid="own-result"]`).Length(); n != 1 {
				t.Fatalf("%s: %d own-result boxes, want 1", tc.code, n)
			}
			if v, _ := doc.Find(`[data-testid="own-status"]`).Attr("data-selected"); v != fmt.Sprint(tc.selected) {
				t.Errorf("%s: own-status selected = %q, want %v", tc.code, v, tc.selected)
			}
			if r, _ := doc.Find(`[data-testid="own-rank"]`).Attr("data-rank"); r != fmt.Sprint(entry.Rank) {
				t.Errorf("%s: own rank %q, want %d", tc.code, r, entry.Rank)
			}
			if got, want := textOf(doc, "own-rank"), fmt.Sprintf("15개 신청 중 %d위", entry.Rank); got != want {
				t.Errorf("%s: own rank text %q, want %q", tc.code, got, want)
			}
			main := doc.Find("main").Text()
			for _, n := range demoNames(false) {
				if n != org.NameKO && n != org.NameEN && strings.Contains(main, n) {
					t.Errorf("%s sees %q, another applicant that was not selected", tc.code, n)
				}
			}
			if doc.Find(`[data-testid="officer-links"]`).Length() != 0 {
				t.Errorf("%s sees the officers' links", tc.code)
			}
		}

		// A company the decision does not concern sees the public page only.
		other := &models.Organisation{Code: "latecomer", NameKO: "늦은기업", NameEN: "Latecomer", Kind: models.OrgCompany}
		if err := app.db.Create(other).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := models.UpsertUser(t.Context(), app.db, models.Identity{Issuer: models.DemoIssuer, Subject: "demo-company-latecomer",
			Name: "늦은 사용자", Role: models.RoleCompany, OrganisationID: &other.ID}, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		c := app.client()
		c.signInDemo("demo-company-latecomer")
		if doc := c.page(c.get(path)); doc.Find(`[data-testid="own-result"]`).Length() != 0 {
			t.Error("a company the decision does not concern sees an own result")
		}
	})
}

func TestDecisionOfficerLinks(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, d := newStoryApp(t, kind)
		path := "/decisions/" + itoa(d.ID)
		ranking := "/officer/calls/" + itoa(d.CallID) + "/ranking"
		followUp := "/officer/calls/" + itoa(d.CallID) + "/follow-up"
		for subject, want := range map[string][]string{
			"demo-officer": {ranking, followUp},
			"demo-admin":   {ranking, followUp},
			"demo-auditor": {followUp},
		} {
			c := app.client()
			c.signInDemo(subject)
			doc := c.page(c.get(path))
			var hrefs []string
			doc.Find(`[data-testid="officer-links"] a`).Each(func(_ int, s *goquery.Selection) {
				href, _ := s.Attr("href")
				hrefs = append(hrefs, href)
			})
			if !slices.Equal(hrefs, want) {
				t.Errorf("%s: officer links %q, want %q", subject, hrefs, want)
			}
			if doc.Find(`[data-testid="own-result"]`).Length() != 0 {
				t.Errorf("%s sees an own result", subject)
			}
		}
	})
}

// TestLatestDecisions renders the home page's box of results: nothing
// without a decision, else a link to it and to the list.
func TestLatestDecisions(t *testing.T) {
	t.Parallel()
	app, d := newStoryApp(t, testdb.SQLite)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := i18n.WithLocalizer(t.Context(), cat.For(i18n.Korean))
	p := views.Page{Lang: i18n.Korean}
	var buf bytes.Buffer
	if err := views.LatestDecisions(p, nil).Render(ctx, &buf); err != nil || strings.TrimSpace(buf.String()) != "" {
		t.Errorf("no decisions: rendered %q, %v; want nothing", buf.String(), err)
	}
	ds, err := models.ListDecisions(t.Context(), app.db)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := views.LatestDecisions(p, ds).Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	link := doc.Find(`[data-testid="home-decision-link"]`)
	if href, _ := link.Attr("href"); link.Length() != 1 || href != "/decisions/"+itoa(d.ID) {
		t.Errorf("home decision links = %d, first %q; want one to the decision", link.Length(), href)
	}
	if got := strings.Join(strings.Fields(doc.Text()), " "); !strings.Contains(got, "정예팀 선정 결과") || !strings.Contains(got, "2025-08-04 10:00:00 KST") {
		t.Errorf("home decisions box = %q", got)
	}
	if doc.Find(`a[href="/decisions"]`).Length() != 1 {
		t.Error("no link to the list of results")
	}
}
