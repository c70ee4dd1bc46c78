package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The page frame: titles, landmarks, the footer's information pages, the
// language switch on a page that answers a POST, and the charts' table.

// walkPages requests every GET page of the route table as every role, in
// both languages (the authorisation matrix's sample paths), and calls visit
// with each HTML page it gets.
func walkPages(t *testing.T, visit func(lang string, role matrixRole, path string, doc *goquery.Document)) {
	f := newMatrixFixture(t, testdb.SQLite)
	visited := 0
	matrix := authzMatrix()
	for _, lang := range []string{"ko", "en"} {
		for _, role := range matrixRoles {
			c := f.client(role)
			if lang == "en" {
				resp := c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
				resp.Body.Close()
			}
			for _, rt := range f.app.h.routes() {
				row, ok := matrix[rt.Method+" "+rt.Path]
				if rt.Method != http.MethodGet || !ok {
					continue
				}
				path := f.expand(row.pathFor(role))
				resp := c.get(path)
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					resp.Body.Close()
					continue
				}
				visit(lang, role, path, c.page(resp))
				visited++
			}
		}
	}
	if visited < 100 {
		t.Errorf("only %d pages visited: the walk missed the route table", visited)
	}
}

// TestPageTitlesNameThePage: on every page (walkPages) the <title> is
// "<page name> | <site name>", the page name a real message, not the
// site's name again.
func TestPageTitlesNameThePage(t *testing.T) {
	t.Parallel()
	site := map[string]string{"ko": "K-AI 프로그램 포털", "en": "K-AI Programme Portal"}
	walkPages(t, func(lang string, role matrixRole, path string, doc *goquery.Document) {
		title := strings.TrimSpace(doc.Find("head title").Text())
		name, siteName, found := strings.Cut(title, " | ")
		switch {
		case !found || siteName != site[lang]:
			t.Errorf("%s as %s (%s): title %q, want \"<page> | %s\"", path, role, lang, title, site[lang])
		case name == "" || name == site[lang] || strings.Contains(name, "[") || strings.Contains(name, "."):
			t.Errorf("%s as %s (%s): title %q does not name the page", path, role, lang, title)
		}
	})
}

// TestFrameLandmarks: the KRDS masthead sits in a labelled region, the menu
// button controls the navigation, and every page links the footer pages.
func TestFrameLandmarks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	for _, path := range []string{"/", "/decisions", "/k-ai", "/privacy"} {
		doc := c.page(c.get(path))
		masthead := doc.Find(`[data-testid="masthead"]`)
		region := masthead.Closest(`[role="region"][aria-label], header, nav, main, footer, aside, section[aria-label], section[aria-labelledby]`)
		if masthead.Length() != 1 || region.Length() == 0 {
			t.Errorf("%s: the masthead is outside every landmark", path)
		} else if label, _ := region.Attr("aria-label"); region.Is(`[role="region"]`) && strings.TrimSpace(label) == "" {
			t.Errorf("%s: the masthead's region has no label", path)
		}
		btn := doc.Find(`[data-testid="menu-open"]`)
		if ctl, _ := btn.Attr("aria-controls"); ctl == "" || doc.Find("nav#"+ctl).Length() != 1 {
			t.Errorf("%s: the menu button controls %q, want the navigation's id", path, ctl)
		}
		if exp, _ := btn.Attr("aria-expanded"); exp != "false" || !btn.Is("button[type=button]") {
			t.Errorf("%s: the menu button is not a closed button (aria-expanded %q)", path, exp)
		}
		for _, href := range []string{"/privacy", "/accessibility", "/help"} {
			if doc.Find(`footer a[href="`+href+`"]`).Length() != 1 {
				t.Errorf("%s: the footer does not link %s", path, href)
			}
		}
	}
}

