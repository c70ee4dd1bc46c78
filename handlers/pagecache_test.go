package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// The page cache must answer exactly what rendering the page would: the
// tests here compare it with a second portal instance on the same database
// whose cache is off, change the data through another connection pool,
// move the clock to the instants the pages show, and look at what one
// viewer's answer holds of another's.

// cacheEnv is the configuration of the cache tests: one session key for
// both instances (so each reads the other's sessions and signs the same
// form owner), and sessions that outlive the clock's jumps.
var cacheEnv = map[string]string{"PORTAL_SESSION_KEY": "page-cache-test-session-key-0123456789",
	"PORTAL_SESSION_IDLE": "8760h", "PORTAL_SESSION_MAX_AGE": "8760h"}

// newFullDemo is the portal with the whole demo: applications, the 2025
// decision, the naming grants and the additional call whose appeal window
// is open on the day the clock stands at.
func newFullDemo(t *testing.T, kind testdb.Kind) *testApp {
	t.Helper()
	app := newTestApp(t, kind, cacheEnv)
	ctx, now := context.Background(), app.clock.Now()
	if err := demo.SeedApplications(ctx, app.db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAgreements(ctx, app.db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAdditionalCall(ctx, app.db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedStages(ctx, app.db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	return app
}

// secondInstance is another portal on app's database and clock, with env
// on top of cacheEnv, through its own connection pool.
func secondInstance(t *testing.T, app *testApp, env map[string]string) *testApp {
	t.Helper()
	all := map[string]string{}
	for k, v := range cacheEnv {
		all[k] = v
	}
	for k, v := range env {
		all[k] = v
	}
	db := testdb.OpenAgain(t, app.db, app.clock.Now)
	cfg := testConfig(t, all)
	h, err := New(Options{DB: db, Config: cfg, Now: app.clock.Now, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Router())
	t.Cleanup(srv.Close)
	return &testApp{t: t, db: db, clock: app.clock, cfg: cfg, h: h, srv: srv}
}

// getAt fetches path from the portal at base with the client's cookies
// and returns the status and body.
func getAt(t *testing.T, cl *testClient, base, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	resp, err := cl.c.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	return resp.StatusCode, readAll(resp)
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// cacheCounts is how many cached-page requests were hits and fills so far.
func cacheCounts(t *testing.T, app *testApp) (hits, fills float64) {
	return counterValue(t, app.h.metrics.pageHit), counterValue(t, app.h.metrics.pageFill)
}

// viewer is a browser: anonymous in one language, or signed in as a demo user.
type viewer struct {
	name  string
	cl    *testClient
	pages []string
}

// cacheViewers are anonymous visitors in Korean and in English and one
// demo user of each role, each with the public pages and their dashboard.
func cacheViewers(t *testing.T, app *testApp, public []string) []viewer {
	t.Helper()
	var vs []viewer
	for _, lang := range []string{"ko", "en"} {
		cl := app.client()
		u, _ := url.Parse(app.srv.URL)
		cl.c.Jar.SetCookies(u, []*http.Cookie{{Name: langCookie, Value: lang, Path: "/"}})
		cl.csrfToken() // the visitor's CSRF cookie
		vs = append(vs, viewer{name: "anonymous " + lang, cl: cl, pages: public})
	}
	for _, s := range []struct{ subject, dashboard string }{{"demo-company-upstage", "/company"}, {"demo-company-kaist", "/company"},
		{"demo-officer", "/officer"}, {"demo-admin", "/admin"}, {"demo-auditor", "/auditor"}} {
		cl := app.client()
		cl.signInDemo(s.subject)
		vs = append(vs, viewer{name: s.subject, cl: cl, pages: append(slices.Clone(public), s.dashboard)})
	}
	return vs
}

// decisionPaths are the addresses of every published decision.
func decisionPaths(t *testing.T, db *gorm.DB) ([]string, []models.Decision) {
	t.Helper()
	ds, err := models.ListDecisions(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range ds {
		paths = append(paths, "/decisions/"+itoa(d.ID))
	}
	return paths, ds
}

// TestPageCacheMatchesFreshRendering walks the clock through every instant
// the cached pages depend on (each call opening and closing, each appeal
// window opening and closing, the registry's day changing), just before
// and at each, and asks every page of every viewer twice of the caching
// instance and once of an instance without the cache: the bytes must be
// the same each time. The caching instance must have served some of them
// from the cache (or the test would prove nothing).
func TestPageCacheMatchesFreshRendering(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newFullDemo(t, kind)
		fresh := secondInstance(t, app, map[string]string{"PORTAL_PAGE_CACHE_BYTES": "0"})
		ctx := context.Background()
		now := app.clock.Now()
		prog, err := models.CurrentProgramme(ctx, app.db)
		if err != nil {
			t.Fatal(err)
		}
		officer := demoUser(t, app, "demo-officer")
		// A call that opens in an hour and closes a day later, one open
		// until tomorrow: their instants are ahead of the clock.
		for i, span := range [][2]time.Duration{{time.Hour, 25 * time.Hour}, {-time.Hour, 20 * time.Hour}} {
			c := &models.Call{ProgrammeID: prog.ID, TitleKO: "캐시 시험 공모 " + itoa(uint(i)), TitleEN: "Cache test call",
				OpensAt: now.Add(span[0]), ClosesAt: now.Add(span[1]), Slots: 1,
				Criteria: []models.Criterion{{NameKO: "기술력", NameEN: "Technology", Weight: 100, MaxScore: 10}}}
			if err := models.SaveCall(ctx, app.db, c, officer, now); err != nil {
				t.Fatal(err)
			}
		}
		decisions, ds := decisionPaths(t, app.db)
		public := append([]string{"/", "/calls", "/calls/1", "/decisions", "/k-ai"}, decisions...)
		var calls []models.Call
		if err := app.db.Find(&calls).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			public = append(public, "/calls/"+itoa(c.ID))
		}
		viewers := cacheViewers(t, app, public)

		instants := []time.Time{now}
		for _, c := range calls {
			instants = append(instants, c.OpensAt, c.ClosesAt)
		}
		for i := range ds {
			w, err := models.DecisionWindow(ctx, app.db, &ds[i], now)
			if err != nil {
				t.Fatal(err)
			}
			instants = append(instants, w.Opens, w.Closes)
		}
		instants = append(instants, models.DateOf(now).AddDays(1).Start())
		var steps []time.Time
		for _, at := range instants {
			if !at.Before(now) {
				steps = append(steps, at.Add(-time.Nanosecond), at)
			}
		}
		slices.SortFunc(steps, time.Time.Compare)
		steps = slices.Compact(steps)
		if len(steps) < 8 {
			t.Fatalf("only %d instants to walk: %v", len(steps), steps)
		}

		hits0, _ := cacheCounts(t, app)
		for _, at := range steps {
			app.clock.Set(at)
			for _, v := range viewers {
				for _, p := range v.pages {
					status, want := getAt(t, v.cl, fresh.srv.URL, p)
					want = withoutChainCheck(want)
					for round := range 2 {
						got, body := getAt(t, v.cl, app.srv.URL, p)
						body = withoutChainCheck(body)
						if got != status || body != want {
							t.Fatalf("at %s, %s %s (request %d): the cached instance answered %d, %s\nthe uncached one %d, %s",
								at.In(models.KST), v.name, p, round+1, got, firstDifference(body, want), status, firstDifference(want, body))
						}
					}
				}
			}
		}
		hits, _ := cacheCounts(t, app)
		if served := hits - hits0; served < float64(len(steps)*len(viewers)) {
			t.Errorf("only %.0f requests were served from the cache", served)
		}
	})
}

// chainCheck is the audit chain's status on the auditor's dashboard: when
// and from where it was last verified. The instance that renders each time
// verifies at each request; the cache shows the last verification until
// the data changes, which is the point (nothing new to verify): the rest
// of the page is compared.
var chainCheck = regexp.MustCompile(`(?s)<p data-testid="chain-verified".*?</p>`)

func withoutChainCheck(body string) string { return chainCheck.ReplaceAllString(body, "") }

// firstDifference is a's text around where it first differs from b.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from, to := max(0, i-120), min(len(a), i+120)
	return "…" + a[from:to] + "…"
}

// TestPageCacheSeesAnotherInstancesChange changes the data that cached
// pages show through a second connection pool, as another portal instance
// would, and by hand (SQL): the next request shows the change.
func TestPageCacheSeesAnotherInstancesChange(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newFullDemo(t, kind)
		other := testdb.OpenAgain(t, app.db, app.clock.Now)
		anon := app.client()
		officer := app.client()
		officer.signInDemo("demo-officer")
		company := app.client()
		company.signInDemo("demo-company-upstage")

		twice := func(cl *testClient, path string) string {
			t.Helper()
			hits, _ := cacheCounts(t, app)
			getAt(t, cl, app.srv.URL, path)
			status, body := getAt(t, cl, app.srv.URL, path)
			if status != http.StatusOK {
				t.Fatalf("%s: %d", path, status)
			}
			if now, _ := cacheCounts(t, app); now <= hits {
				t.Fatalf("%s was not served from the cache the second time", path)
			}
			return body
		}

		// A call's title, on the front page, the call list and the dashboard.
		for _, path := range []string{"/", "/calls", "/calls/1"} {
			if body := twice(anon, path); strings.Contains(body, "바뀐 제목 ") {
				t.Fatalf("%s shows the new title before the change", path)
			}
		}
		twice(officer, "/officer")
		if err := other.Model(&models.Call{}).Where("id = ?", 1).Update("title_ko", "바뀐 제목 1").Error; err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/", "/calls", "/calls/1"} {
			if _, body := getAt(t, anon, app.srv.URL, path); !strings.Contains(body, "바뀐 제목 1") {
				t.Errorf("%s does not show the title changed by another instance", path)
			}
		}
		if _, body := getAt(t, officer, app.srv.URL, "/officer"); !strings.Contains(body, "바뀐 제목 1") {
			t.Error("/officer does not show the title changed by another instance")
		}

		// The company's name on its dashboard, changed by hand in SQL.
		if body := twice(company, "/company"); !strings.Contains(body, "업스테이지") {
			t.Fatalf("the company dashboard does not name the company: %s", firstDifference(body, ""))
		}
		if err := other.Exec("UPDATE organisations SET name_ko = ? WHERE code = ?", "새이름 업스", "upstage").Error; err != nil {
			t.Fatal(err)
		}
		if _, body := getAt(t, company, app.srv.URL, "/company"); !strings.Contains(body, "새이름 업스") {
			t.Error("/company does not show the organisation renamed in SQL")
		}

		// A grant's names, on the registry.
		twice(anon, "/k-ai")
		var g models.NamingGrant
		if err := other.Order("id").First(&g).Error; err != nil {
			t.Fatal(err)
		}
		if err := other.Model(&g).Update("names", "바뀐이름-케이에이아이").Error; err != nil {
			t.Fatal(err)
		}
		if _, body := getAt(t, anon, app.srv.URL, "/k-ai"); !strings.Contains(body, "바뀐이름-케이에이아이") {
			t.Error("/k-ai does not show the grant renamed by another instance")
		}
	})
}

