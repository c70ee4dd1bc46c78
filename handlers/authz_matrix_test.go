package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/static"
	"kaiportal/testdb"
)

// The authorisation matrix: for every route of routes(), what each role gets.
// Every cell is run through the real router over HTTP, with a real session
// for the signed-in roles and a valid CSRF token on every POST, so that the
// answer is the guard's and the handler's, never the CSRF check's.

// matrixRole is one column of the matrix.
type matrixRole string

const (
	asAnonymous    matrixRole = "anonymous"
	asCompany      matrixRole = "company"       // demo-company-upstage on the sample path (its own objects)
	asCompanyOther matrixRole = "company-other" // demo-company-upstage on otherPath (another organisation's objects)
	asOfficer      matrixRole = "officer"
	asAdmin        matrixRole = "admin"
	asAuditor      matrixRole = "auditor"
)

// matrixRoles are the columns, in the order matrixCells() takes them.
var matrixRoles = []matrixRole{asAnonymous, asCompany, asCompanyOther, asOfficer, asAdmin, asAuditor}

// matrixSubjects names the demo user each signed-in column acts as.
var matrixSubjects = map[matrixRole]string{
	asCompany:      "demo-company-upstage",
	asCompanyOther: "demo-company-upstage",
	asOfficer:      "demo-officer",
	asAdmin:        "demo-admin",
	asAuditor:      "demo-auditor",
}

// matrixWant is one cell: the status, and for redirects where they go.
type matrixWant struct {
	status   int
	location string // exact Location of a redirect (placeholders allowed)
	signIn   bool   // the Location is /auth/signin?next=<the requested path>
}

var (
	cellOK        = matrixWant{status: http.StatusOK}
	cellForbidden = matrixWant{status: http.StatusForbidden}
	cellNotFound  = matrixWant{status: http.StatusNotFound}
	cellSignIn    = matrixWant{status: http.StatusSeeOther, signIn: true}
	// cellUnprocessable: the guard let the request through and the
	// handler refused the (empty) form.
	cellUnprocessable = matrixWant{status: http.StatusUnprocessableEntity}
)

func cellSeeOther(location string) matrixWant {
	return matrixWant{status: http.StatusSeeOther, location: location}
}

// matrixCells lists a row's cells in the order of matrixRoles:
// anonymous, company, company-other, officer, admin, auditor.
func matrixCells(w ...matrixWant) map[matrixRole]matrixWant {
	if len(w) != len(matrixRoles) {
		panic("authz matrix: a row needs one cell per role")
	}
	m := make(map[matrixRole]matrixWant, len(w))
	for i, r := range matrixRoles {
		m[r] = w[i]
	}
	return m
}

func sameCells(w matrixWant) map[matrixRole]matrixWant {
	return matrixCells(w, w, w, w, w, w)
}

// matrixRow is the expectation for one route.
type matrixRow struct {
	path      string     // a concrete sample path: {own} Upstage's organisation, {own_app} its application, {own_member} its lead member, {call} the demo call, {review} the officer's review assignment, {hash} the static hash
	otherPath string     // the company-other column's path: {other}, {other_app}, {other_member} are KAIST's; "" means path
	form      url.Values // POST form fields (the CSRF token is added); {demo_user} is a demo user's id
	cells     map[matrixRole]matrixWant
}

