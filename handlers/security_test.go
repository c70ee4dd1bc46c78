package handlers

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/testdb"
)

// secSend sends a request from browser c with the given headers.
func secSend(c *testClient, method, path, body string, hdr map[string]string) *http.Response {
	c.app.t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	var req *http.Request
	if r != nil {
		req, _ = http.NewRequest(method, c.app.srv.URL+path, r)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, c.app.srv.URL+path, nil)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// secCookie returns the value of a cookie in c's jar, "" when none.
func secCookie(c *testClient, name string) string {
	u, _ := url.Parse(c.app.srv.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// secSetCookie puts a cookie into c's jar, as an attacker or an old tab might.
func secSetCookie(c *testClient, name, value string) {
	u, _ := url.Parse(c.app.srv.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// secResponseCookie finds a cookie set by a response.
func secResponseCookie(resp *http.Response, name string) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// secSessionRows counts the session rows of a cookie token.
func secSessionRows(t *testing.T, app *testApp, token string) int64 {
	t.Helper()
	var n int64
	if err := app.db.Model(&models.Session{}).Where("id = ?", models.HashToken(token)).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// --- (a) Security headers and the Content-Security-Policy on every page ---

// secCheckHeaders checks the security headers of an HTML response.
func secCheckHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("%s: Content-Security-Policy %q allows %q", what, csp, bad)
		}
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options %q, want DENY", what, got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	switch got := h.Get("Referrer-Policy"); got {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy %q, want one that keeps paths from other sites", what, got)
	}
}

// secCheckCSPContent checks that a page needs nothing the CSP refuses: no
// inline scripts, inline styles, event handler attributes or javascript: URLs,
// and scripts and stylesheets only from this site.
func secCheckCSPContent(t *testing.T, what string, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, ok := s.Attr("src")
		switch {
		case !ok || src == "":
			t.Errorf("%s: inline <script> %q", what, strings.TrimSpace(s.Text()))
		case !strings.HasPrefix(src, "/") || strings.HasPrefix(src, "//"):
			t.Errorf("%s: script from another origin %q", what, src)
		}
	})
	if n := doc.Find("style").Length(); n > 0 {
		t.Errorf("%s: %d <style> elements", what, n)
	}
	doc.Find(`link[rel="stylesheet"]`).Each(func(_ int, s *goquery.Selection) {
		if href, _ := s.Attr("href"); !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") {
			t.Errorf("%s: stylesheet from another origin %q", what, href)
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, n := range s.Nodes { // "*" selects elements only
			for _, a := range n.Attr {
				name := strings.ToLower(a.Key)
				switch {
				case name == "style":
					t.Errorf("%s: <%s style=%q>", what, n.Data, a.Val)
				case strings.HasPrefix(name, "on"):
					t.Errorf("%s: <%s %s=%q> event handler attribute", what, n.Data, a.Key, a.Val)
				case (name == "href" || name == "src" || name == "action" || name == "formaction") &&
					strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
					t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
			}
		}
	})
}

// TestPagesSatisfyCSP crawls, for each role, every page reachable by links
// from its start pages, plus the error pages, and checks the headers and
// that each page works under the CSP.
func TestPagesSatisfyCSP(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	var upstage, kaist models.Organisation
	app.db.Where("code = ?", "upstage").First(&upstage)
	app.db.Where("code = ?", "kaist").First(&kaist)

	starts := map[string][]string{
		"": {"/", "/auth/signin", "/auth/signin?next=%2Fofficer", "/no-such-page", "/organisations/1"},
		"demo-company-upstage": {"/", "/dashboard", "/organisations/" + itoa(upstage.ID),
			"/organisations/" + itoa(kaist.ID), "/organisations", "/officer", "/auth/signin"},
		"demo-officer": {"/", "/dashboard", "/admin", "/auditor", "/company"},
		"demo-admin":   {"/", "/dashboard", "/officer"},
		"demo-auditor": {"/", "/dashboard", "/officer"},
	}
	assets := map[string]bool{}
	for subject, paths := range starts {
		c := app.client()
		if subject != "" {
			c.signInDemo(subject)
		}
		who := subject
		if who == "" {
			who = "anonymous"
		}
		seen := map[string]bool{}
		queue := append([]string(nil), paths...)
		pages := 0
		for len(queue) > 0 && pages < 80 {
			p := queue[0]
			queue = queue[1:]
			if seen[p] {
				continue
			}
			seen[p] = true
			resp := c.get(p)
			what := who + " GET " + p
			if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 {
				resp.Body.Close()
				if strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
					queue = append(queue, loc)
				}
				continue
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				resp.Body.Close()
				continue
			}
			pages++
			secCheckHeaders(t, what, resp.Header)
			doc := c.page(resp)
			secCheckCSPContent(t, what, doc)
			doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
				href, _ := s.Attr("href")
				if strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "//") && !strings.HasPrefix(href, "/static/") {
					queue = append(queue, href)
				}
			})
			doc.Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
				if v, ok := s.Attr("src"); ok {
					assets[v] = true
				}
				if v, ok := s.Attr("href"); ok {
					assets[v] = true
				}
			})
		}
		if pages < len(paths)-1 {
			t.Errorf("%s: only %d pages checked", who, pages)
		}
		t.Logf("%s: %d pages checked", who, pages)
	}

	// Pages answering a POST: a refused CSRF check and a bad request.
	c := app.client()
	resp := secSend(c, http.MethodPost, "/lang", "lang=en", nil)
	secCheckHeaders(t, "POST /lang without token", resp.Header)
	secCheckCSPContent(t, "POST /lang without token", wantErrorStatus(t, "POST /lang without token", resp, http.StatusForbidden))
	resp = c.post("/lang", url.Values{"lang": {"xx"}})
	secCheckHeaders(t, "POST /lang lang=xx", resp.Header)
	secCheckCSPContent(t, "POST /lang lang=xx", wantErrorStatus(t, "POST /lang lang=xx", resp, http.StatusBadRequest))

	// What the pages load is there, and served with nosniff.
	if len(assets) == 0 {
		t.Fatal("no scripts or stylesheets found on any page")
	}
	for a := range assets {
		if !strings.HasPrefix(a, "/") { // e.g. the data: URL of an empty favicon
			continue
		}
		resp := c.get(a)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("asset %s: status %d", a, resp.StatusCode)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("asset %s: no nosniff", a)
		}
	}
}