// TestPageCacheKeepsViewersApart: what one viewer was shown is never what
// another gets. Two companies each see only their own organisation and
// result; anonymous visitors never get a signed-in header; each visitor
// and each session, even two of one user, gets its own CSRF token and its
// own session warning; each language its own page.
func TestPageCacheKeepsViewersApart(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newFullDemo(t, kind)
		decisions, _ := decisionPaths(t, app.db)
		// A second user of Upstage, of the same role and organisation.
		up := demoUser(t, app, "demo-company-upstage")
		if _, err := models.UpsertUser(context.Background(), app.db, models.Identity{Issuer: models.DemoIssuer,
			Subject: "demo-company-upstage-2", Email: "two@upstage.demo.k-ai.invalid", Name: "이둘째 (업스테이지)",
			Role: models.RoleCompany, OrganisationID: up.OrganisationID}, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		upstage, colleague, kaist := app.client(), app.client(), app.client()
		upstage.signInDemo("demo-company-upstage")
		colleague.signInDemo("demo-company-upstage-2")
		kaist.signInDemo("demo-company-kaist")
		names := []string{"최업스", "이둘째", "정카이"}
		for _, path := range append([]string{"/company", "/", "/calls/1"}, decisions...) {
			for round := range 2 { // the second round is served from the cache
				for i, cl := range []*testClient{upstage, colleague, kaist} {
					_, body := getAt(t, cl, app.srv.URL, path)
					for j, name := range names {
						if strings.Contains(body, `data-testid="current-user">`+name) != (i == j) {
							t.Errorf("%s (round %d) for %s: the header names %s: %v", path, round+1, names[i], name, i == j)
						}
					}
					if path == "/company" && strings.Contains(body, "KAIST") != (i == 2) {
						t.Errorf("/company (round %d) for %s shows another organisation", round+1, names[i])
					}
				}
			}
		}

		// Signed in first, then anonymous: the anonymous page has no user.
		officer := app.client()
		officer.signInDemo("demo-officer")
		anon := app.client()
		for _, path := range []string{"/", "/calls", "/decisions", "/k-ai"} {
			getAt(t, officer, app.srv.URL, path)
			_, body := getAt(t, anon, app.srv.URL, path)
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(body, "김정책") || doc.Find(`[data-testid="current-user"]`).Length() != 0 ||
				doc.Find(`[data-testid="sign-in"]`).Length() != 1 {
				t.Errorf("%s for an anonymous visitor shows a signed-in header", path)
			}
		}

		// Each visitor's and each session's own token, in every form.
		second := app.client()
		second.signInDemo("demo-officer") // the same user, another session
		anon2 := app.client()
		tokens := map[string]bool{}
		for _, cl := range []*testClient{officer, second, anon, anon2} {
			for range 2 {
				doc := cl.page(cl.get("/"))
				meta, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
				doc.Find(`input[name="_csrf"]`).Each(func(_ int, s *goquery.Selection) {
					if v, _ := s.Attr("value"); v != meta {
						t.Errorf("a form carries %q, the page's token is %q", v, meta)
					}
				})
				tokens[meta] = true
			}
		}
		if len(tokens) != 4 {
			t.Errorf("4 browsers got %d distinct CSRF tokens: %v", len(tokens), tokens)
		}
		for _, cl := range []*testClient{officer, anon2} { // the token works
			resp := cl.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("switching the language with the page's token: %d", resp.StatusCode)
			}
		}
		// A CSRF cookie with characters HTML must escape is escaped as templ would.
		odd := app.client()
		u, _ := url.Parse(app.srv.URL)
		odd.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kai_csrf", Value: strings.Repeat("a", 30) + "<&>'", Path: "/"}})
		for range 2 {
			_, body := getAt(t, odd, app.srv.URL, "/")
			if strings.Contains(body, "<&>'") || !strings.Contains(body, "aa&lt;&amp;&gt;&#39;\"") {
				t.Errorf("an odd CSRF cookie is not escaped in the page: %s", firstDifference(body, ""))
			}
		}

		// Each session its own warning: end the second session an hour sooner.
		var sessions []models.Session
		if err := app.db.Where("user_id = ?", demoUser(t, app, "demo-officer").ID).Order("created_at").Find(&sessions).Error; err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 2 {
			t.Fatalf("%d officer sessions", len(sessions))
		}
		sooner := app.clock.Now().Add(time.Hour)
		if err := app.db.Model(&models.Session{}).Where("id = ?", sessions[1].ID).Update("expires_at", sooner).Error; err != nil {
			t.Fatal(err)
		}
		ends := map[string]bool{}
		for _, cl := range []*testClient{officer, second} {
			doc := cl.page(cl.get("/officer"))
			end, _ := doc.Find(`[data-testid="session-warning"]`).Attr("data-ends")
			ends[end] = true
		}
		if !ends[sooner.UTC().Format(time.RFC3339)] || len(ends) != 2 {
			t.Errorf("the two sessions' warnings end at %v, want one at %s", ends, sooner.UTC().Format(time.RFC3339))
		}

		// Each language its own page.
		en := app.client()
		en.c.Jar.SetCookies(u, []*http.Cookie{{Name: langCookie, Value: "en", Path: "/"}})
		for range 2 {
			_, ko := getAt(t, anon, app.srv.URL, "/calls")
			_, eng := getAt(t, en, app.srv.URL, "/calls")
			if !strings.Contains(ko, `<html lang="ko"`) || !strings.Contains(eng, `<html lang="en"`) {
				t.Error("/calls does not follow the visitor's language")
			}
		}
	})
}

