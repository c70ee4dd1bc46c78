package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// The sign-in tests run the real authorization-code flow: the portal talks
// over HTTP on 127.0.0.1 to a real OpenID provider (testProvider), and a
// test browser carries the redirects between the two.

// testRoleMap maps the provider's group names, not the roles' own names, so
// that OIDC_ROLE_MAP is seen to be used.
const testRoleMap = "kai-officers=officer,kai-admins=admin,kai-companies=company,kai-auditors=auditor,kai-panel=reviewer"

var (
	officerKim = &oidcUser{Subject: "kc-0001", Email: "kim@msit.example", Name: "김담당",
		Groups: []string{"staff", "kai-officers"}}
	companyLee = &oidcUser{Subject: "kc-0002", Email: "lee@upstage.example", Name: "이업스",
		Groups: []string{"kai-companies"}, Org: "upstage"}
)

// newOIDCApp starts the portal signing in with p. Its log (warnings and
// above) is returned, to tell apart refusals that show the same page.
func newOIDCApp(t *testing.T, kind testdb.Kind, p *testProvider) (*testApp, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := p.m.Config()
	app := newTestAppWith(t, kind, func(baseURL string) map[string]string {
		return map[string]string{"PORTAL_BASE_URL": baseURL, "OIDC_ISSUER": cfg.Issuer,
			"OIDC_CLIENT_ID": cfg.ClientID, "OIDC_CLIENT_SECRET": cfg.ClientSecret, "OIDC_ROLE_MAP": testRoleMap}
	}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if want := app.srv.URL + "/auth/callback"; app.cfg.OIDCRedirectURL != want {
		t.Fatalf("redirect URL %q, want %q", app.cfg.OIDCRedirectURL, want)
	}
	return app, logs
}

// oidcLogin starts a sign-in at the portal and returns where the portal
// sends the browser: the provider's authorization URL.
func (c *testClient) oidcLogin(next string) *url.URL {
	c.app.t.Helper()
	path := "/auth/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	resp := c.get(path)
	body := readAll(resp)
	if resp.StatusCode != http.StatusFound {
		c.app.t.Fatalf("GET %s: status %d, want 302\n%s", path, resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		c.app.t.Fatalf("GET %s: Location: %v", path, err)
	}
	return u
}

// oidcAuthorize takes the browser to the provider's authorization URL and
// returns the portal URL the provider sends it back to.
func (c *testClient) oidcAuthorize(authURL *url.URL) *url.URL {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, authURL.String(), nil)
	resp := c.do(req)
	body := readAll(resp)
	if resp.StatusCode != http.StatusFound {
		c.app.t.Fatalf("provider authorize: status %d, want 302\n%s", resp.StatusCode, body)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		c.app.t.Fatalf("provider authorize: Location: %v", err)
	}
	if got, want := cb.Scheme+"://"+cb.Host+cb.Path, c.app.srv.URL+"/auth/callback"; got != want {
		c.app.t.Fatalf("provider sent the browser to %s, want %s", got, want)
	}
	return cb
}

// oidcCallback brings the provider's answer to the portal.
func (c *testClient) oidcCallback(cb *url.URL) *http.Response {
	c.app.t.Helper()
	return c.get(cb.RequestURI())
}

// oidcSignIn is a whole sign-in of u: portal, provider, portal again.
func (c *testClient) oidcSignIn(p *testProvider, u *oidcUser, next string) *http.Response {
	c.app.t.Helper()
	authURL := c.oidcLogin(next)
	p.m.QueueUser(u)
	return c.oidcCallback(c.oidcAuthorize(authURL))
}

// sessionCookieSet reports whether resp starts a session in the browser.
func sessionCookieSet(app *testApp, resp *http.Response) bool {
	for _, ck := range resp.Cookies() {
		if ck.Name == app.h.sessionCookie() && ck.Value != "" && ck.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// wantNoSignIn checks that a refused callback started no session and
// created no user for subject.
func wantNoSignIn(t *testing.T, app *testApp, resp *http.Response, subject string) {
	t.Helper()
	if sessionCookieSet(app, resp) {
		t.Error("refused sign-in set a session cookie")
	}
	if n := count(t, app, &models.Session{}, "1 = 1"); n != 0 {
		t.Errorf("%d sessions after a refused sign-in, want 0", n)
	}
	if n := count(t, app, &models.User{}, "subject = ?", subject); n != 0 {
		t.Errorf("%d users with subject %s after a refused sign-in, want 0", n, subject)
	}
}

func oidcUserRow(t *testing.T, app *testApp, p *testProvider, subject string) models.User {
	t.Helper()
	var u models.User
	if err := app.db.Where("issuer = ? AND subject = ?", p.issuer(), subject).First(&u).Error; err != nil {
		t.Fatalf("user %s: %v", subject, err)
	}
	return u
}

func wantLog(t *testing.T, logs *logBuffer, fragment string) {
	t.Helper()
	if !strings.Contains(logs.String(), fragment) {
		t.Errorf("portal log lacks %q; it has:\n%s", fragment, logs.String())
	}
}

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)

		// An officer signs in for the first time.
		c := app.client()
		resp := c.oidcSignIn(p, officerKim, "")
		if !sessionCookieSet(app, resp) {
			t.Error("sign-in set no session cookie")
		}
		wantSeeOther(t, "", resp, "/dashboard")
		wantSeeOther(t, "", c.get("/dashboard"), "/officer")
		resp = c.get("/officer")
		if doc := c.page(resp); resp.StatusCode != http.StatusOK || doc.Find(`[data-testid="officer-dashboard"]`).Length() != 1 {
			t.Fatalf("/officer: status %d, officer-dashboard %d", resp.StatusCode, doc.Find(`[data-testid="officer-dashboard"]`).Length())
		}
		u := oidcUserRow(t, app, p, officerKim.Subject)
		if u.Email != officerKim.Email || u.Name != officerKim.Name || u.Role != models.RoleOfficer || u.OrganisationID != nil {
			t.Errorf("user row %+v, want the provider's email, name, role officer, no organisation", u)
		}
		if n := auditRows(t, app, models.ActionSignIn, itoa(u.ID)); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, models.ActionSignIn)
		}
		var s models.Session
		if err := app.db.Where("user_id = ?", u.ID).First(&s).Error; err != nil || strings.Count(s.IDToken, ".") != 2 {
			t.Errorf("session keeps ID token %q (err %v), want the provider's JWT", s.IDToken, err)
		}

		// The same person again, in another browser, renamed at the
		// provider, going to a page: the user row is updated, not doubled.
		renamed := *officerKim
		renamed.Name, renamed.Email = "김담당 주무관", "kim.officer@msit.example"
		c2 := app.client()
		wantSeeOther(t, "", c2.oidcSignIn(p, &renamed, "/officer"), "/officer")
		if n := count(t, app, &models.User{}, "issuer = ? AND subject = ?", p.issuer(), officerKim.Subject); n != 1 {
			t.Errorf("%d user rows for one subject, want 1", n)
		}
		if u2 := oidcUserRow(t, app, p, officerKim.Subject); u2.ID != u.ID || u2.Name != renamed.Name || u2.Email != renamed.Email {
			t.Errorf("after second sign-in user %+v, want id %d with the new name and email", u2, u.ID)
		}
		if n := auditRows(t, app, models.ActionSignIn, itoa(u.ID)); n != 2 {
			t.Errorf("%d %s audit rows after two sign-ins, want 2", n, models.ActionSignIn)
		}

		// A company user is linked to the organisation the org claim names.
		c3 := app.client()
		wantSeeOther(t, "", c3.oidcSignIn(p, companyLee, ""), "/dashboard")
		wantSeeOther(t, "", c3.get("/dashboard"), "/company")
		org, err := models.GetOrganisationByCode(t.Context(), app.db, "upstage")
		if err != nil {
			t.Fatal(err)
		}
		c3.c.Jar.SetCookies(mustParse(t, app.srv.URL), []*http.Cookie{{Name: langCookie, Value: i18n.English, Path: "/"}})
		resp = c3.get("/company")
		doc := c3.page(resp)
		if got := strings.TrimSpace(doc.Find(`[data-testid="company-org"]`).Text()); resp.StatusCode != http.StatusOK ||
			got != views.OrgName(i18n.English, org) || got != "Upstage" {
			t.Errorf("/company: status %d, company-org %q, want Upstage", resp.StatusCode, got)
		}
		if cu := oidcUserRow(t, app, p, companyLee.Subject); cu.Role != models.RoleCompany ||
			cu.OrganisationID == nil || *cu.OrganisationID != org.ID {
			t.Errorf("company user %+v, want role company in organisation %d", cu, org.ID)
		}
	})
}

