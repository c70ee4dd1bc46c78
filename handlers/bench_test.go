package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"kaiportal/testdb"
)

// benchRouter is the portal with the demo programme on SQLite.
func benchRouter(b *testing.B) http.Handler {
	app := newTestApp(b, testdb.SQLite, nil)
	return app.h.Router()
}

func benchGet(b *testing.B, h http.Handler, path string, cookies ...*http.Cookie) {
	b.ReportAllocs()
	start, n := processCPU(), 0
	defer func() {
		if n > 0 {
			b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(n), "cpu-ns/op")
		}
	}()
	for b.Loop() {
		n++
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

// processCPU is the CPU time this process has used: on a machine busy with
// other work it is steadier than the time on the clock.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkHomePage serves the public front page (from the page cache
// after the first request).
func BenchmarkHomePage(b *testing.B) { benchGet(b, benchRouter(b), "/") }

// BenchmarkHomePageUncached renders the public front page from the
// database at every request, as after each change of the data.
func BenchmarkHomePageUncached(b *testing.B) {
	app := newTestApp(b, testdb.SQLite, map[string]string{"PORTAL_PAGE_CACHE_BYTES": "0"})
	benchGet(b, app.h.Router(), "/")
}

// BenchmarkDecisionsPage renders the public list of decisions.
func BenchmarkDecisionsPage(b *testing.B) { benchGet(b, benchRouter(b), "/decisions") }

// BenchmarkOfficerDashboard is an officer's start page, signed in.
func BenchmarkOfficerDashboard(b *testing.B) {
	h, cookies := benchSignedIn(b, "demo-officer")
	benchGet(b, h, "/officer", cookies...)
}

// BenchmarkDashboards is each role's start page, signed in, from the page
// cache after the first request: what `make bench`'s load test measures.
func BenchmarkDashboards(b *testing.B) {
	for _, d := range []struct{ subject, path string }{
		{"demo-company-upstage", "/company"},
		{"demo-admin", "/admin"},
		{"demo-auditor", "/auditor"},
	} {
		b.Run(d.path[1:], func(b *testing.B) {
			h, cookies := benchSignedIn(b, d.subject)
			benchGet(b, h, d.path, cookies...)
		})
	}
}