// --- (b) CSRF ---

func TestCSRF(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	officer := app.client()
	officer.signInDemo("demo-officer")
	token := officer.csrfToken()
	session := secCookie(officer, "kai_session")
	admin := app.client()
	admin.signInDemo("demo-admin")
	otherToken := admin.csrfToken()
	if token == otherToken {
		t.Fatal("two sessions share a CSRF token")
	}

	refused := []struct {
		name string
		body string
		hdr  map[string]string
	}{
		{"no token", "", nil},
		{"empty token", "_csrf=", nil},
		{"wrong token", "_csrf=" + strings.Repeat("A", len(token)), nil},
		{"token of another session", "_csrf=" + url.QueryEscape(otherToken), nil},
		{"token of another session in the header", "", map[string]string{"X-CSRF-Token": otherToken}},
		{"cross-site request with a valid token", "_csrf=" + url.QueryEscape(token), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site request with a valid token", "_csrf=" + url.QueryEscape(token), map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign Origin with a valid token", "_csrf=" + url.QueryEscape(token), map[string]string{"Origin": "https://evil.example"}},
	}
	for _, tc := range refused {
		resp := secSend(officer, http.MethodPost, "/auth/logout", tc.body, tc.hdr)
		doc := wantErrorStatus(t, tc.name, resp, http.StatusForbidden)
		if msg := doc.Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, "CSRF") {
			t.Errorf("%s: message %q does not name the CSRF check", tc.name, msg)
		}
		if secSessionRows(t, app, session) != 1 {
			t.Fatalf("%s: the session was ended by a refused request", tc.name)
		}
	}

	// The token in the X-CSRF-Token header (as a script sends it) works, as
	// does a browser's same-origin mark.
	resp := secSend(officer, http.MethodPost, "/auth/logout", "", map[string]string{"X-CSRF-Token": token, "Sec-Fetch-Site": "same-origin"})
	wantSeeOther(t, "logout with the header token", resp, "/")
	if secSessionRows(t, app, session) != 0 {
		t.Error("logout with the header token left the session")
	}

	// Before sign-in the token is the kai_csrf cookie's.
	anon := app.client()
	anonToken := anon.csrfToken()
	if got := secCookie(anon, "kai_csrf"); got != anonToken {
		t.Fatalf("anonymous token %q is not the kai_csrf cookie %q", anonToken, got)
	}
	resp = anon.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	if ck := secResponseCookie(resp, langCookie); ck == nil || ck.Value != "en" {
		t.Errorf("anonymous POST /lang with the cookie's token did not set the language")
	}
	wantSeeOther(t, "anonymous POST /lang", resp, "/")

	// Another browser's pre-sign-in token is refused.
	stranger := app.client()
	resp = secSend(stranger, http.MethodPost, "/lang", "lang=en&_csrf="+url.QueryEscape(anonToken), nil)
	wantErrorStatus(t, "anonymous POST with another browser's token", resp, http.StatusForbidden)

	// The pre-sign-in token stops working once signed in.
	anon.signInDemo("demo-auditor")
	resp = secSend(anon, http.MethodPost, "/lang", "lang=ko&_csrf="+url.QueryEscape(anonToken), nil)
	wantErrorStatus(t, "signed-in POST with the pre-sign-in token", resp, http.StatusForbidden)
}