// TestOIDCEvaluatorSignIn: the role claim maps to the external evaluator
// like the other roles; an evaluator acts for no organisation whatever the
// organisation claim says, and starts on their assignments; with a more
// privileged value beside it, that one wins.
func TestOIDCEvaluatorSignIn(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, _ := newOIDCApp(t, testdb.SQLite, p)
	for i, tc := range []struct {
		groups    []string
		org       string
		role      models.Role
		dashboard string
	}{
		{[]string{"kai-panel"}, "", models.RoleReviewer, "/reviews"},
		{[]string{"staff", "kai-panel"}, "upstage", models.RoleReviewer, "/reviews"},
		{[]string{"kai-panel", "kai-auditors"}, "", models.RoleAuditor, "/auditor"},
		{[]string{"kai-officers", "kai-panel"}, "", models.RoleOfficer, "/officer"},
	} {
		t.Run(strings.Join(tc.groups, "+"), func(t *testing.T) {
			user := &oidcUser{Subject: fmt.Sprintf("kc-ev-%d", i), Email: fmt.Sprintf("ev%d@univ.example", i), Name: "서평가",
				Groups: tc.groups, Org: tc.org}
			c := app.client()
			wantSeeOther(t, "", c.oidcSignIn(p, user, ""), "/dashboard")
			wantSeeOther(t, "", c.get("/dashboard"), tc.dashboard)
			u := oidcUserRow(t, app, p, user.Subject)
			if u.Role != tc.role || u.ProviderRole != tc.role || u.OrganisationID != nil {
				t.Errorf("user row: role %q provider %q organisation %v; want %q and no organisation", u.Role, u.ProviderRole,
					u.OrganisationID, tc.role)
			}
			if tc.role == models.RoleReviewer {
				wantCode(t, "evaluator on /audit", c.get("/audit"), http.StatusForbidden)
				wantCode(t, "evaluator on /reviews", c.get("/reviews"), http.StatusOK)
			}
		})
	}
}

