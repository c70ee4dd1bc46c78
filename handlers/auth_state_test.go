package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// tableRows counts the rows of every table of the portal's schema.
func tableRows(t *testing.T, app *testApp) map[string]int64 {
	t.Helper()
	tables, err := app.db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, name := range tables {
		var n int64
		if err := app.db.Table(name).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		rows[name] = n
	}
	return rows
}

// TestOIDCLoginWritesNothing: starting a sign-in keeps its request in a
// sealed cookie, so anonymous requests to /auth/login write no row; each
// browser's request still completes the sign-in with the real provider.
func TestOIDCLoginWritesNothing(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)
		before := tableRows(t, app)
		if len(before) < 5 {
			t.Fatalf("only %d tables counted", len(before))
		}
		const n = 40
		browsers := make([]*testClient, n)
		auths := make([]*url.URL, n)
		for i := range n {
			browsers[i] = app.client()
			auths[i] = browsers[i].oidcLogin("/officer")
		}
		after := tableRows(t, app)
		for name, was := range before {
			if after[name] != was {
				t.Errorf("table %s: %d rows after %d sign-in starts, want %d", name, after[name], n, was)
			}
		}

		// One of the early browsers finishes its sign-in: its sealed request
		// is all the portal needs.
		c := browsers[3]
		p.m.QueueUser(officerKim)
		wantSeeOther(t, "", c.oidcCallback(c.oidcAuthorize(auths[3])), "/officer")
		if n := count(t, app, &models.UsedLoginState{}, "1 = 1"); n != 1 {
			t.Errorf("%d used login states after one sign-in, want 1", n)
		}
		// Another browser's answer does not open with this browser's cookie.
		p.m.QueueUser(officerKim)
		cb := browsers[5].oidcAuthorize(auths[5])
		wantErrorPage(t, c, c.oidcCallback(cb), http.StatusBadRequest, "error.signin_state")
	})
}

// TestOIDCStateCookieHostPrefix: when cookies are Secure the state cookie
// is __Host- prefixed (Secure, Path=/, no Domain), and the callback reads it.
func TestOIDCStateCookieHostPrefix(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	cfg := p.m.Config()
	app := newTestAppWith(t, testdb.SQLite, func(baseURL string) map[string]string {
		return map[string]string{"PORTAL_BASE_URL": "https://portal.example", "OIDC_REDIRECT_URL": baseURL + "/auth/callback",
			"OIDC_ISSUER": cfg.Issuer, "OIDC_CLIENT_ID": cfg.ClientID, "OIDC_CLIENT_SECRET": cfg.ClientSecret,
			"OIDC_ROLE_MAP": testRoleMap}
	}, nil)
	if !app.cfg.SecureCookies() {
		t.Fatal("an https base URL should make cookies Secure")
	}
	c := app.client()
	resp := c.get("/auth/login")
	readAll(resp)
	var state *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.Contains(ck.Name, "oidc_state") {
			state = ck
		}
	}
	if state == nil {
		t.Fatalf("GET /auth/login: %d, no state cookie", resp.StatusCode)
	}
	if state.Name != "__Host-kai_oidc_state" || !state.Secure || state.Path != "/" || state.Domain != "" || !state.HttpOnly {
		t.Errorf("state cookie %q Secure=%v Path=%q Domain=%q HttpOnly=%v; want __Host-kai_oidc_state, Secure, Path=/, no Domain, HttpOnly",
			state.Name, state.Secure, state.Path, state.Domain, state.HttpOnly)
	}

	// The browser brings the answer and the cookie (the test's jar keeps
	// Secure cookies from plain http, so the cookie is sent by hand).
	authURL, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	p.m.QueueUser(officerKim)
	cb := c.oidcAuthorize(authURL)
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+cb.RequestURI(), nil)
	req.AddCookie(&http.Cookie{Name: state.Name, Value: state.Value})
	resp = c.do(req)
	readAll(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback with the __Host- cookie: %d, want 303", resp.StatusCode)
	}
	var session, cleared bool
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Name == "__Host-kai_session" && ck.Value != "":
			session = true
		case ck.Name == "__Host-kai_oidc_state" && ck.MaxAge < 0:
			cleared = true
		}
	}
	if !session || !cleared {
		t.Errorf("callback: session cookie set %v, state cookie cleared %v; want both", session, cleared)
	}
}

// TestOIDCCompanyOfNonApplicant: a company user whose organisation claim
// names the ministry (or any organisation that is not a company or a
// university) is refused like a user without a role: 403, a clear page, no
// session, an audit row.
func TestOIDCCompanyOfNonApplicant(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)
		ministry, err := models.GetOrganisationByCode(t.Context(), app.db, demo.MinistryCode)
		if err != nil || ministry.Kind != models.OrgMinistry {
			t.Fatalf("the ministry: %+v, %v", ministry, err)
		}
		other := models.Organisation{Code: "nipa", NameKO: "정보통신산업진흥원", NameEN: "NIPA", Kind: "agency"}
		if err := app.db.Create(&other).Error; err != nil {
			t.Fatal(err)
		}
		for i, org := range []string{demo.MinistryCode, other.Code} {
			c := app.client()
			user := &oidcUser{Subject: "kc-03" + itoa(uint(i)), Email: "x@msit.example", Name: "X",
				Groups: []string{"kai-companies"}, Org: org}
			resp := c.oidcSignIn(p, user, "")
			wantErrorPage(t, c, resp, http.StatusForbidden, "error.org_not_applicant")
			wantNoSignIn(t, app, resp, user.Subject)
			if n := auditRows(t, app, models.ActionSignInDenied, user.Subject); n != 1 {
				t.Errorf("org %s: %d %s audit rows, want 1", org, n, models.ActionSignInDenied)
			}
		}
		// The same person as an officer is welcome: the ministry is theirs.
		c := app.client()
		officer := &oidcUser{Subject: "kc-0310", Email: "y@msit.example", Name: "Y", Groups: []string{"kai-officers"},
			Org: demo.MinistryCode}
		wantSeeOther(t, "", c.oidcSignIn(p, officer, ""), "/dashboard")
	})
}