// --- (c) Cookie flags ---

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	t.Run("loopback http", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, nil)
		c := app.client()
		resp := c.get("/")
		resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("Strict-Transport-Security %q sent on loopback http", hsts)
		}
		secCheckCookie(t, secResponseCookie(resp, "kai_csrf"), "kai_csrf", false)

		u := c.signInDemoResponse(t, "demo-officer")
		secCheckCookie(t, secResponseCookie(u, "kai_session"), "kai_session", false)

		resp = c.post("/lang", url.Values{"lang": {"en"}})
		resp.Body.Close()
		secCheckCookie(t, secResponseCookie(resp, langCookie), langCookie, false)
	})

	t.Run("https base URL", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, map[string]string{"PORTAL_BASE_URL": "https://portal.example.go.kr"})
		c := app.client()
		resp := c.get("/")
		resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("Strict-Transport-Security %q, want max-age", hsts)
		}
		csrf := secResponseCookie(resp, "__Host-kai_csrf")
		secCheckCookie(t, csrf, "__Host-kai_csrf", true)
		if secResponseCookie(resp, "kai_csrf") != nil {
			t.Error("unprefixed kai_csrf set over https")
		}
		if csrf == nil {
			return
		}
		// The jar keeps Secure cookies from plain http, so send it by hand.
		var officer models.User
		app.db.Where("subject = ?", "demo-officer").First(&officer)
		form := url.Values{"user_id": {itoa(officer.ID)}, "_csrf": {csrf.Value}}
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/auth/demo", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "__Host-kai_csrf", Value: csrf.Value})
		resp = c.do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("demo sign-in over https config: status %d", resp.StatusCode)
		}
		secCheckCookie(t, secResponseCookie(resp, "__Host-kai_session"), "__Host-kai_session", true)
		if secResponseCookie(resp, "kai_session") != nil {
			t.Error("unprefixed kai_session set over https")
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
			t.Error("no Strict-Transport-Security on the sign-in response")
		}
	})
}