func TestOIDCCompanyWithoutKnownOrganisation(t *testing.T) {
	t.Parallel()
	for _, org := range []string{"acme-unregistered", ""} {
		t.Run("org="+org, func(t *testing.T) {
			p := newTestProvider(t, testStart, providerConfig{})
			app, _ := newOIDCApp(t, testdb.SQLite, p)
			c := app.client()
			user := &oidcUser{Subject: "kc-0100", Email: "x@acme.example", Name: "X", Groups: []string{"kai-companies"}, Org: org}
			resp := c.oidcSignIn(p, user, "")
			wantErrorPage(t, c, resp, http.StatusForbidden, "error.no_organisation")
			wantNoSignIn(t, app, resp, user.Subject)
			if n := auditRows(t, app, models.ActionSignInDenied, user.Subject); n != 1 {
				t.Errorf("%d %s audit rows, want 1", n, models.ActionSignInDenied)
			}
		})
	}
}

func TestOIDCNoMappedRole(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, _ := newOIDCApp(t, testdb.SQLite, p)
	c := app.client()
	// "officer" is a portal role, but this portal maps only kai-officers to it.
	user := &oidcUser{Subject: "kc-0200", Email: "park@example.com", Name: "박", Groups: []string{"staff", "officer"}}
	resp := c.oidcSignIn(p, user, "")
	wantErrorPage(t, c, resp, http.StatusForbidden, "error.no_role")
	wantNoSignIn(t, app, resp, user.Subject)
	if n := auditRows(t, app, models.ActionSignInDenied, user.Subject); n != 1 {
		t.Errorf("%d %s audit rows, want 1", n, models.ActionSignInDenied)
	}
}

func TestOIDCUserInfo(t *testing.T) {
	t.Parallel()
	t.Run("groups only in user info", func(t *testing.T) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, testdb.SQLite, p)
		c := app.client()
		user := *officerKim
		user.GroupsInUserInfo = true
		wantSeeOther(t, "", c.oidcSignIn(p, &user, ""), "/dashboard")
		wantSeeOther(t, "", c.get("/dashboard"), "/officer")
	})
	t.Run("user info of another subject", func(t *testing.T) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, logs := newOIDCApp(t, testdb.SQLite, p)
		c := app.client()
		user := *officerKim
		user.GroupsInUserInfo, user.UserInfoSubject = true, "kc-someone-else"
		resp := c.oidcSignIn(p, &user, "")
		wantErrorPage(t, c, resp, http.StatusUnauthorized, "error.signin_failed")
		wantNoSignIn(t, app, resp, user.Subject)
		wantLog(t, logs, "user info subject differs")
	})
}

func TestOIDCStateMismatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper func(c *testClient, cb *url.URL) // on the callback or the browser
	}{
		{"state in the query changed", func(_ *testClient, cb *url.URL) {
			q := cb.Query()
			q.Set("state", q.Get("state")+"x")
			cb.RawQuery = q.Encode()
		}},
		{"state cookie differs", func(c *testClient, _ *url.URL) {
			c.c.Jar.SetCookies(mustParse(c.app.t, c.app.srv.URL),
				[]*http.Cookie{{Name: c.app.h.stateCookie(), Value: models.RandomToken(32), Path: "/"}})
		}},
		{"no state cookie: answer opened in another browser", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestProvider(t, testStart, providerConfig{})
			app, _ := newOIDCApp(t, testdb.SQLite, p)
			c := app.client()
			authURL := c.oidcLogin("")
			p.m.QueueUser(officerKim)
			cb := c.oidcAuthorize(authURL)
			if tc.tamper != nil {
				tc.tamper(c, cb)
			} else {
				c = app.client()
			}
			resp := c.oidcCallback(cb)
			wantErrorPage(t, c, resp, http.StatusBadRequest, "error.signin_state")
			wantNoSignIn(t, app, resp, officerKim.Subject)
		})
	}
}

func TestOIDCCodeReplay(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, logs := newOIDCApp(t, kind, p)
		portal := mustParse(t, app.srv.URL)
		c := app.client()
		authURL := c.oidcLogin("")
		sealed := c.cookie(app.h.stateCookie())
		if sealed == "" {
			t.Fatal("no state cookie after starting the sign-in")
		}
		p.m.QueueUser(officerKim)
		cb := c.oidcAuthorize(authURL)
		wantSeeOther(t, "", c.oidcCallback(cb), "/dashboard")
		code := cb.Query().Get("code")

		// The same answer again: the portal has cleared its state cookie.
		if v := c.cookie(app.h.stateCookie()); v != "" {
			t.Errorf("state cookie %q kept after sign-in", v)
		}
		wantErrorPage(t, c, c.oidcCallback(cb), http.StatusBadRequest, "error.signin_state")

		// With the cookie put back (someone holding both): the state was used
		// once, and the portal refuses it before it asks the provider.
		c.c.Jar.SetCookies(portal, []*http.Cookie{{Name: app.h.stateCookie(), Value: sealed, Path: "/"}})
		wantErrorPage(t, c, c.oidcCallback(cb), http.StatusBadRequest, "error.signin_state")
		wantLog(t, logs, "sign-in answer replayed")

		// A fresh sign-in (its own state and cookie) fed the redeemed code: the
		// provider refuses the code at the token endpoint.
		c2 := app.client()
		fresh := c2.oidcLogin("")
		replay := *cb
		replay.RawQuery = url.Values{"code": {code}, "state": {fresh.Query().Get("state")}}.Encode()
		resp := c2.oidcCallback(&replay)
		wantErrorPage(t, c2, resp, http.StatusUnauthorized, "error.signin_failed")
		if sessionCookieSet(app, resp) {
			t.Error("replayed code set a session cookie")
		}
		wantLog(t, logs, "Invalid code")
		if n := count(t, app, &models.Session{}, "1 = 1"); n != 1 {
			t.Errorf("%d sessions, want only the first sign-in's", n)
		}
	})
}

func TestOIDCNonceMismatch(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, logs := newOIDCApp(t, testdb.SQLite, p)
	c := app.client()
	authURL := c.oidcLogin("")
	q := authURL.Query()
	if q.Get("nonce") == "" {
		t.Fatal("authorization URL has no nonce")
	}
	q.Set("nonce", "forged-"+q.Get("nonce"))
	authURL.RawQuery = q.Encode()
	p.m.QueueUser(officerKim)
	resp := c.oidcCallback(c.oidcAuthorize(authURL))
	wantErrorPage(t, c, resp, http.StatusUnauthorized, "error.signin_failed")
	wantNoSignIn(t, app, resp, officerKim.Subject)
	wantLog(t, logs, errNonce.Error())
}