// authzMatrix is keyed by "METHOD /pattern", exactly as routes() registers it.
// An area's test file may add its routes' rows in an init function, next to
// the tests that explain them (applications_test.go, decisions_test.go).
// matrixCells takes, in order: anonymous, company, company-other, officer,
// admin, auditor.
var authzMatrix = map[string]matrixRow{
	// Public pages and operations: the same answer for everyone.
	"GET /":                   {path: "/", cells: sameCells(cellOK)},
	"GET /healthz":            {path: "/healthz", cells: sameCells(cellOK)},
	"GET /readyz":             {path: "/readyz", cells: sameCells(cellOK)},
	"GET /metrics":            {path: "/metrics", cells: sameCells(cellOK)},
	"GET /static/:hash/*path": {path: "/static/{hash}/css/app.css", cells: sameCells(cellOK)},
	"POST /lang": {path: "/lang", form: url.Values{"lang": {"en"}, "next": {"/audit"}},
		cells: sameCells(cellSeeOther("/audit"))},

	// Sign-in and sign-out. Without an OIDC issuer /auth/login and
	// /auth/callback do not exist for anyone.
	"GET /auth/signin":   {path: "/auth/signin", cells: sameCells(cellOK)},
	"GET /auth/login":    {path: "/auth/login", cells: sameCells(cellNotFound)},
	"GET /auth/callback": {path: "/auth/callback?code=x&state=y", cells: sameCells(cellNotFound)},
	"POST /auth/demo": {path: "/auth/demo", form: url.Values{"user_id": {"{demo_user}"}},
		cells: sameCells(cellSeeOther("/dashboard"))},
	"POST /auth/logout": {path: "/auth/logout", cells: matrixCells(
		cellForbidden, cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"))},
	// The "stay signed in" button of the expiry warning: any signed-in user.
	"POST /auth/keepalive": {path: "/auth/keepalive", cells: matrixCells(
		cellForbidden, cellOK, cellOK, cellOK, cellOK, cellOK)},

	// Dashboards by role.
	"GET /dashboard": {path: "/dashboard", cells: matrixCells(
		cellSignIn, cellSeeOther("/company"), cellSeeOther("/company"), cellSeeOther("/officer"), cellSeeOther("/admin"), cellSeeOther("/auditor"))},
	"GET /officer": {path: "/officer", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
	"GET /admin": {path: "/admin", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellOK, cellForbidden)},
	"GET /company": {path: "/company", cells: matrixCells(
		cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden)},
	"GET /auditor": {path: "/auditor", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellOK)},

	// Organisations: the list is for the ministry and auditors; a company
	// sees its own organisation, and another one's is "not found".
	"GET /organisations": {path: "/organisations", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},
	"GET /organisations/:id": {path: "/organisations/{own}", otherPath: "/organisations/{other}", cells: matrixCells(
		cellSignIn, cellOK, cellNotFound, cellOK, cellOK, cellOK)},

	// Audit trail.
	"GET /audit": {path: "/audit", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},

	// Calls: public notices; officers create and edit them. The forms are
	// sent empty, so the ministry's answer is the validation (422) and
	// nothing changes.
	"GET /calls/:id": {path: "/calls/{call}", cells: sameCells(cellOK)},
	"GET /officer/calls/new": {path: "/officer/calls/new", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
	"POST /officer/calls": {path: "/officer/calls", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden)},
	"GET /officer/calls/:id/edit": {path: "/officer/calls/{call}/edit", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
	"POST /officer/calls/:id": {path: "/officer/calls/{call}", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden)},

	// Applications (GET /company/applications, /calls/:id/apply and
	// /applications/...): their rows are in applications_test.go.

	// Review and selection. {review} is the demo officer's assignment on a
	// submitted application; the admin is not its reviewer, so it is "not
	// found" to them. Forms are sent empty: nothing changes.
	"GET /officer/calls/:id/applications": {path: "/officer/calls/{call}/applications", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},
	"GET /officer/calls/:id/export": {path: "/officer/calls/{call}/export", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},
	"POST /applications/:id/reviewers": {path: "/applications/{own_app}/reviewers", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden,
		cellSeeOther("/officer/calls/{call}/applications?app={own_app}&assign_error=reviewer"),
		cellSeeOther("/officer/calls/{call}/applications?app={own_app}&assign_error=reviewer"), cellForbidden)},
	"GET /reviews": {path: "/reviews", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
	"GET /reviews/:aid": {path: "/reviews/{review}", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellNotFound, cellForbidden)},
	"POST /reviews/:aid/conflict": {path: "/reviews/{review}/conflict", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellNotFound, cellForbidden)},
	// Scores before the reviewer has declared no conflict of interest: 409.
	"POST /reviews/:aid/scores": {path: "/reviews/{review}/scores", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden, matrixWant{status: http.StatusConflict}, cellNotFound, cellForbidden)},
	"GET /officer/calls/:id/ranking": {path: "/officer/calls/{call}/ranking", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
	"POST /officer/calls/:id/decision": {path: "/officer/calls/{call}/decision", cells: matrixCells(
		cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden)},
	"GET /officer/calls/:id/follow-up": {path: "/officer/calls/{call}/follow-up", cells: matrixCells(
		cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},

	// Published decisions (GET /decisions, /decisions/:id): their rows are
	// in decisions_test.go.
}

// matrixFixture holds the objects the sample paths name: the demo call, a
// draft application of Upstage (own) and of KAIST (other), and a review
// assignment of the demo officer.
type matrixFixture struct {
	app              *testApp
	upstage, kaist   *models.Organisation
	demoUser         *models.User
	call             *models.Call
	ownApp, otherApp *models.Application
	review           uint // the demo officer's review assignment
}

func newMatrixFixture(t *testing.T, kind testdb.Kind) *matrixFixture {
	t.Helper()
	app := newTestApp(t, kind, nil)
	f := &matrixFixture{app: app, demoUser: &models.User{}}
	var err error
	if f.upstage, err = models.GetOrganisationByCode(t.Context(), app.db, "upstage"); err != nil {
		t.Fatal(err)
	}
	if f.kaist, err = models.GetOrganisationByCode(t.Context(), app.db, "kaist"); err != nil {
		t.Fatal(err)
	}
	if err := app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, "demo-company-upstage").
		First(f.demoUser).Error; err != nil {
		t.Fatal(err)
	}
	calls, err := models.ListCalls(t.Context(), app.db)
	if err != nil || len(calls) == 0 {
		t.Fatalf("demo call: %v (%d calls)", err, len(calls))
	}
	f.call = &calls[0]
	f.ownApp = matrixApplication(t, app, f.call, f.demoUser)
	var kaistUser models.User
	if err := app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, "demo-company-kaist").
		First(&kaistUser).Error; err != nil {
		t.Fatal(err)
	}
	f.otherApp = matrixApplication(t, app, f.call, &kaistUser)
	f.review = matrixReview(t, app, f)
	return f
}