// signInDemoResponse signs in and returns the sign-in response itself.
func (c *testClient) signInDemoResponse(t *testing.T, subject string) *http.Response {
	t.Helper()
	var u models.User
	if err := c.app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	resp := c.post("/auth/demo", url.Values{"user_id": {itoa(u.ID)}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demo sign-in as %s: status %d", subject, resp.StatusCode)
	}
	return resp
}

func secCheckCookie(t *testing.T, ck *http.Cookie, name string, secure bool) {
	t.Helper()
	if ck == nil {
		t.Errorf("no %s cookie set", name)
		return
	}
	if !ck.HttpOnly {
		t.Errorf("%s: not HttpOnly", name)
	}
	if ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("%s: SameSite %v, want Lax", name, ck.SameSite)
	}
	if ck.Path != "/" {
		t.Errorf("%s: Path %q, want /", name, ck.Path)
	}
	if ck.Secure != secure {
		t.Errorf("%s: Secure %v, want %v", name, ck.Secure, secure)
	}
	if strings.HasPrefix(name, "__Host-") && ck.Domain != "" {
		t.Errorf("%s: a __Host- cookie with Domain %q", name, ck.Domain)
	}
}

// --- (d) Session expiry, sign-out and fixation ---

func TestSessionLifetime(t *testing.T) {
	t.Parallel()
	signInPage := "/auth/signin?next=" + url.QueryEscape("/officer")

	t.Run("idle", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, nil)
		if app.cfg.SessionIdle != 30*time.Minute {
			t.Fatalf("PORTAL_SESSION_IDLE default %v, want 30m", app.cfg.SessionIdle)
		}
		c := app.client()
		c.signInDemo("demo-officer")
		token := secCookie(c, "kai_session")
		// Activity keeps the session alive past the idle limit in total…
		for range 3 {
			app.clock.Advance(29 * time.Minute)
			if resp := c.get("/officer"); resp.StatusCode != http.StatusOK {
				t.Fatalf("after 29 idle minutes: status %d, want 200", resp.StatusCode)
			}
		}
		// …but not 30 minutes of nothing.
		app.clock.Advance(30*time.Minute + time.Second)
		resp := c.get("/officer")
		wantSeeOther(t, "after 30 idle minutes", resp, signInPage)
		if ck := secResponseCookie(resp, "kai_session"); ck == nil || ck.MaxAge >= 0 {
			t.Error("the expired session's cookie was not cleared")
		}
		if secSessionRows(t, app, token) != 0 {
			t.Error("the idle session's row is still there")
		}
	})

	t.Run("absolute", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, nil)
		if app.cfg.SessionMaxAge != 12*time.Hour {
			t.Fatalf("PORTAL_SESSION_MAX_AGE default %v, want 12h", app.cfg.SessionMaxAge)
		}
		c := app.client()
		c.signInDemo("demo-officer")
		token := secCookie(c, "kai_session")
		elapsed := time.Duration(0)
		for elapsed+20*time.Minute < 12*time.Hour {
			app.clock.Advance(20 * time.Minute)
			elapsed += 20 * time.Minute
			if resp := c.get("/officer"); resp.StatusCode != http.StatusOK {
				t.Fatalf("active session after %v: status %d, want 200", elapsed, resp.StatusCode)
			}
		}
		app.clock.Advance(20 * time.Minute)
		elapsed += 20 * time.Minute
		wantSeeOther(t, "active session after "+elapsed.String(), c.get("/officer"), signInPage)
		if secSessionRows(t, app, token) != 0 {
			t.Error("the expired session's row is still there")
		}
	})

	t.Run("sign-out", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, nil)
		c := app.client()
		u := c.signInDemo("demo-officer")
		token := secCookie(c, "kai_session")
		if secSessionRows(t, app, token) != 1 {
			t.Fatal("no session row after sign-in")
		}
		signOuts := func() int64 {
			var n int64
			app.db.Model(&models.AuditEntry{}).Where("action = ? AND actor_id = ?", models.ActionSignOut, u.ID).Count(&n)
			return n
		}
		before := signOuts()
		resp := c.post("/auth/logout", nil)
		wantSeeOther(t, "sign-out", resp, "/")
		if ck := secResponseCookie(resp, "kai_session"); ck == nil || ck.MaxAge >= 0 {
			t.Error("sign-out did not clear the cookie")
		}
		if secSessionRows(t, app, token) != 0 {
			t.Error("sign-out left the session row")
		}
		if got := signOuts(); got != before+1 {
			t.Errorf("auth.sign_out audit rows %d, want %d", got, before+1)
		}
		// The old cookie, replayed, is no session.
		replay := app.client()
		secSetCookie(replay, "kai_session", token)
		wantSeeOther(t, "replayed cookie after sign-out", replay.get("/officer"), signInPage)
	})

	t.Run("sign-in rotates the session", func(t *testing.T) {
		app := newTestApp(t, testdb.SQLite, nil)
		// A cookie planted before sign-in is replaced, not adopted.
		c := app.client()
		planted := models.RandomToken(32)
		secSetCookie(c, "kai_session", planted)
		c.signInDemo("demo-officer")
		first := secCookie(c, "kai_session")
		if first == planted || first == "" {
			t.Fatalf("sign-in kept the planted session cookie")
		}
		attacker := app.client()
		secSetCookie(attacker, "kai_session", planted)
		wantSeeOther(t, "planted cookie after the victim signed in", attacker.get("/officer"), signInPage)

		// Signing in again ends the earlier session.
		c.signInDemo("demo-admin")
		second := secCookie(c, "kai_session")
		if second == first {
			t.Fatal("a second sign-in kept the session token")
		}
		if secSessionRows(t, app, first) != 0 {
			t.Error("the session before the second sign-in still has a row")
		}
		old := app.client()
		secSetCookie(old, "kai_session", first)
		wantSeeOther(t, "token from before the second sign-in", old.get("/officer"), signInPage)
		if resp := c.get("/admin"); resp.StatusCode != http.StatusOK {
			t.Errorf("new session: GET /admin status %d", resp.StatusCode)
		}
	})
}

