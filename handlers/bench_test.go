package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"kaiportal/testdb"
)

// benchRouter is the portal with the demo programme on SQLite.
func benchRouter(b *testing.B) http.Handler {
	app := newTestApp(b, testdb.SQLite, nil)
	return app.h.Router()
}

func benchGet(b *testing.B, h http.Handler, path string, cookies ...*http.Cookie) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

// benchSignedIn is the portal and the cookies of a demo user signed in.
func benchSignedIn(b *testing.B, subject string) (http.Handler, []*http.Cookie) {
	app := newTestApp(b, testdb.SQLite, nil)
	cl := app.client()
	cl.signInDemo(subject)
	u, _ := url.Parse(app.srv.URL)
	return app.h.Router(), cl.c.Jar.Cookies(u)
}

// BenchmarkBaselineHealthz is the cheapest request: the whole middleware
// chain and a two-byte answer. Other figures are read as ratios to it.
func BenchmarkBaselineHealthz(b *testing.B) { benchGet(b, benchRouter(b), "/healthz") }

// BenchmarkHomePage renders the public front page from the database.
func BenchmarkHomePage(b *testing.B) { benchGet(b, benchRouter(b), "/") }

// BenchmarkDecisionsPage renders the public list of decisions.
func BenchmarkDecisionsPage(b *testing.B) { benchGet(b, benchRouter(b), "/decisions") }

// BenchmarkOfficerDashboard is an officer's start page, signed in.
func BenchmarkOfficerDashboard(b *testing.B) {
	h, cookies := benchSignedIn(b, "demo-officer")
	benchGet(b, h, "/officer", cookies...)
}
