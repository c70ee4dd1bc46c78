package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"kaiportal/testdb"
)

// benchRouter is the portal with the demo programme on SQLite.
func benchRouter(b *testing.B) http.Handler {
	app := newTestApp(b, testdb.SQLite, nil)
	return app.h.Router()
}

func benchGet(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

// BenchmarkBaselineHealthz is the cheapest request: the whole middleware
// chain and a two-byte answer. Other figures are read as ratios to it.
func BenchmarkBaselineHealthz(b *testing.B) { benchGet(b, benchRouter(b), "/healthz") }

// BenchmarkHomePage renders the public front page from the database.
func BenchmarkHomePage(b *testing.B) { benchGet(b, benchRouter(b), "/") }

// BenchmarkDecisionsPage renders the public list of decisions.
func BenchmarkDecisionsPage(b *testing.B) { benchGet(b, benchRouter(b), "/decisions") }