// --- (e) Request body limit ---

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, map[string]string{
		"PORTAL_MAX_BODY_BYTES": "1024", "PORTAL_MAX_UPLOAD_BYTES": "1024"})
	c := app.client()
	token := c.csrfToken()
	pad := strings.Repeat("x", 4096)

	// A small form still works.
	resp := c.post("/lang", url.Values{"lang": {"en"}})
	wantSeeOther(t, "small POST", resp, "/")

	// A form over PORTAL_MAX_BODY_BYTES, wherever the token is.
	form := url.Values{"lang": {"en"}, "_csrf": {token}, "pad": {pad}}
	resp = secSend(c, http.MethodPost, "/lang", form.Encode(), nil)
	wantErrorStatus(t, "large form", resp, http.StatusRequestEntityTooLarge)

	form.Del("_csrf")
	resp = secSend(c, http.MethodPost, "/lang", form.Encode(), map[string]string{"X-CSRF-Token": token})
	wantErrorStatus(t, "large form, token in the header", resp, http.StatusRequestEntityTooLarge)

	// A route that takes no files refuses a multipart body, whatever its
	// size, without reading it; uploads have their own limit
	// (TestUploadTemporaries).
	multipartPost := func(size int) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("_csrf", token)
		mw.WriteField("lang", "en")
		fw, _ := mw.CreateFormFile("evidence", "big.txt")
		fw.Write(bytes.Repeat([]byte("x"), size))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/lang", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	wantErrorStatus(t, "multipart form to a route that takes no files", multipartPost(len(pad)), http.StatusUnsupportedMediaType)
}

// --- (f) Error pages ---

// goInternals matches what a stack trace or an internal error would leak.
var goInternals = regexp.MustCompile(`(?i)goroutine \d|panic|\.go:\d|runtime\.|github\.com/|kaiportal/|gorm|sql:`)

func TestErrorPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()

	resp := c.get("/no/such/page")
	doc := wantErrorStatus(t, "unknown path", resp, http.StatusNotFound)
	if body, _ := doc.Html(); goInternals.MatchString(body) {
		t.Errorf("404 page shows internals: %q", goInternals.FindString(body))
	}

	// A panic in a handler: the generic 500 page, nothing of the panic.
	r := app.h.Router()
	r.GET("/boom", func(*gin.Context) { panic("kaboom: secret detail") })
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	secCheckHeaders(t, "500 page", resp.Header)
	rid := resp.Header.Get("X-Request-ID")
	doc = wantErrorStatus(t, "panic", resp, http.StatusInternalServerError)
	body, _ := doc.Html()
	if goInternals.MatchString(body) || strings.Contains(body, "kaboom") || strings.Contains(body, "secret detail") {
		t.Errorf("500 page shows the panic: %q", body)
	}
	if rid == "" || !strings.Contains(body, rid) {
		t.Errorf("500 page does not show the request id %q", rid)
	}

	// A method the path does not take: 405 with Allow, with or without a
	// token (no handler runs, so there is nothing for CSRF to protect).
	token := c.csrfToken()
	resp = secSend(c, http.MethodDelete, "/", "", map[string]string{"X-CSRF-Token": token})
	allow := resp.Header.Get("Allow")
	wantErrorStatus(t, "DELETE /", resp, http.StatusMethodNotAllowed)
	if !strings.Contains(allow, "GET") {
		t.Errorf("DELETE /: Allow %q, want GET", allow)
	}
	wantErrorStatus(t, "DELETE / without token", secSend(app.client(), http.MethodDelete, "/", "", nil), http.StatusMethodNotAllowed)
	// A POST to no route is "not found", token or not.
	wantErrorStatus(t, "POST to an unknown path", secSend(app.client(), http.MethodPost, "/no/such/page", "", nil), http.StatusNotFound)
	// A POST to a real route without a token is still refused.
	wantErrorStatus(t, "POST /lang without token", secSend(app.client(), http.MethodPost, "/lang", "lang=en", nil), http.StatusForbidden)
}

// --- (g) X-Request-ID ---

func TestRequestID(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()

	first := c.get("/healthz")
	first.Body.Close()
	second := c.get("/healthz")
	second.Body.Close()
	a, b := first.Header.Get("X-Request-ID"), second.Header.Get("X-Request-ID")
	if !requestIDPattern.MatchString(a) || !requestIDPattern.MatchString(b) || a == b {
		t.Errorf("generated request ids %q and %q: want two different sane ids", a, b)
	}

	sane := "req-2026.11.27_0001"
	resp := secSend(c, http.MethodGet, "/no-such-page", "", map[string]string{"X-Request-ID": sane})
	if got := resp.Header.Get("X-Request-ID"); got != sane {
		t.Errorf("sane request id %q answered as %q", sane, got)
	}
	if body := readAll(resp); !strings.Contains(body, sane) {
		t.Errorf("the error page does not show the request id %q", sane)
	}

	// Through the router directly, so that values no HTTP client would send
	// reach the middleware too.
	router := app.h.Router()
	for _, bad := range []string{
		"has spaces in it",
		"line\nbreak-0001",
		"crlf\r\nSet-Cookie: kai_session=x",
		"<script>alert(1)</script>",
		"short",
		strings.Repeat("a", 65),
		"ünïcödé-0001",
	} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header["X-Request-Id"] = []string{bad}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-ID")
		if got == bad || !requestIDPattern.MatchString(got) {
			t.Errorf("request id %q answered as %q, want a fresh one", bad, got)
		}
		for _, v := range rec.Header().Values("Set-Cookie") {
			if strings.HasPrefix(v, "kai_session=") {
				t.Errorf("request id %q: a header was injected: Set-Cookie %q", bad, v)
			}
		}
	}
}

// --- (h) Open redirects ---

