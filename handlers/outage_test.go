package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
)

// While the database is out — closed, refused, locked, or slower than the
// request's deadline — every page answers 503 with Retry-After, in the
// visitor's language; a client that goes away is no server error.

// rawKey matches a message ID shown instead of its text, e.g. [error.message.500].
var rawKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z0-9_]+)+\]`)

// outWant503 checks a 503 error page in lang with Retry-After.
func outWant503(t *testing.T, what, lang string, resp *http.Response) {
	t.Helper()
	retry := resp.Header.Get("Retry-After")
	doc := wantErrorStatus(t, what, resp, http.StatusServiceUnavailable)
	if retry == "" {
		t.Errorf("%s: no Retry-After", what)
	}
	outCheckPage(t, what, lang, doc)
}

func outCheckPage(t *testing.T, what, lang string, doc *goquery.Document) {
	t.Helper()
	if got, _ := doc.Find("html").Attr("lang"); got != lang {
		t.Errorf("%s: html lang %q, want %q", what, got, lang)
	}
	body, _ := doc.Html()
	if k := rawKey.FindString(body); k != "" {
		t.Errorf("%s: the page shows the message ID %s", what, k)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	if msg := cat.For(lang).T("error.message.503"); !strings.Contains(doc.Find(`[data-testid="error"]`).Text(), msg) {
		t.Errorf("%s: the error page does not say %q", what, msg)
	}
}

// outClient is a browser in a language, signed in as subject ("" for anonymous).
func outClient(app *testApp, subject, lang string) *testClient {
	c := app.client()
	if subject != "" {
		c.signInDemo(subject)
	}
	secSetCookie(c, langCookie, lang)
	return c
}

func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		type visitor struct {
			subject, lang string
			c             *testClient
		}
		var visitors []*visitor
		for _, subject := range []string{"", "demo-officer", "demo-company-upstage"} {
			for _, lang := range i18n.Languages {
				visitors = append(visitors, &visitor{subject: subject, lang: lang, c: outClient(app, subject, lang)})
			}
		}
		sqlDB, err := app.db.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.Close()

		for _, v := range visitors {
			who := v.subject
			if who == "" {
				who = "anonymous"
			}
			for _, p := range []string{"/", "/decisions", "/k-ai"} {
				outWant503(t, "GET "+p+" as "+who+" in "+v.lang, v.lang, v.c.get(p))
			}
			if v.subject != "" {
				// The session cannot be loaded: every route, even one that
				// needs no database of its own.
				for _, p := range []string{"/dashboard", "/officer", "/company", "/appeals"} {
					outWant503(t, "GET "+p+" as "+who+" in "+v.lang, v.lang, v.c.get(p))
				}
				outWant503(t, "POST /lang as "+who+" in "+v.lang, v.lang, secSend(v.c, http.MethodPost, "/lang", "lang=ko", nil))
			}
		}

		// The JSON API says so in JSON.
		resp := app.client().get("/api/v1/k-ai/verify?name=Solar")
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("verify: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			body["error"] == "" || body["error_ko"] == "" || rawKey.MatchString(body["error"]) {
			t.Errorf("verify with the database closed: %d, Retry-After %q, %v; want 503 with Retry-After and both messages",
				resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
}

// A PostgreSQL server that is not running (nothing listens at its address).
func TestDatabaseRefused(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(testStart)
	dsn := "postgres://portal@" + closedAddr(t) + "/portal?sslmode=disable&connect_timeout=5"
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{DisableAutomaticPing: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{DB: db, Config: testConfig(t, nil), Now: clock.Now, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Router())
	defer srv.Close()
	app := &testApp{t: t, h: h, srv: srv, clock: clock}
	for _, lang := range i18n.Languages {
		c := outClient(app, "", lang)
		outWant503(t, "GET / in "+lang, lang, c.get("/"))
		outWant503(t, "GET /decisions in "+lang, lang, c.get("/decisions"))
	}
	if resp := app.client().get("/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz with the database down: %d, want 200", resp.StatusCode)
	}
}

// A database that does not answer in time: the request's deadline
// (PORTAL_DB_REQUEST_TIMEOUT) turns it into a 503, where it would otherwise
// wait as long as the lock is held.
func TestDatabaseDeadline(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		// The clients sign in under the default deadline (on a loaded
		// machine a sign-in may take longer than the short one), then a
		// portal with the 300 ms deadline serves the rest.
		app := newTestApp(t, kind, nil)
		company := outClient(app, "demo-company-upstage", i18n.English)
		var officer models.User
		if err := app.db.Where("subject = ?", "demo-officer").First(&officer).Error; err != nil {
			t.Fatal(err)
		}
		anon := outClient(app, "", i18n.Korean)
		token := anon.csrfToken()
		short := *app.cfg
		short.DBRequestTimeout = 300 * time.Millisecond
		app.cfg = &short

		other := testdb.OpenAgain(t, app.db, app.clock.Now)
		switch kind {
		case testdb.Postgres:
			h, err := New(Options{DB: app.db, Config: app.cfg, Now: app.clock.Now, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			app.srv.Config.Handler = h.Router()
			// Another transaction holds the sessions table.
			tx := other.Begin()
			t.Cleanup(func() { tx.Rollback() })
			if err := tx.Exec("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE").Error; err != nil {
				t.Fatal(err)
			}
			outWant503(t, "signed-in page, sessions locked", i18n.English, company.get("/company"))
		case testdb.SQLite:
			// Another connection holds the write lock. SQLite waits for it
			// as long as its busy timeout, whatever the context says, so the
			// portal opens it with the request deadline as busy timeout.
			var file string
			if err := app.db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
				t.Fatal(err)
			}
			db, err := models.OpenSQLiteWait(file, app.clock.Now, app.cfg.DBRequestTimeout)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { models.Close(db) })
			h, err := New(Options{DB: db, Config: app.cfg, Now: app.clock.Now, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			app.srv.Config.Handler = h.Router()
			sqlDB, _ := other.DB()
			conn, err := sqlDB.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.ExecContext(context.Background(), "ROLLBACK"); conn.Close() })
			if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
				t.Fatal(err)
			}
		}
		// Signing in writes a session row.
		anon.c.Timeout = 20 * time.Second
		resp := secSend(anon, http.MethodPost, "/auth/demo", "user_id="+itoa(officer.ID)+"&_csrf="+token, nil)
		outWant503(t, "demo sign-in, database locked", i18n.Korean, resp)
	})
}

// A client that goes away mid-request: its cancelled queries are neither
// logged as errors nor counted as 500.
func TestClientGone(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		logs := &logBuffer{}
		app := newTestAppWith(t, kind, func(string) map[string]string { return nil },
			slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
		r := app.h.Router()
		for _, p := range []string{"/decisions", "/k-ai", "/api/v1/k-ai/verify?name=Solar"} {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the client is gone before the first query
			req := httptest.NewRequest(http.MethodGet, p, nil).WithContext(ctx)
			r.ServeHTTP(httptest.NewRecorder(), req)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a client going away was logged as an error:\n%s", logs.String())
		}
		if !strings.Contains(logs.String(), "status=499") {
			t.Errorf("the access log does not record the requests as closed by the client (499):\n%s", logs.String())
		}
		metrics := readAll(app.client().get("/metrics"))
		for _, route := range []string{"/decisions", "/k-ai", "/api/v1/k-ai/verify"} {
			if !strings.Contains(metrics, `portal_http_requests_total{method="GET",route="`+route+`",status="499"} 1`) {
				t.Errorf("/metrics does not count GET %s as 499", route)
			}
		}
		if strings.Contains(metrics, `status="500"`) {
			t.Errorf("/metrics counts a 500:\n%s", metrics)
		}
	})
}
