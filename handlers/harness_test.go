package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/demo"
	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestMain runs the tests through testdb.Main (which keeps the PostgreSQL
// schemas of finished tests for reuse and drops them at the end) and stops
// the browser they shared.
func TestMain(m *testing.M) {
	code := testdb.Main(m)
	stopBrowser()
	os.Exit(code)
}

// testStart is the fixed instant every handler test starts at: 2026-11-27 14:00 KST.
var testStart = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

// testApp is the portal on a real database behind a real HTTP server.
type testApp struct {
	t     testing.TB
	db    *gorm.DB
	clock *testdb.Clock
	cfg   *config.Config
	h     *Handler
	srv   *httptest.Server
}

// testConfig is the development configuration with the demo sign-in. The
// rate limits are off (the test clock stands still, so no bucket would
// refill); the tests of the limits set them.
func testConfig(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{"PORTAL_MODE": "development", "PORTAL_ADDR": "127.0.0.1:0",
		"PORTAL_BASE_URL": "http://127.0.0.1", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_RATE_LIMIT_SIGNIN": "off", "PORTAL_RATE_LIMIT_API": "off", "PORTAL_RATE_LIMIT_POST": "off",
		// The request's database deadline is wall-clock time: on a loaded
		// machine a page that takes 50 ms alone overran the default 5 s
		// and answered 503. Tests of the deadline set their own.
		"PORTAL_DB_REQUEST_TIMEOUT": "2m"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// newTestApp starts the portal with the demo programme seeded. mutate, if
// not nil, may change the configuration before the handler is built.
func newTestApp(t testing.TB, kind testdb.Kind, env map[string]string) *testApp {
	t.Helper()
	return newTestAppWith(t, kind, func(string) map[string]string { return env }, nil)
}

// newTestAppWith is newTestApp for settings that name the portal's own
// address (PORTAL_BASE_URL, OIDC_REDIRECT_URL): the listener opens first and
// env receives its base URL. The portal logs to logger, or nowhere when nil.
func newTestAppWith(t testing.TB, kind testdb.Kind, env func(baseURL string) map[string]string, logger *slog.Logger) *testApp {
	t.Helper()
	clock := testdb.NewClock(testStart)
	db := testdb.Open(t, kind, clock.Now)
	if err := demo.Seed(context.Background(), db, clock.Now()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	cfg := testConfig(t, env("http://"+srv.Listener.Addr().String()))
	if logger == nil {
		logger = discardLogger()
	}
	h, err := New(Options{DB: db, Config: cfg, Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h.Router()
	srv.Start()
	return &testApp{t: t, db: db, clock: clock, cfg: cfg, h: h, srv: srv}
}

// testClient is a browser: a cookie jar that does not follow redirects.
type testClient struct {
	app *testApp
	c   *http.Client
}

func (a *testApp) client() *testClient {
	jar, _ := cookiejar.New(nil)
	return &testClient{app: a, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *testClient) do(req *http.Request) *http.Response {
	c.app.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.app.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

func (c *testClient) get(path string) *http.Response {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form; the CSRF token is added unless form sets _csrf itself.
func (c *testClient) post(path string, form url.Values) *http.Response {
	c.app.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrfToken())
	}
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// csrfToken reads the token a page gives this browser.
func (c *testClient) csrfToken() string {
	c.app.t.Helper()
	doc := c.page(c.get("/"))
	tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if tok == "" {
		c.app.t.Fatal("no csrf-token meta on /")
	}
	return tok
}

// page parses an HTML response and closes its body.
func (c *testClient) page(resp *http.Response) *goquery.Document {
	c.app.t.Helper()
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		c.app.t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// demoUser loads the demo user with the given subject (demo-officer,
// demo-admin, demo-auditor, demo-company-upstage, demo-company-kaist).
func demoUser(t testing.TB, app *testApp, subject string) *models.User {
	t.Helper()
	var u models.User
	if err := app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
		t.Fatalf("demo user %s: %v", subject, err)
	}
	return &u
}

// signInDemo signs in as the demo user with the given subject.
func (c *testClient) signInDemo(subject string) *models.User {
	c.app.t.Helper()
	u := demoUser(c.app.t, c.app, subject)
	resp := c.post("/auth/demo", url.Values{"user_id": {itoa(u.ID)}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		c.app.t.Fatalf("demo sign-in as %s: status %d", subject, resp.StatusCode)
	}
	return u
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Shared assertions on the portal's answers. what names the request in a
// failure ("" names it by its method and path); the failure shows the start
// of the page's main content, and stops the test.

// snippet is the start of a page's main content, for failure messages.
func snippet(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000]
	}
	return body
}

func requestName(what string, resp *http.Response) string {
	if what == "" && resp.Request != nil {
		return resp.Request.Method + " " + resp.Request.URL.Path
	}
	return what
}

// wantCode checks the response's status; the body is left to the caller.
func wantCode(t testing.TB, what string, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d\n%s", requestName(what, resp), resp.StatusCode, status, snippet(readAll(resp)))
	}
}

// wantPage checks the status and returns the parsed page (the body is closed).
func wantPage(t testing.TB, what string, resp *http.Response, status int) *goquery.Document {
	t.Helper()
	body := readAll(resp)
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d\n%s", requestName(what, resp), resp.StatusCode, status, snippet(body))
	}
	return parseHTML(t, body)
}

// wantSeeOther checks a 303 to exactly location (the body is closed).
func wantSeeOther(t testing.TB, what string, resp *http.Response, location string) {
	t.Helper()
	body := readAll(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: status %d, want 303 to %q\n%s", requestName(what, resp), resp.StatusCode, location, snippet(body))
	}
	if got := resp.Header.Get("Location"); got != location {
		t.Fatalf("%s: redirects to %q, want %q", requestName(what, resp), got, location)
	}
}

// wantErrorStatus checks that the response is the generic error page for
// the status, and returns it.
func wantErrorStatus(t testing.TB, what string, resp *http.Response, status int) *goquery.Document {
	t.Helper()
	doc := wantPage(t, what, resp, status)
	sel := doc.Find(`[data-testid="error"]`)
	if st, _ := sel.Attr("data-status"); sel.Length() != 1 || st != strconv.Itoa(status) {
		t.Fatalf("%s: want the error page with data-status %d, got %d error elements with %q", requestName(what, resp), status, sel.Length(), st)
	}
	return doc
}

// wantErrorPage checks that resp is the error page with status and the
// (Korean, the default language) message messageID.
func wantErrorPage(t testing.TB, c *testClient, resp *http.Response, status int, messageID string) *goquery.Document {
	t.Helper()
	doc := wantErrorStatus(t, "", resp, status)
	want := c.app.h.cat.For(i18n.Korean).T(messageID)
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-message"]`).Text()); got != want {
		t.Errorf("error message %q, want %q (%s)", got, want, messageID)
	}
	return doc
}

// parseHTML parses a page's HTML.
func parseHTML(t testing.TB, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// testIDText is the trimmed text of the first element with the data-testid.
func testIDText(doc *goquery.Document, testID string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="` + testID + `"]`).First().Text())
}

// testIDTexts are the trimmed texts of the elements with the data-testid, in order.
func testIDTexts(doc *goquery.Document, testID string) []string {
	var out []string
	doc.Find(`[data-testid="` + testID + `"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// fieldError is the error a form page shows on a field ("" when none).
func fieldError(doc *goquery.Document, field string) string {
	return testIDText(doc, "error-"+field)
}

// wantFieldError checks that a form page shows an error on each field.
func wantFieldError(t testing.TB, what string, doc *goquery.Document, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
			t.Errorf("%s: no error shown on %s", what, f)
		}
	}
}

// count counts the rows of model's table that match where.
func count(t testing.TB, app *testApp, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := app.db.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// auditRows counts the audit trail's rows of the action on the object.
func auditRows(t testing.TB, app *testApp, action, objectID string) int64 {
	t.Helper()
	return count(t, app, &models.AuditEntry{}, "action = ? AND object_id = ?", action, objectID)
}

// stmtCounter counts the SQL statements gorm sends to one database, through
// callbacks registered after each of gorm's operations, and keeps their text.
type stmtCounter struct {
	mu   sync.Mutex
	sqls []string
}

// countStatements starts counting the statements run on db (every session
// derived from it: the portal's requests included).
func countStatements(t testing.TB, db *gorm.DB) *stmtCounter {
	t.Helper()
	sc := &stmtCounter{}
	record := func(tx *gorm.DB) {
		if tx.DryRun {
			return // a subquery built into a statement, not one sent
		}
		sc.mu.Lock()
		sc.sqls = append(sc.sqls, tx.Statement.SQL.String())
		sc.mu.Unlock()
	}
	const name = "test:count_statements"
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register(name, record),
		cb.Query().After("gorm:query").Register(name, record),
		cb.Update().After("gorm:update").Register(name, record),
		cb.Delete().After("gorm:delete").Register(name, record),
		cb.Row().After("gorm:row").Register(name, record),
		cb.Raw().After("gorm:raw").Register(name, record),
	} {
		if err != nil {
			t.Fatalf("count statements: %v", err)
		}
	}
	return sc
}

// around runs fn (one request, waited for to the end) and returns the
// statements it ran.
func (sc *stmtCounter) around(fn func()) []string {
	sc.mu.Lock()
	sc.sqls = nil
	sc.mu.Unlock()
	fn()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]string(nil), sc.sqls...)
}