func TestNoOpenRedirect(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	var officer models.User
	app.db.Where("subject = ?", "demo-officer").First(&officer)

	cases := []struct{ next, lang, demo string }{
		{"//evil.example", "/", "/dashboard"},
		{"https://evil.example", "/", "/dashboard"},
		{"http://evil.example/x", "/", "/dashboard"},
		{"/\\evil.example", "/", "/dashboard"},
		{"/\t/evil.example", "/", "/dashboard"},
		{"javascript:alert(1)", "/", "/dashboard"},
		{"evil.example", "/", "/dashboard"},
		{"", "/", "/dashboard"},
		{"/audit?page=2", "/audit?page=2", "/audit?page=2"},
	}
	for _, tc := range cases {
		resp := c.post("/lang", url.Values{"lang": {"ko"}, "next": {tc.next}})
		wantSeeOther(t, "POST /lang next="+tc.next, resp, tc.lang)
		resp = c.post("/auth/demo", url.Values{"user_id": {itoa(officer.ID)}, "next": {tc.next}})
		wantSeeOther(t, "POST /auth/demo next="+tc.next, resp, tc.demo)
	}

	for _, next := range []string{"//evil", "https://evil.example", "/\\evil"} {
		doc := c.page(c.get("/auth/signin?next=" + url.QueryEscape(next)))
		inputs := doc.Find(`[data-testid="demo-signin"] input[name="next"]`)
		if inputs.Length() == 0 {
			t.Fatal("sign-in page has no demo form with next")
		}
		inputs.Each(func(_ int, s *goquery.Selection) {
			if v, _ := s.Attr("value"); v != "/dashboard" {
				t.Errorf("/auth/signin?next=%s: demo form next %q, want /dashboard", next, v)
			}
		})
	}
}

// --- (i) Operations endpoints ---

func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	for _, p := range []string{"/healthz", "/readyz"} {
		resp := c.get(p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", p, resp.StatusCode)
		}
	}
	readAll(c.get("/")) // to the end: the request is counted before its last byte is sent
	body := readAll(c.get("/metrics"))
	if !strings.Contains(body, `portal_http_requests_total{method="GET",route="/",status="200"}`) {
		t.Errorf("/metrics does not count GET /:\n%.2000s", body)
	}

	down := newTestApp(t, testdb.SQLite, nil)
	sqlDB, err := down.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	dc := down.client()
	if resp := dc.get("/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the database closed: status %d, want 503", resp.StatusCode)
	}
	if resp := dc.get("/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz with the database closed: status %d, want 200", resp.StatusCode)
	}
}

// --- (j) Language ---

func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	const (
		mastheadKO = "이 누리집은 대한민국 공식 전자정부 누리집입니다."
		mastheadEN = "This is an official e-Government website of the Republic of Korea."
	)
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	wantLang := func(what, lang, masthead string) {
		t.Helper()
		doc := c.page(c.get("/"))
		if got, _ := doc.Find("html").Attr("lang"); got != lang {
			t.Errorf("%s: html lang %q, want %q", what, got, lang)
		}
		if got := strings.TrimSpace(doc.Find(`[data-testid="masthead"]`).Text()); got != masthead {
			t.Errorf("%s: masthead %q, want %q", what, got, masthead)
		}
	}
	wantLang("default", "ko", mastheadKO)

	wantSeeOther(t, "POST /lang en", c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}), "/")
	wantLang("after choosing English", "en", mastheadEN)

	for _, lang := range []string{"fr", "", "EN", "en-US"} {
		wantErrorStatus(t, "POST /lang lang="+lang, c.post("/lang", url.Values{"lang": {lang}}), http.StatusBadRequest)
	}
	wantLang("after refused choices", "en", mastheadEN)

	wantSeeOther(t, "POST /lang ko", c.post("/lang", url.Values{"lang": {"ko"}}), "/")
	wantLang("back to Korean", "ko", mastheadKO)

	// A language cookie the portal does not speak falls back to Korean.
	other := app.client()
	secSetCookie(other, langCookie, "fr")
	c = other
	wantLang("unsupported cookie", "ko", mastheadKO)
}
