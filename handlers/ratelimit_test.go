package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kaiportal/config"
	"kaiportal/i18n"
	"kaiportal/testdb"
)

// rlServe sends a request straight to the router from a client address, with
// a language cookie, and returns the answer.
func rlServe(app *testApp, method, path, remote string, hdr map[string]string, lang string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if method == http.MethodPost {
		body = strings.NewReader("x=1")
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = remote
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
	rec := httptest.NewRecorder()
	app.h.Router().ServeHTTP(rec, req)
	return rec
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, map[string]string{
			"PORTAL_RATE_LIMIT_SIGNIN": "2/1m", "PORTAL_RATE_LIMIT_API": "3/1m", "PORTAL_RATE_LIMIT_POST": "4/1m",
			"PORTAL_TRUSTED_PROXIES": "10.0.0.1"})
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			method string
			path   string
			n      int    // requests allowed in a burst
			retry  string // Retry-After of the next one: the period over n
			api    bool
		}{
			{"sign-in start", http.MethodGet, "/auth/login", 2, "30", false},
			{"demo sign-in", http.MethodPost, "/auth/demo", 0, "30", false}, // shares the sign-in bucket, spent above
			{"verification API", http.MethodGet, "/api/v1/k-ai/verify?name=Solar", 3, "20", true},
			{"a POST", http.MethodPost, "/lang", 4, "15", false},
			{"another POST", http.MethodPost, "/no/such/page", 0, "15", false}, // the same bucket, spent
		}
		for _, lang := range i18n.Languages {
			client := "192.0.2.10:4000"
			if lang == i18n.English {
				client = "[2001:db8:1:2::10]:4000"
			}
			for _, tc := range cases {
				for i := range tc.n {
					if rec := rlServe(app, tc.method, tc.path, client, nil, lang); rec.Code == http.StatusTooManyRequests {
						t.Fatalf("%s (%s): request %d of %d refused", tc.name, lang, i+1, tc.n)
					}
				}
				rec := rlServe(app, tc.method, tc.path, client, nil, lang)
				what := fmt.Sprintf("%s (%s) over the limit", tc.name, lang)
				if rec.Code != http.StatusTooManyRequests {
					t.Fatalf("%s: status %d, want 429", what, rec.Code)
				}
				if got := rec.Header().Get("Retry-After"); got != tc.retry {
					t.Errorf("%s: Retry-After %q, want %q", what, got, tc.retry)
				}
				msg := cat.For(lang).T("error.message.429")
				if tc.api {
					var body map[string]string
					if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if body["error"] != cat.For(i18n.English).T("error.message.429") || body["error_ko"] != cat.For(i18n.Korean).T("error.message.429") {
						t.Errorf("%s: body %v", what, body)
					}
					continue
				}
				doc := wantErrorStatus(t, what, rec.Result(), http.StatusTooManyRequests)
				if got, _ := doc.Find("html").Attr("lang"); got != lang {
					t.Errorf("%s: html lang %q", what, got)
				}
				if !strings.Contains(doc.Find(`[data-testid="error"]`).Text(), msg) {
					t.Errorf("%s: the page does not say %q", what, msg)
				}
			}
		}

		// Pages are not limited; another client is not affected; the
		// clock refills the bucket.
		for range 10 {
			if rec := rlServe(app, http.MethodGet, "/decisions", "192.0.2.10:4000", nil, "ko"); rec.Code != http.StatusOK {
				t.Fatalf("GET /decisions: status %d", rec.Code)
			}
		}
		if rec := rlServe(app, http.MethodPost, "/lang", "192.0.2.11:4000", nil, "ko"); rec.Code == http.StatusTooManyRequests {
			t.Error("another client was refused")
		}
		if rec := rlServe(app, http.MethodPost, "/lang", "[2001:db8:1:2::99]:4000", nil, "ko"); rec.Code != http.StatusTooManyRequests {
			t.Error("another address of the same IPv6 /64 was let through")
		}
		app.clock.Advance(15 * time.Second)
		if rec := rlServe(app, http.MethodPost, "/lang", "192.0.2.10:4000", nil, "ko"); rec.Code == http.StatusTooManyRequests {
			t.Error("a POST a period's share later was refused")
		}
		if rec := rlServe(app, http.MethodPost, "/lang", "192.0.2.10:4000", nil, "ko"); rec.Code != http.StatusTooManyRequests {
			t.Error("the refilled token was not spent")
		}

		// Behind a trusted proxy the client is the one it forwards for;
		// from anyone else X-Forwarded-For is ignored.
		for i := range 5 {
			rec := rlServe(app, http.MethodPost, "/lang", "10.0.0.1:5000", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}, "ko")
			if rec.Code == http.StatusTooManyRequests {
				t.Errorf("clients behind the proxy share one limit (request %d refused)", i+1)
			}
		}
		for i := range 5 {
			rec := rlServe(app, http.MethodPost, "/lang", "192.0.2.50:5000", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}, "ko")
			if (rec.Code == http.StatusTooManyRequests) != (i >= 4) {
				t.Errorf("untrusted X-Forwarded-For, request %d: status %d", i+1, rec.Code)
			}
		}
	})
}

// The limiter forgets clients whose buckets are full again, and never holds
// more than maxRateClients.
func TestRateLimitMemory(t *testing.T) {
	t.Parallel()
	l := newClientLimits(config.RateLimit{N: 2, Per: time.Minute})
	t0 := testStart
	for i := range 1000 {
		l.take(fmt.Sprintf("client-%d", i), t0)
	}
	if n := len(l.clients); n != 1000 {
		t.Fatalf("%d clients remembered, want 1000", n)
	}
	l.take("late", t0.Add(time.Minute))
	if n := len(l.clients); n != 1 {
		t.Errorf("a period later %d clients remembered, want 1 (the idle ones are full again)", n)
	}
	// A client forgotten had a full bucket: it gets its whole burst.
	if _, ok := l.take("client-1", t0.Add(time.Minute)); !ok {
		t.Error("a forgotten client was refused")
	}

	for i := range maxRateClients + 10 {
		l.take(fmt.Sprintf("flood-%d", i), t0.Add(time.Minute+time.Second))
	}
	if n := len(l.clients); n > maxRateClients {
		t.Errorf("%d clients remembered, more than %d", n, maxRateClients)
	}
	if newClientLimits(config.RateLimit{}) != nil {
		t.Error("an off limit is not nil")
	}
}