// TestOIDCExpiredIDToken proves the portal checks the ID token's expiry
// against its own clock. The provider issues one-minute tokens and the
// portal's clock moves two minutes between the provider's answer and the
// callback: the token has expired, while the login attempt (ten minutes)
// has not, so the refusal is 401 (token), not 400 (attempt), and the log
// says why. A first sign-in without the wait shows the short-lived tokens
// are otherwise accepted.
func TestOIDCExpiredIDToken(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{tokenTTL: time.Minute})
	app, logs := newOIDCApp(t, testdb.SQLite, p)
	wantSeeOther(t, "", app.client().oidcSignIn(p, officerKim, ""), "/dashboard")

	c := app.client()
	authURL := c.oidcLogin("")
	p.m.QueueUser(officerKim)
	cb := c.oidcAuthorize(authURL)
	app.clock.Advance(2 * time.Minute)
	if loginAttemptTTL <= 2*time.Minute {
		t.Fatalf("login attempts live %v: the test would see them expire, not the token", loginAttemptTTL)
	}
	resp := c.oidcCallback(cb)
	wantErrorPage(t, c, resp, http.StatusUnauthorized, "error.signin_failed")
	if sessionCookieSet(app, resp) {
		t.Error("expired ID token set a session cookie")
	}
	wantLog(t, logs, "token is expired")
	if n := count(t, app, &models.Session{}, "1 = 1"); n != 1 {
		t.Errorf("%d sessions, want only the first sign-in's", n)
	}
}

func TestOIDCPKCE(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, logs := newOIDCApp(t, testdb.SQLite, p)
	c := app.client()
	authURL := c.oidcLogin("")
	q := authURL.Query()
	if got := q.Get("code_challenge_method"); got != "S256" {
		t.Errorf("code_challenge_method %q, want S256", got)
	}
	if q.Has("code_verifier") {
		t.Error("the verifier leaks into the authorization URL")
	}
	req := c.loginRequest()
	if req.State != q.Get("state") {
		t.Errorf("sealed state %q, want the authorization URL's %q", req.State, q.Get("state"))
	}
	sum := sha256.Sum256([]byte(req.Verifier))
	if got, want := q.Get("code_challenge"), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("code_challenge %q, want S256 of the sealed verifier %q", got, want)
	}

	// The provider holds the portal to its challenge: another verifier fails.
	req.Verifier = models.RandomToken(48)
	c.c.Jar.SetCookies(mustParse(t, app.srv.URL), []*http.Cookie{{Name: app.h.stateCookie(),
		Value: app.h.sealLoginRequest(req), Path: "/"}})
	p.m.QueueUser(officerKim)
	resp := c.oidcCallback(c.oidcAuthorize(authURL))
	wantErrorPage(t, c, resp, http.StatusUnauthorized, "error.signin_failed")
	wantNoSignIn(t, app, resp, officerKim.Subject)
	wantLog(t, logs, "Code challenge did not match")
}