// TestPageCacheExpiresAtDeadline: a page kept while a call was open, an
// appeal window open, or on one day of the registry, is not served at the
// instant that changes: the call closes at the nanosecond, the window
// closes, the registry turns to the next day.
func TestPageCacheExpiresAtDeadline(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newFullDemo(t, kind)
		ctx := context.Background()
		now := app.clock.Now()
		prog, err := models.CurrentProgramme(ctx, app.db)
		if err != nil {
			t.Fatal(err)
		}
		closes := now.Add(90 * time.Minute)
		call := &models.Call{ProgrammeID: prog.ID, TitleKO: "마감 시험 공모", TitleEN: "Deadline call",
			OpensAt: now.Add(-time.Hour), ClosesAt: closes, Slots: 1,
			Criteria: []models.Criterion{{NameKO: "기술력", NameEN: "Technology", Weight: 100, MaxScore: 10}}}
		if err := models.SaveCall(ctx, app.db, call, demoUser(t, app, "demo-officer"), now); err != nil {
			t.Fatal(err)
		}
		company := app.client()
		company.signInDemo("demo-company-upstage")
		state := func(path string) string {
			t.Helper()
			doc := company.page(company.get(path))
			var s []string
			doc.Find(`[data-call="` + itoa(call.ID) + `"] [data-testid="call-state"], [data-testid="call-notice"] [data-testid="call-state"]`).
				Each(func(_ int, sel *goquery.Selection) { v, _ := sel.Attr("data-state"); s = append(s, v) })
			if doc.Find(`[data-testid="apply"]`).Length() > 0 {
				s = append(s, "apply")
			}
			return strings.Join(s, ",")
		}
		path := "/calls/" + itoa(call.ID)
		app.clock.Set(closes.Add(-time.Nanosecond))
		for range 2 {
			if got := state(path); got != "open,apply" {
				t.Fatalf("a nanosecond before the close: %q, want open with the apply button", got)
			}
			if got := state("/calls"); got != "open" {
				t.Fatalf("/calls a nanosecond before the close: %q", got)
			}
		}
		hits, _ := cacheCounts(t, app)
		app.clock.Set(closes)
		if got := state(path); got != "closed" {
			t.Errorf("at the close: %q, want closed without the apply button", got)
		}
		if got := state("/calls"); got != "closed" {
			t.Errorf("/calls at the close: %q, want closed", got)
		}
		if h, _ := cacheCounts(t, app); h != hits {
			t.Errorf("%.0f pages were served from the cache past their deadline", h-hits)
		}

		// The appeal window of the decision published days ago.
		_, ds := decisionPaths(t, app.db)
		var open *models.Decision
		var window models.Window
		for i := range ds {
			w, err := models.DecisionWindow(ctx, app.db, &ds[i], app.clock.Now())
			if err == nil && w.IsOpen(app.clock.Now()) {
				open, window = &ds[i], w
			}
		}
		if open == nil {
			t.Fatal("no decision with an open appeal window in the demo")
		}
		dpath := "/decisions/" + itoa(open.ID)
		appeal := func() (string, string) {
			t.Helper()
			doc := company.page(company.get(dpath))
			st, _ := doc.Find(`[data-testid="appeal-status"]`).Attr("data-open")
			now, _ := doc.Find(`[data-testid="countdown"]`).Attr("data-server-now")
			return st, now
		}
		app.clock.Set(window.Closes.Add(-2 * time.Second))
		st1, now1 := appeal()
		app.clock.Set(window.Closes.Add(-time.Second))
		st2, now2 := appeal() // from the cache, with this request's countdown
		if st1 != "true" || st2 != "true" || now1 == now2 || now2 != window.Closes.Add(-time.Second).UTC().Format(jsInstantTest) {
			t.Errorf("before the window closes: open %s/%s, countdowns from %s and %s", st1, st2, now1, now2)
		}
		app.clock.Set(window.Closes)
		if st, _ := appeal(); st != "false" {
			t.Errorf("at the window's close the page says open=%s", st)
		}

		// The registry's day.
		midnight := models.DateOf(app.clock.Now()).AddDays(1).Start()
		anon := app.client()
		app.clock.Set(midnight.Add(-time.Nanosecond))
		getAt(t, anon, app.srv.URL, "/k-ai")
		getAt(t, anon, app.srv.URL, "/k-ai")
		hits, _ = cacheCounts(t, app)
		app.clock.Set(midnight)
		getAt(t, anon, app.srv.URL, "/k-ai")
		if h, _ := cacheCounts(t, app); h != hits {
			t.Error("the registry of the day before was served at midnight")
		}
	})
}

