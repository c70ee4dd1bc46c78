package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kaiportal/testdb"
)

// With a metrics token, /metrics wants it as a bearer token.
func TestMetricsToken(t *testing.T) {
	app := newTestApp(t, testdb.SQLite, map[string]string{"PORTAL_METRICS_TOKEN": "scrape-secret"})
	cases := []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic c2NyYXBlLXNlY3JldA==", http.StatusUnauthorized},
		{"Bearer scrape-secret", http.StatusOK},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp := app.client().do(req)
		body := readAll(resp)
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(body, "portal_http_requests_total") {
			t.Errorf("metrics body lacks portal_http_requests_total")
		}
	}
}

// Without a token, /metrics is for this machine only.
func TestMetricsLoopbackOnly(t *testing.T) {
	app := newTestApp(t, testdb.SQLite, nil)
	r := app.h.Router()
	for _, tc := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5000", http.StatusOK}, {"[::1]:5000", http.StatusOK}, {"10.1.2.3:5000", http.StatusForbidden}} {
		req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("from %s: status %d, want %d", tc.remote, rec.Code, tc.want)
		}
	}
}