func TestOIDCLogout(t *testing.T) {
	t.Parallel()
	signedIn := func(t *testing.T, cfg providerConfig) (*testProvider, *testApp, *testClient, models.Session) {
		p := newTestProvider(t, testStart, cfg)
		app, _ := newOIDCApp(t, testdb.SQLite, p)
		c := app.client()
		wantSeeOther(t, "", c.oidcSignIn(p, officerKim, ""), "/dashboard")
		var s models.Session
		if err := app.db.Joins("User").Where("subject = ?", officerKim.Subject).First(&s).Error; err != nil {
			t.Fatal(err)
		}
		return p, app, c, s
	}
	wantSignedOut := func(t *testing.T, app *testApp, c *testClient, s models.Session) {
		t.Helper()
		if n := count(t, app, &models.Session{}, "user_id = ?", s.UserID); n != 0 {
			t.Errorf("%d sessions left after sign-out, want 0", n)
		}
		if n := auditRows(t, app, models.ActionSignOut, itoa(s.UserID)); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, models.ActionSignOut)
		}
		if resp := c.get("/dashboard"); resp.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(resp.Header.Get("Location"), "/auth/signin") {
			t.Errorf("/dashboard after sign-out: %d %q, want 303 to sign-in", resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	t.Run("provider with end_session_endpoint", func(t *testing.T) {
		p, app, c, s := signedIn(t, providerConfig{endSession: true})
		resp := c.post("/auth/logout", nil)
		readAll(resp)
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("POST /auth/logout: %d %q, want 303", resp.StatusCode, resp.Header.Get("Location"))
		}
		q := loc.Query()
		if got := loc.Scheme + "://" + loc.Host + loc.Path; got != p.endSessionURL() {
			t.Errorf("sign-out sent the browser to %s, want %s", got, p.endSessionURL())
		}
		if q.Get("id_token_hint") != s.IDToken || s.IDToken == "" {
			t.Errorf("id_token_hint %q, want the session's ID token %q", q.Get("id_token_hint"), s.IDToken)
		}
		if q.Get("client_id") != app.cfg.OIDCClientID || q.Get("post_logout_redirect_uri") != app.srv.URL+"/" {
			t.Errorf("client_id %q, post_logout_redirect_uri %q", q.Get("client_id"), q.Get("post_logout_redirect_uri"))
		}
		wantSignedOut(t, app, c, s)

		// The browser follows: the provider takes the hint and sends it home.
		req, _ := http.NewRequest(http.MethodGet, loc.String(), nil)
		resp = c.do(req)
		body := readAll(resp)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app.srv.URL+"/" {
			t.Fatalf("provider end-session: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if p.lastLogout().Get("id_token_hint") != s.IDToken {
			t.Error("the provider did not receive the ID token")
		}
		if resp := c.get("/"); resp.StatusCode != http.StatusOK {
			t.Errorf("GET / after sign-out: %d", resp.StatusCode)
		}
	})
	t.Run("provider without end_session_endpoint", func(t *testing.T) {
		p, app, c, s := signedIn(t, providerConfig{})
		wantSeeOther(t, "", c.post("/auth/logout", nil), "/")
		wantSignedOut(t, app, c, s)
		if p.lastLogout() != nil {
			t.Error("the provider's end-session endpoint was called")
		}
	})
}

func TestOIDCProviderDown(t *testing.T) {
	t.Parallel()
	t.Run("nothing listens at the issuer", func(t *testing.T) {
		app := newTestAppWith(t, testdb.SQLite, func(baseURL string) map[string]string {
			return map[string]string{"PORTAL_BASE_URL": baseURL, "OIDC_ISSUER": "http://" + closedAddr(t) + "/oidc",
				"OIDC_CLIENT_ID": "portal", "OIDC_CLIENT_SECRET": "secret"}
		}, nil)
		c := app.client()
		resp := c.get("/auth/login")
		for _, ck := range resp.Cookies() {
			if ck.Name == app.h.stateCookie() {
				t.Error("login set a state cookie without a provider")
			}
		}
		wantErrorPage(t, c, resp, http.StatusServiceUnavailable, "error.idp_unavailable")
		if n := count(t, app, &models.UsedLoginState{}, "1 = 1"); n != 0 {
			t.Errorf("%d login states saved without a provider", n)
		}
		if resp := c.get("/"); resp.StatusCode != http.StatusOK {
			t.Errorf("GET / while the provider is down: %d, want 200", resp.StatusCode)
		}
	})
	t.Run("provider comes back", func(t *testing.T) {
		p := newTestProvider(t, testStart, providerConfig{})
		p.setDown(true)
		app, _ := newOIDCApp(t, testdb.SQLite, p)
		c := app.client()
		wantErrorPage(t, c, c.get("/auth/login"), http.StatusServiceUnavailable, "error.idp_unavailable")
		p.setDown(false)
		authURL := c.oidcLogin("")
		if got := authURL.Scheme + "://" + authURL.Host + authURL.Path; got != p.m.AuthorizationEndpoint() {
			t.Errorf("login went to %s, want %s", got, p.m.AuthorizationEndpoint())
		}
	})
}

func TestOIDCProviderError(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, testStart, providerConfig{})
	app, _ := newOIDCApp(t, testdb.SQLite, p)
	c := app.client()
	state := c.oidcLogin("").Query().Get("state")
	resp := c.get("/auth/callback?" + url.Values{"error": {"access_denied"}, "state": {state}}.Encode())
	doc := wantErrorPage(t, c, resp, http.StatusUnauthorized, "error.signin_failed")
	if got := doc.Find(`[data-testid="error-detail"]`).Text(); !strings.Contains(got, "access_denied") {
		t.Errorf("error detail %q, want the provider's error", got)
	}
	wantNoSignIn(t, app, resp, officerKim.Subject)
}

// cookie is the value of the browser's cookie for the portal, "" if none.
func (c *testClient) cookie(name string) string {
	for _, ck := range c.c.Jar.Cookies(mustParse(c.app.t, c.app.srv.URL)) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// loginRequest opens the browser's sealed sign-in request.
func (c *testClient) loginRequest() loginRequest {
	c.app.t.Helper()
	sealed := c.cookie(c.app.h.stateCookie())
	b, err := c.app.h.stateSealer.Open(sealed)
	if err != nil {
		c.app.t.Fatalf("state cookie %q: %v", sealed, err)
	}
	var r loginRequest
	if err := json.Unmarshal(b, &r); err != nil {
		c.app.t.Fatal(err)
	}
	return r
}

func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
