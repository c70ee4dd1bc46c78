package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestAdminUsersPage(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		admin := app.client()
		admin.signInDemo("demo-admin")
		for range 2 {
			app.client().signInDemo("demo-company-upstage")
		}
		resp := admin.get("/admin/users")
		doc := admin.page(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /admin/users: %d", resp.StatusCode)
		}
		company := demoUser(t, app, "demo-company-upstage").ID
		row := doc.Find(`[data-testid="user-account"][data-user="` + itoa(company) + `"]`)
		if row.AttrOr("data-role", "") != "company" || row.AttrOr("data-sessions", "") != "2" ||
			!strings.Contains(row.Text(), "업스테이지") {
			t.Errorf("company user's row: role %q sessions %q text %q; want company, 2 sessions, Upstage",
				row.AttrOr("data-role", ""), row.AttrOr("data-sessions", ""), row.Text())
		}
		if n := doc.Find(`[data-testid="user-account"]`).Length(); n < 5 {
			t.Errorf("%d user rows, want every demo user", n)
		}
		if doc := admin.page(admin.get("/admin")); doc.Find(`a[href="/admin/users"]`).Length() != 1 {
			t.Error("the admin dashboard does not link to /admin/users")
		}
	})
}

func TestAdminEndSessions(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		admin := app.client()
		admin.signInDemo("demo-admin")
		a, b := app.client(), app.client()
		a.signInDemo("demo-company-upstage")
		b.signInDemo("demo-company-upstage")
		company := demoUser(t, app, "demo-company-upstage").ID
		path := "/admin/users/" + itoa(company) + "/end-sessions"

		// The confirmation page says what will happen.
		doc := admin.page(admin.get(path))
		if got := doc.Find(`[data-testid="end-sessions-effect"]`).Text(); !strings.Contains(got, "2") {
			t.Errorf("confirmation %q, want the number of sessions (2)", got)
		}
		if doc.Find(`form[data-testid="end-sessions-form"] input[name="confirm"][value="yes"]`).Length() != 1 {
			t.Error("the confirmation form does not carry the confirmation")
		}
		// Without the confirmation nothing ends.
		resp := admin.post(path, nil)
		readAll(resp)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("POST without confirm: %d, want 422", resp.StatusCode)
		}
		wantStatus(t, a, "/company", http.StatusOK)

		wantSeeOther(t, "", admin.post(path, url.Values{"confirm": {"yes"}}), "/admin/users/"+itoa(company)+"?done=ended")
		wantSignedOutGet(t, a, "/company")
		wantSignedOutGet(t, b, "/company")
		if n := count(t, app, &models.Session{}, "user_id = ?", company); n != 0 {
			t.Errorf("%d sessions left, want 0", n)
		}
		var e models.AuditEntry
		if err := app.db.Where("action = ? AND object_id = ?", models.ActionUserSessionsEnded, itoa(company)).First(&e).Error; err != nil ||
			e.ActorID == nil || *e.ActorID != demoUser(t, app, "demo-admin").ID || !strings.Contains(e.Summary, "2 session") {
			t.Errorf("audit row %+v (%v), want the administrator ending 2 sessions", e, err)
		}
		wantStatus(t, admin, "/admin/users", http.StatusOK)
	})
}

func TestAdminSetRole(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		admin := app.client()
		admin.signInDemo("demo-admin")
		officer := app.client()
		officer.signInDemo("demo-officer")
		wantStatus(t, officer, "/officer", http.StatusOK)
		id := demoUser(t, app, "demo-officer").ID
		path := "/admin/users/" + itoa(id) + "/role"

		// Officer → auditor in the portal: the live session acts as an auditor at once.
		wantSeeOther(t, "", admin.post(path, url.Values{"role": {"auditor"}}), "/admin/users/"+itoa(id)+"?done=role")
		wantStatus(t, officer, "/officer", http.StatusForbidden)
		wantStatus(t, officer, "/auditor", http.StatusOK)
		if n := auditRows(t, app, models.ActionUserRoleSet, itoa(id)); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, models.ActionUserRoleSet)
		}
		doc := admin.page(admin.get("/admin/users/" + itoa(id)))
		if got := doc.Find(`[data-testid="user-role"]`).AttrOr("data-role", ""); got != "auditor" {
			t.Errorf("user page role %q, want auditor", got)
		}
		if got := doc.Find(`select#role option[selected]`).AttrOr("value", ""); got != "auditor" {
			t.Errorf("role form chooses %q, want auditor", got)
		}

		// Back to the provider's (here the seeded) role.
		wantSeeOther(t, "", admin.post(path, url.Values{"role": {"provider"}}), "/admin/users/"+itoa(id)+"?done=role")
		wantStatus(t, officer, "/officer", http.StatusOK)

		// Refusals re-render the page with the field's error and the choice kept.
		for _, tc := range []struct {
			subject, role, message string
		}{
			{"demo-officer", "superuser", "users.role.error.choose"},
			{"demo-admin", "officer", "users.role.error.own"},
			{"demo-company-upstage", "officer", "users.role.error.company"},
		} {
			resp := admin.post("/admin/users/"+itoa(demoUser(t, app, tc.subject).ID)+"/role", url.Values{"role": {tc.role}})
			doc := admin.page(resp)
			want := app.h.cat.For("ko").T(tc.message)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="error-role"]`).Text(), want) {
				t.Errorf("%s → %s: %d, error %q; want 422 with %q", tc.subject, tc.role, resp.StatusCode,
					doc.Find(`[data-testid="error-role"]`).Text(), want)
			}
		}
		if got := oidcRole(t, app, "demo-admin"); got != models.RoleAdmin {
			t.Errorf("the administrator's own role became %q", got)
		}
	})
}

func oidcRole(t *testing.T, app *testApp, subject string) models.Role {
	t.Helper()
	var u models.User
	if err := app.db.Where("subject = ?", subject).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	return u.Role
}

// TestAdminRoleWithProvider: a role set in the portal survives the re-check
// with the provider, which still ends the sessions once it removes the role.
func TestAdminRoleWithProvider(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, _ := newOIDCApp(t, testdb.SQLite, p)
	adminUser := &oidcUser{Subject: "kc-0900", Email: "admin@msit.example", Name: "관리", Groups: []string{"kai-admins"}}
	admin := app.client()
	wantSeeOther(t, "", admin.oidcSignIn(p, adminUser, ""), "/dashboard")
	user := *officerKim
	c := app.client()
	wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")
	id := oidcUserRow(t, app, p, user.Subject).ID

	wantSeeOther(t, "", admin.post("/admin/users/"+itoa(id)+"/role", url.Values{"role": {"auditor"}}), "/admin/users/"+itoa(id)+"?done=role")
	wantStatus(t, c, "/auditor", http.StatusOK)
	advanceBoth(app, p, app.cfg.RoleRecheck)
	wantStatus(t, c, "/auditor", http.StatusOK)
	if got := oidcUserRow(t, app, p, user.Subject); got.Role != models.RoleAuditor || got.ProviderRole != models.RoleOfficer {
		t.Errorf("after the re-check: role %q provider %q; want auditor (portal) and officer (provider)", got.Role, got.ProviderRole)
	}

	user.Groups = nil
	advanceBoth(app, p, app.cfg.RoleRecheck)
	wantSignedOutGet(t, c, "/auditor")
}