// matrixReview submits a third company's application inside the call's
// window and assigns it to the demo officer for review, after the close.
func matrixReview(t *testing.T, app *testApp, f *matrixFixture) uint {
	t.Helper()
	ctx := t.Context()
	naver, err := models.GetOrganisationByCode(ctx, app.db, "naver-cloud")
	if err != nil {
		t.Fatal(err)
	}
	applicant, err := models.UpsertUser(ctx, app.db, models.Identity{Issuer: "matrix-test", Subject: "naver-applicant",
		Email: "applicant@naver.example", Name: "Applicant", Role: models.RoleCompany, OrganisationID: &naver.ID}, f.call.OpensAt)
	if err != nil {
		t.Fatal(err)
	}
	a := matrixApplication(t, app, f.call, applicant)
	if _, err := models.TransitionApplication(ctx, app.db, a.ID, models.ActSubmit, applicant, f.call.OpensAt.Add(2*time.Hour)); err != nil {
		t.Fatalf("submit: %v", err)
	}
	var officer models.User
	if err := app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, "demo-officer").First(&officer).Error; err != nil {
		t.Fatal(err)
	}
	if err := models.AssignReviewer(ctx, app.db, a.ID, officer.ID, &officer, app.clock.Now()); err != nil {
		t.Fatalf("assign reviewer: %v", err)
	}
	as, err := models.AssignmentsOf(ctx, app.db, officer.ID)
	if err != nil || len(as) != 1 {
		t.Fatalf("assignments of the officer: %d, %v", len(as), err)
	}
	return as[0].ID
}

