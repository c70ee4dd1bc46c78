package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// TestRoleShownOnceWithName: wherever the portal shows a person with their
// role (the header, the demo sign-in, the reviewer picker), the role is
// named once: the demo users' names do not carry it themselves.
func TestRoleShownOnceWithName(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 1)
		app := f.app
		ko := app.h.cat.For("ko")
		roleLabels := map[models.Role]string{}
		for _, r := range models.Roles {
			roleLabels[r] = ko.T(views.RoleLabelID(r))
		}
		once := func(where, text string, role models.Role) {
			t.Helper()
			if n := strings.Count(text, roleLabels[role]); n != 1 {
				t.Errorf("%s: %q names the role %q %d times, want once", where, text, roleLabels[role], n)
			}
		}
		users, err := models.ListDemoUsers(t.Context(), app.db)
		if err != nil || len(users) < 5 {
			t.Fatalf("demo users: %d, %v", len(users), err)
		}

		// The demo sign-in lists every demo user with their role.
		c := app.client()
		signIn := c.page(c.get("/auth/signin"))
		for _, u := range users {
			b := signIn.Find(`button[data-subject="` + u.Subject + `"]`)
			if b.Length() != 1 {
				t.Errorf("sign-in: no button for %s", u.Subject)
				continue
			}
			once("sign-in button of "+u.Subject, strings.Join(strings.Fields(b.Text()), " "), u.Role)
		}

		// The header, signed in as each.
		for _, u := range users {
			c := app.client()
			c.signInDemo(u.Subject)
			doc := c.page(c.get("/"))
			once("header of "+u.Subject, strings.Join(strings.Fields(doc.Find(`[data-testid="current-user"]`).Text()), " "), u.Role)
		}

		// The reviewer picker on a submitted application lists the ministry's users.
		off := app.client()
		off.signInDemo("demo-officer")
		resp := off.get(f.path("/officer/calls/%d/applications", f.call.ID))
		wantCode(t, "", resp, http.StatusOK)
		byID := map[string]models.User{}
		for _, u := range users {
			byID[itoa(u.ID)] = u
		}
		opts := off.page(resp).Find(`[data-testid="assign-form"] option`)
		if opts.Length() == 0 {
			t.Fatal("no reviewer picker on the submitted application")
		}
		opts.Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("value")
			if u, ok := byID[id]; ok {
				once("reviewer option of "+u.Subject, strings.TrimSpace(s.Text()), u.Role)
			}
		})
	})
}
