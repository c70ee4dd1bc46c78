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
	t.Parallel()
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
	t.Parallel()
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

// In production /metrics wants the token: without one set it is not there
// (404), since behind a proxy on the same host every request comes from
// loopback; with one, loopback is no pass either.
func TestMetricsProduction(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"PORTAL_MODE": "production", "PORTAL_BASE_URL": "https://k-ai.example.go.kr",
		"OIDC_ISSUER": "https://sso.example.go.kr/realms/k-ai", "OIDC_CLIENT_ID": "portal",
		"OIDC_CLIENT_SECRET": "s3cret", "PORTAL_SESSION_KEY": strings.Repeat("k", 32), "PORTAL_DEMO_DATA": "false"}
	withToken := map[string]string{"PORTAL_METRICS_TOKEN": "scrape-secret"}
	for k, v := range prod {
		withToken[k] = v
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		remote string
		auth   string
		want   int
	}{
		{"no token set, from loopback", prod, "127.0.0.1:5000", "", http.StatusNotFound},
		{"no token set, from ::1", prod, "[::1]:5000", "", http.StatusNotFound},
		{"no token set, from elsewhere", prod, "10.1.2.3:5000", "", http.StatusNotFound},
		{"token set, from loopback without it", withToken, "127.0.0.1:5000", "", http.StatusUnauthorized},
		{"token set, from loopback with it", withToken, "127.0.0.1:5000", "Bearer scrape-secret", http.StatusOK},
	} {
		app := newTestApp(t, testdb.SQLite, tc.env)
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.remote
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		app.h.Router().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
		}
		if tc.want != http.StatusOK && strings.Contains(rec.Body.String(), "portal_http_requests_total") {
			t.Errorf("%s: the metrics were served", tc.name)
		}
	}
}