// matrixApplication starts a draft for the user's organisation while the call is open.
func matrixApplication(t *testing.T, app *testApp, call *models.Call, by *models.User) *models.Application {
	t.Helper()
	a := &models.Application{CallID: call.ID, TitleKO: "시험 신청서", TitleEN: "Test application", Summary: "시험"}
	if err := models.CreateApplication(t.Context(), app.db, a, by, call.OpensAt.Add(time.Hour)); err != nil {
		t.Fatalf("application of %s: %v", by.Subject, err)
	}
	if len(a.Members) == 0 {
		t.Fatalf("application of %s has no lead member", by.Subject)
	}
	return a
}

func (f *matrixFixture) expand(s string) string {
	return strings.NewReplacer("{own}", itoa(f.upstage.ID), "{other}", itoa(f.kaist.ID),
		"{hash}", static.Hash, "{demo_user}", itoa(f.demoUser.ID), "{call}", itoa(f.call.ID),
		"{own_app}", itoa(f.ownApp.ID), "{other_app}", itoa(f.otherApp.ID),
		"{own_member}", itoa(f.ownApp.Members[0].ID), "{other_member}", itoa(f.otherApp.Members[0].ID),
		"{review}", itoa(f.review)).Replace(s)
}

// client returns a browser signed in for the column (none for anonymous).
func (f *matrixFixture) client(role matrixRole) *testClient {
	c := f.app.client()
	if subject, ok := matrixSubjects[role]; ok {
		c.signInDemo(subject)
	}
	return c
}

func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newMatrixFixture(t, kind)

		// One signed-in browser per column for the GET cells; POST cells get
		// a fresh one each, since they sign in, out or switch the language.
		browsers := map[matrixRole]*testClient{}
		for _, r := range matrixRoles {
			browsers[r] = f.client(r)
		}

		registered := map[string]bool{}
		for _, rt := range f.app.h.routes() {
			key := rt.Method + " " + rt.Path
			registered[key] = true
			row, ok := authzMatrix[key]
			if !ok {
				t.Errorf("route %q has no row in authzMatrix: add one (in authz_matrix_test.go or the area's test file) with the expected answer for every role", key)
				continue
			}
			for _, role := range matrixRoles {
				w, ok := row.cells[role]
				if !ok {
					t.Errorf("%s: authzMatrix has no cell for role %s", key, role)
					continue
				}
				path := row.path
				if role == asCompanyOther && row.otherPath != "" {
					path = row.otherPath
				}
				path = f.expand(path)
				if strings.Contains(path, "{") {
					t.Errorf("%s: unknown placeholder in sample path %q", key, path)
					continue
				}

				var resp *http.Response
				switch rt.Method {
				case http.MethodGet:
					resp = browsers[role].get(path)
				case http.MethodPost:
					form := url.Values{}
					for k, vs := range row.form {
						for _, v := range vs {
							form.Add(k, f.expand(v))
						}
					}
					resp = f.client(role).post(path, form)
				default:
					t.Fatalf("%s: the matrix test does not know how to send %s", key, rt.Method)
				}
				checkMatrixCell(t, f, key+" as "+string(role)+" ("+path+")", path, resp, w)
			}
		}
		for key := range authzMatrix {
			if !registered[key] {
				t.Errorf("authzMatrix has a row for %q, which routes() no longer registers: remove or rename it", key)
			}
		}
	})
}

// checkMatrixCell compares one answer with its cell.
func checkMatrixCell(t *testing.T, f *matrixFixture, what, path string, resp *http.Response, w matrixWant) {
	t.Helper()
	body := readAll(resp)
	if resp.StatusCode != w.status {
		t.Errorf("%s: status %d, want %d", what, resp.StatusCode, w.status)
		return
	}
	if w.status >= 300 && w.status < 400 {
		want := f.expand(w.location)
		if w.signIn {
			want = "/auth/signin?next=" + url.QueryEscape(path)
		}
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("%s: redirects to %q, want %q", what, got, want)
		}
		return
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: parse HTML: %v", what, err)
	}
	errPage := doc.Find(`[data-testid="error"]`)
	switch w.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		// A refusal shows the generic error page and nothing of the page refused.
		if st, _ := errPage.Attr("data-status"); st != itoa(uint(w.status)) {
			t.Errorf("%s: %d without the error page (data-status %q)", what, w.status, st)
		}
		if n := doc.Find(`main [data-testid="organisation"], main [data-testid="organisations"], main [data-testid="audit-rows"]`).Length(); n > 0 {
			t.Errorf("%s: refused with %d but the page shows protected content", what, w.status)
		}
	case http.StatusOK:
		if errPage.Length() > 0 {
			t.Errorf("%s: 200 with an error page", what)
		}
	}
}