// TestInformationPages: the privacy policy, accessibility statement and
// help desk are public pages in both languages, with the configured
// contacts, or a plain note where none is configured.
func TestInformationPages(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, map[string]string{
			"PORTAL_HELPDESK_PHONE": "044-202-4000", "PORTAL_HELPDESK_EMAIL": "help@kai.example.go.kr",
			"PORTAL_PRIVACY_OFFICER": "정보보호담당관 홍길동", "PORTAL_PRIVACY_CONTACT": "privacy@kai.example.go.kr",
			"PORTAL_PRIVACY_EFFECTIVE": "2025-08-01", "PORTAL_SESSION_IDLE": "45m",
		})
		c := app.client()
		pages := map[string][]string{
			"/privacy":       {"purposes", "items", "retention", "rights", "officer", "remedies", "effective"},
			"/accessibility": {"standard", "status", "limitations", "report"},
			"/help":          {"contact", "include", "appeals"},
		}
		for path, sections := range pages {
			resp := c.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, resp.StatusCode)
			}
			doc := c.page(resp)
			for _, s := range sections {
				sec := doc.Find(`[data-testid="section-` + s + `"]`)
				if sec.Find("h2").Length() != 1 || len(strings.TrimSpace(sec.Text())) < 20 {
					t.Errorf("%s: section %s missing or empty", path, s)
				}
			}
			if strings.Contains(doc.Find("main").Text(), "[") {
				t.Errorf("%s: a raw message key on the page", path)
			}
		}
		privacy := c.page(c.get("/privacy")).Find("main").Text()
		for _, want := range []string{"이름", "이메일", "소속 기관", "로그인 기록", "제출 문서", "정보보호담당관 홍길동",
			"privacy@kai.example.go.kr", "2025-08-01", "45분", "118", "보존기간"} {
			if !strings.Contains(privacy, want) {
				t.Errorf("privacy policy does not mention %q", want)
			}
		}
		a11y := c.page(c.get("/accessibility")).Find("main").Text()
		for _, want := range []string{"KWCAG", "2.2", "부분 준수", "044-202-4000", "help@kai.example.go.kr"} {
			if !strings.Contains(a11y, want) {
				t.Errorf("accessibility statement does not mention %q", want)
			}
		}
		doc := c.page(c.get("/help"))
		if href, _ := doc.Find(`main a[href^="mailto:"]`).Attr("href"); href != "mailto:help@kai.example.go.kr" {
			t.Errorf("help page mail link %q", href)
		}
		if got := doc.Find(`[data-testid="footer-helpdesk"]`).Text(); !strings.Contains(got, "044-202-4000") {
			t.Errorf("footer help desk %q, want the phone number", got)
		}

		// In English.
		resp := c.post("/lang", url.Values{"lang": {"en"}, "next": {"/privacy"}})
		resp.Body.Close()
		doc = c.page(c.get("/privacy"))
		if title := doc.Find("h1").Text(); title != "Privacy policy" {
			t.Errorf("English privacy policy titled %q", title)
		}
		if !strings.Contains(doc.Find("main").Text(), "45 min") {
			t.Errorf("English privacy policy does not state the idle timeout")
		}
	})

	// Nothing configured: the pages say so rather than show an empty line.
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	doc := c.page(c.get("/help"))
	if got := doc.Find(`[data-testid="fact-footer.helpdesk"]`).Text(); !strings.Contains(got, "정하지 않았습니다") {
		t.Errorf("unconfigured help desk phone shows %q", got)
	}
	if got := c.page(c.get("/privacy")).Find(`[data-testid="section-effective"]`).Text(); !strings.Contains(got, "정하지 않았습니다") {
		t.Errorf("unconfigured effective date shows %q", got)
	}
}

