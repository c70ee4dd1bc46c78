package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// The role re-check runs against the real test provider: a user signs in
// with a role, the provider changes what it says about them, and both
// clocks (the portal's and the provider's) move past PORTAL_ROLE_RECHECK.

// advanceBoth moves the portal's and the provider's clocks together.
func advanceBoth(app *testApp, p *testProvider, d time.Duration) {
	app.clock.Advance(d)
	p.advance(d)
}

// wantSignedOutGet checks that a GET of path sends the browser to sign in.
func wantSignedOutGet(t *testing.T, c *testClient, path string) {
	t.Helper()
	resp := c.get(path)
	readAll(resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/auth/signin") {
		t.Fatalf("GET %s: %d %q, want 303 to sign-in", path, resp.StatusCode, resp.Header.Get("Location"))
	}
}

func wantStatus(t *testing.T, c *testClient, path string, status int) {
	t.Helper()
	resp := c.get(path)
	readAll(resp)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, status)
	}
}

func TestRoleRecheckRemovedRole(t *testing.T) {
	t.Parallel()
	for _, cfg := range []providerConfig{{}, {noRefresh: true}} {
		name := "refresh token"
		if cfg.noRefresh {
			name = "user info with the access token"
		}
		t.Run(name, func(t *testing.T) {
			testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
				p := newTestProvider(t, testStart, cfg)
				app, _ := newOIDCApp(t, kind, p)
				user := *officerKim
				c, other := app.client(), app.client()
				wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")
				wantSeeOther(t, "", other.oidcSignIn(p, &user, ""), "/dashboard")
				var s models.Session
				if err := app.db.Joins("User").Where("subject = ?", user.Subject).First(&s).Error; err != nil {
					t.Fatal(err)
				}
				if s.ProviderToken == "" || strings.Contains(s.ProviderToken, ".") {
					t.Errorf("session keeps provider token %q, want it sealed (no readable JWT)", s.ProviderToken)
				}
				wantStatus(t, c, "/officer", http.StatusOK)

				// The provider takes the role away. Before the re-check is due
				// the session still works; at PORTAL_ROLE_RECHECK it ends, and
				// with it every other session of the user.
				user.Groups = []string{"staff"}
				advanceBoth(app, p, app.cfg.RoleRecheck-time.Second)
				wantStatus(t, c, "/officer", http.StatusOK)
				advanceBoth(app, p, time.Second)
				wantSignedOutGet(t, c, "/officer")
				if n := count(t, app, &models.Session{}, "user_id = ?", s.UserID); n != 0 {
					t.Errorf("%d sessions of the user left, want 0", n)
				}
				wantSignedOutGet(t, other, "/officer")
				if n := auditRows(t, app, models.ActionUserSessionsEnded, itoa(s.UserID)); n != 1 {
					t.Errorf("%d %s audit rows, want 1", n, models.ActionUserSessionsEnded)
				}
				// And signing in again is refused.
				wantErrorPage(t, c, c.oidcSignIn(p, &user, ""), http.StatusForbidden, "error.no_role")
			})
		})
	}
}

func TestRoleRecheckChangedRole(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)
		user := *officerKim
		c := app.client()
		wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")
		u := oidcUserRow(t, app, p, user.Subject)

		// officer → auditor at the provider: the session now acts as an auditor.
		user.Groups = []string{"kai-auditors"}
		advanceBoth(app, p, app.cfg.RoleRecheck)
		wantStatus(t, c, "/officer", http.StatusForbidden)
		wantStatus(t, c, "/auditor", http.StatusOK)
		if got := oidcUserRow(t, app, p, user.Subject); got.Role != models.RoleAuditor || got.ProviderRole != models.RoleAuditor {
			t.Errorf("user role %s (provider %s), want auditor", got.Role, got.ProviderRole)
		}
		if n := auditRows(t, app, models.ActionUserRoleSynced, itoa(u.ID)); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, models.ActionUserRoleSynced)
		}
		// A re-check that changes nothing writes no audit row.
		advanceBoth(app, p, app.cfg.RoleRecheck)
		wantStatus(t, c, "/auditor", http.StatusOK)
		if n := auditRows(t, app, models.ActionUserRoleSynced, itoa(u.ID)); n != 1 {
			t.Errorf("%d %s audit rows after an unchanged re-check, want 1", n, models.ActionUserRoleSynced)
		}
	})
}

func TestRoleRecheckOrganisation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)
		user := *companyLee
		c := app.client()
		wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")
		wantStatus(t, c, "/company", http.StatusOK)

		// Moved to another applicant: the session follows the organisation.
		user.Org = "kaist"
		advanceBoth(app, p, app.cfg.RoleRecheck)
		wantStatus(t, c, "/company", http.StatusOK)
		kaist, err := models.GetOrganisationByCode(t.Context(), app.db, "kaist")
		if err != nil {
			t.Fatal(err)
		}
		if got := oidcUserRow(t, app, p, user.Subject); got.OrganisationID == nil || *got.OrganisationID != kaist.ID {
			t.Errorf("organisation %v, want KAIST's %d", got.OrganisationID, kaist.ID)
		}

		// Now naming the ministry: not an applicant, the session ends.
		user.Org = demo.MinistryCode
		advanceBoth(app, p, app.cfg.RoleRecheck)
		wantSignedOutGet(t, c, "/company")
	})
}

func TestRoleRecheckProviderUnreachable(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, logs := newOIDCApp(t, kind, p)
		user := *officerKim
		c := app.client()
		wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")

		// Down when the re-check falls due: served through the grace period.
		p.setDown(true)
		advanceBoth(app, p, app.cfg.RoleRecheck)
		wantStatus(t, c, "/officer", http.StatusOK)
		wantLog(t, logs, "provider unreachable")
		advanceBoth(app, p, app.cfg.RoleRecheckGrace-time.Minute)
		wantStatus(t, c, "/officer", http.StatusOK)

		// Back before the grace ends: at the next try (retries are spaced by
		// recheckRetry) the re-check succeeds and a new period starts.
		p.setDown(false)
		advanceBoth(app, p, recheckRetry)
		wantStatus(t, c, "/officer", http.StatusOK)
		var s models.Session
		if err := app.db.Joins("User").Where("subject = ?", user.Subject).First(&s).Error; err != nil {
			t.Fatal(err)
		}
		if !s.RoleCheckedAt.Equal(app.clock.Now()) || s.RecheckStartedAt != nil {
			t.Errorf("role checked at %v (claim %v), want %v and no claim left", s.RoleCheckedAt, s.RecheckStartedAt, app.clock.Now())
		}

		// Down for longer than the grace period: the session ends.
		p.setDown(true)
		advanceBoth(app, p, app.cfg.RoleRecheck+app.cfg.RoleRecheckGrace)
		wantSignedOutGet(t, c, "/officer")
		if n := count(t, app, &models.Session{}, "1 = 1"); n != 0 {
			t.Errorf("%d sessions left, want 0", n)
		}
	})
}

// TestRoleRecheckDemoExempt: demo sessions (development, no provider) are
// not re-checked.
func TestRoleRecheckDemoExempt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	c.signInDemo("demo-officer")
	for range 3 {
		app.clock.Advance(app.cfg.RoleRecheck + app.cfg.RoleRecheckGrace)
		wantStatus(t, c, "/officer", http.StatusOK)
	}
}