// jsInstantTest is views' jsInstant: the countdown's instants to the millisecond.
const jsInstantTest = "2006-01-02T15:04:05.000Z07:00"

// TestCachedPagesReadOnlyVersionedTables: a cached page is kept until the
// data version moves, and the version does not move for the few tables
// left out of it (sessions, sign-in states, kept forms, GPU telemetry):
// no cached page may read them. Each cached page of each viewer is made
// with the cache off and its statements are read for those tables' names.
func TestCachedPagesReadOnlyVersionedTables(t *testing.T) {
	app := newFullDemo(t, testdb.SQLite)
	plain := secondInstance(t, app, map[string]string{"PORTAL_PAGE_CACHE_BYTES": "0"})
	decisions, _ := decisionPaths(t, app.db)
	var stages []uint
	if err := app.db.Model(&models.Stage{}).Order("id").Pluck("id", &stages).Error; err != nil || len(stages) == 0 {
		t.Fatalf("demo stages: %v %v", stages, err)
	}
	viewers := cacheViewers(t, app, append([]string{"/", "/calls", "/calls/1", "/decisions", "/k-ai", "/stages",
		fmt.Sprintf("/stages/%d", stages[0]), fmt.Sprintf("/stages/%d", stages[len(stages)-1])}, decisions...))
	counter := countStatements(t, plain.db)
	left := models.UnversionedTables()
	word := regexp.MustCompile(`\b(` + strings.Join(left, "|") + `)\b`)
	pages := 0
	for _, v := range viewers {
		for _, p := range v.pages {
			sqls := counter.around(func() {
				if status, _ := getAt(t, v.cl, plain.srv.URL, p); status != http.StatusOK {
					t.Fatalf("%s for %s: %d", p, v.name, status)
				}
			})
			pages++
			for _, q := range sqls {
				if strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "SELECT") && word.MatchString(q) {
					t.Errorf("%s for %s reads a table the data version leaves out: %s", p, v.name, q)
				}
			}
			if len(sqls) == 0 {
				t.Errorf("%s for %s ran no statement through gorm: the check saw nothing", p, v.name)
			}
		}
	}
	// Every route the cache serves was looked at.
	cached := map[string]bool{}
	for _, rt := range app.h.routes() {
		if rt.Method == http.MethodGet && strings.Contains(funcName(rt.Handle), "cached") {
			cached[rt.Path] = true
		}
	}
	for _, path := range []string{"/", "/calls", "/calls/:id", "/decisions", "/decisions/:id", "/k-ai", "/stages", "/stages/:id",
		"/company", "/officer", "/admin", "/auditor"} {
		if !cached[path] {
			t.Errorf("%s is not served through the page cache", path)
		}
		delete(cached, path)
	}
	if len(cached) > 0 {
		t.Errorf("routes served through the page cache that this test does not read: %v", cached)
	}
	if pages < 20 {
		t.Errorf("only %d pages looked at", pages)
	}
}

// funcName is the name of the function behind a handler.
func funcName(f any) string { return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name() }