// TestLanguageSwitchOnAPostedForm: a form shown again with its errors is
// the answer to a POST; its language switch must return to the page of
// that form (the POST's address has no page: 405), in the new language.
func TestLanguageSwitchOnAPostedForm(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		c := app.client()
		c.signInDemo("demo-officer")
		resp := c.post("/officer/calls", url.Values{"title_ko": {"입력한 제목"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty call form: status %d, want 422", resp.StatusCode)
		}
		doc := c.page(resp)
		form := doc.Find(`form[action="/lang"]`)
		next, _ := form.Find(`input[name="next"]`).Attr("value")
		if next != "/officer/calls/new" {
			t.Errorf("language switch on the posted form returns to %q, want /officer/calls/new", next)
		}
		lang, _ := form.Find(`button[name="lang"]`).Attr("value")
		resp = c.post("/lang", url.Values{"lang": {lang}, "next": {next}})
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		resp = c.get(loc)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("after the switch GET %s: status %d, want 200", loc, resp.StatusCode)
		}
		if got, _ := c.page(resp).Find("html").Attr("lang"); got != "en" {
			t.Errorf("after the switch the page is in %q, want en", got)
		}

		// The page the form was sent from, when the browser says so.
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/officer/calls/1/decision",
			strings.NewReader(url.Values{"_csrf": {c.csrfToken()}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", app.srv.URL+"/officer/calls/1/ranking?tab=x")
		doc = c.page(c.do(req))
		if next, _ := doc.Find(`form[action="/lang"] input[name="next"]`).Attr("value"); next != "/officer/calls/1/ranking?tab=x" {
			t.Errorf("language switch on a posted form sent from the ranking returns to %q", next)
		}
		req.Header.Set("Referer", "http://elsewhere.example/officer/calls/1/ranking")
		req.Body = io.NopCloser(strings.NewReader(url.Values{"_csrf": {c.csrfToken()}}.Encode()))
		doc = c.page(c.do(req))
		if next, _ := doc.Find(`form[action="/lang"] input[name="next"]`).Attr("value"); strings.Contains(next, "elsewhere") || next != "/officer" {
			t.Errorf("language switch with another site's Referer returns to %q, want /officer (from the route table)", next)
		}

		// A GET page keeps its query.
		doc = c.page(c.get("/decisions?page=2"))
		if next, _ := doc.Find(`form[action="/lang"] input[name="next"]`).Attr("value"); next != "/decisions?page=2" {
			t.Errorf("language switch on a page with a query returns to %q", next)
		}
	})
}

// TestFormPage: for every POST route of the table, the language switch of
// the page that answers it goes to a GET page that exists, and for the
// forms, to the page that shows the form.
func TestFormPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	want := map[string]string{
		"/officer/calls":            "/officer/calls/new",
		"/officer/calls/7":          "/officer/calls/7/edit",
		"/calls/7/apply":            "/calls/7/apply",
		"/applications/7":           "/applications/7",
		"/applications/7/members":   "/applications/7",
		"/applications/7/documents": "/applications/7",
		"/reviews/7/scores":         "/reviews/7",
		"/decisions/7/appeal":       "/decisions/7/appeal",
		"/appeals/7/decide":         "/appeals/7",
		"/officer/naming":           "/officer/naming",
		"/officer/naming/7/revoke":  "/officer/naming",
		"/admin/holidays":           "/admin/holidays",
		"/admin/clusters":           "/admin/clusters/new",
		"/admin/clusters/7":         "/admin/clusters/7",
		"/officer/allocations/new":  "/officer/allocations/new",
		"/lang":                     "/",
		"/auth/demo":                "/",
	}
	for path, page := range want {
		if got := formPage(app.h.pages, path); got != page {
			t.Errorf("formPage(%s) = %s, want %s", path, got, page)
		}
	}
	for _, rt := range app.h.routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		path := strings.NewReplacer(":id", "7", ":aid", "7", ":mid", "7", ":gid", "7", ":hid", "7").Replace(rt.Path)
		got := formPage(app.h.pages, path)
		matched := false
		for _, p := range app.h.pages {
			matched = matched || routeMatches(p, got)
		}
		if !matched {
			t.Errorf("formPage(%s) = %s, which no GET route serves", path, got)
		}
	}
}

// TestAllocationChartTable: the allocation page shows the charts' series as
// a table, the same values the series JSON has, "—" in the gaps.
func TestAllocationChartTable(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.telemetry(t, g.gpus)
		c := g.client()
		c.signInDemo("demo-company-upstage")
		doc := c.page(c.get("/allocations/" + itoa(own.ID)))
		table := doc.Find(`details [data-testid="chart-table"]`)
		if table.Length() != 1 {
			t.Fatal("no table of the charts' values")
		}
		src, _ := doc.Find(`[data-testid="charts"]`).Attr("data-series-url")
		resp := c.get(src)
		var data struct {
			T    []int64
			Util []*float64
		}
		if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rows := table.Find(`tbody tr[data-testid="chart-row"]`)
		if rows.Length() != len(data.T) || rows.Length() != 7*24 {
			t.Fatalf("%d table rows, the series has %d points", rows.Length(), len(data.T))
		}
		gaps := 0
		rows.Each(func(i int, r *goquery.Selection) {
			util := strings.TrimSpace(r.Find("td").First().Text())
			switch {
			case data.Util[i] == nil:
				gaps++
				if util != "—" {
					t.Errorf("row %d: %q where the series has a gap", i, util)
				}
			case util != "43.5":
				t.Errorf("row %d: utilisation %q, want 43.5", i, util)
			}
		})
		if gaps == 0 || gaps == len(data.T) {
			t.Errorf("%d gaps in %d rows", gaps, len(data.T))
		}
		if th := rows.First().Find(`th[scope="row"]`).Text(); !strings.HasPrefix(th, models.DateOf(g.clock.Now()).AddDays(-6).String()) {
			t.Errorf("first row's time %q", th)
		}
	})
}
