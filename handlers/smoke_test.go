package handlers

import (
	"net/http"
	"testing"

	"kaiportal/testdb"
)

func TestDemoSignInReachesEachDashboard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		subject, dashboard, testID string
	}{
		{"demo-officer", "/officer", "officer-dashboard"},
		{"demo-admin", "/admin", "admin-dashboard"},
		{"demo-auditor", "/auditor", "auditor-dashboard"},
		{"demo-company-upstage", "/company", "company-dashboard"},
	}
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		for _, tc := range cases {
			c := app.client()
			c.signInDemo(tc.subject)
			resp := c.get("/dashboard")
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.dashboard {
				t.Fatalf("%s: /dashboard → %d %q, want 303 %q", tc.subject, resp.StatusCode, resp.Header.Get("Location"), tc.dashboard)
			}
			doc := c.page(c.get(tc.dashboard))
			if doc.Find(`[data-testid="`+tc.testID+`"]`).Length() != 1 {
				t.Errorf("%s: %s has no %s", tc.subject, tc.dashboard, tc.testID)
			}
		}
	})
}