// TestCompanyIsolation checks in page content that a company user sees their
// own organisation and nothing of any other.
func TestCompanyIsolation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newMatrixFixture(t, kind)
		orgs, err := models.ListOrganisations(t.Context(), f.app.db)
		if err != nil {
			t.Fatal(err)
		}

		upstage := f.client(asCompany)

		// Their own organisation: its name, and no other organisation's.
		resp := upstage.get("/organisations/" + itoa(f.upstage.ID))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("own organisation: status %d, want 200", resp.StatusCode)
		}
		doc := upstage.page(resp)
		if got := strings.TrimSpace(doc.Find(`[data-testid="organisation-name"]`).Text()); got != f.upstage.NameKO {
			t.Errorf("own organisation page names %q, want %q", got, f.upstage.NameKO)
		}
		main := doc.Find("main").Text()
		for _, o := range orgs {
			if o.ID == f.upstage.ID {
				continue
			}
			for _, name := range []string{o.NameKO, o.NameEN, o.Code} {
				if strings.Contains(main, name) {
					t.Errorf("own organisation page shows %q of organisation %s", name, o.Code)
				}
			}
		}

		// The dashboard is about their organisation too.
		doc = upstage.page(upstage.get("/company"))
		if got := strings.TrimSpace(doc.Find(`[data-testid="company-org"]`).Text()); got != f.upstage.NameKO {
			t.Errorf("company dashboard names %q, want %q", got, f.upstage.NameKO)
		}

		// Another organisation, an unknown one and a malformed id answer the
		// same 404: the answer does not even confirm that it exists.
		for _, path := range []string{
			"/organisations/" + itoa(f.kaist.ID),
			"/organisations/999999",
			"/organisations/abc",
		} {
			resp := upstage.get(path)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("company GET %s: status %d, want 404", path, resp.StatusCode)
			}
			doc := upstage.page(resp)
			if st, _ := doc.Find(`[data-testid="error"]`).Attr("data-status"); st != "404" {
				t.Errorf("company GET %s: no 404 error page", path)
			}
			if main := doc.Find("main").Text(); strings.Contains(main, f.kaist.NameKO) || strings.Contains(main, f.kaist.NameEN) {
				t.Errorf("company GET %s: the 404 page shows KAIST's name", path)
			}
		}

		// The other company user is kept out of Upstage's page the same way.
		kaist := f.app.client()
		kaist.signInDemo("demo-company-kaist")
		resp = kaist.get("/organisations/" + itoa(f.upstage.ID))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("KAIST user on Upstage's page: status %d, want 404", resp.StatusCode)
		}
		if main := kaist.page(resp).Find("main").Text(); strings.Contains(main, f.upstage.NameKO) {
			t.Errorf("KAIST user's 404 page shows Upstage's name")
		}

		// The list of organisations is not for companies at all.
		resp = upstage.get("/organisations")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("company GET /organisations: status %d, want 403", resp.StatusCode)
		}
		doc = upstage.page(resp)
		if n := doc.Find(`[data-testid="organisation-row"]`).Length(); n != 0 {
			t.Errorf("company GET /organisations: %d organisation rows on the refusal", n)
		}

		// Their navigation links only to their own organisation.
		doc = upstage.page(upstage.get("/"))
		var hrefs []string
		doc.Find("nav a").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			hrefs = append(hrefs, href)
		})
		if slices.Contains(hrefs, "/organisations") || !slices.Contains(hrefs, "/organisations/"+itoa(f.upstage.ID)) {
			t.Errorf("company navigation %v: want a link to their own organisation and none to the list", hrefs)
		}
	})
}
