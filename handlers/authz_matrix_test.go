package handlers

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
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
// answer is the guard's and the handler's, never the CSRF check's. Every
// route with an id in its path is tried on real objects of the programme
// story (newMatrixFixture): one of the signed-in company's own organisation
// and one of another organisation, so that "allowed" never hides behind
// "not found". The external evaluator (reviewer) is tried the same way: on
// an object assigned to them and on one that is not (reviewerPath and
// reviewerOtherPath where the row names applications or assignments;
// elsewhere the company's two objects), and sees nothing else of the
// programme.

// matrixRole is one column of the matrix.
type matrixRole string

const (
	asAnonymous    matrixRole = "anonymous"
	asCompany      matrixRole = "company"       // demo-company-upstage on the row's path (its own objects)
	asCompanyOther matrixRole = "company-other" // demo-company-upstage on otherPath (another organisation's objects)
	asOfficer      matrixRole = "officer"
	asAdmin        matrixRole = "admin"
	asAuditor      matrixRole = "auditor"
	// The external evaluator (평가위원), demo-reviewer: on the row's
	// reviewerPath (an object assigned to them; else path) and on
	// reviewerOtherPath (one not assigned; else otherPath, else path).
	asReviewer      matrixRole = "reviewer"
	asReviewerOther matrixRole = "reviewer-other"
)

// matrixRoles are the columns, in the order matrixCells() takes them.
var matrixRoles = []matrixRole{asAnonymous, asCompany, asCompanyOther, asOfficer, asAdmin, asAuditor, asReviewer, asReviewerOther}

// matrixSubjects names the demo user each signed-in column acts as.
var matrixSubjects = map[matrixRole]string{
	asCompany:       "demo-company-upstage",
	asCompanyOther:  "demo-company-upstage",
	asOfficer:       "demo-officer",
	asAdmin:         "demo-admin",
	asAuditor:       "demo-auditor",
	asReviewer:      "demo-reviewer",
	asReviewerOther: "demo-reviewer",
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
	// cellConflict: the guard let the request through and the object's
	// state refused the step.
	cellConflict = matrixWant{status: http.StatusConflict}
)

func cellSeeOther(location string) matrixWant {
	return matrixWant{status: http.StatusSeeOther, location: location}
}

// matrixCells lists a row's cells in the order of matrixRoles:
// anonymous, company, company-other, officer, admin, auditor, reviewer,
// reviewer-other.
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
	return matrixCells(w, w, w, w, w, w, w, w)
}

// Rows that follow from a route's guard alone, for the common role sets.
var (
	// The presets below, and every row that is not about reviewing, refuse
	// the external evaluator (403 on both of their objects): they see
	// nothing of the programme but their assignments.
	//
	// A page for the ministry (officers and administrators).
	ministryPage = matrixCells(cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden)
	// A page for the ministry and auditors.
	programmePage = matrixCells(cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)
	// A page for administrators.
	adminPage = matrixCells(cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellOK, cellForbidden, cellForbidden, cellForbidden)
	// A ministry form sent empty: the ministry's answer is the validation.
	ministryEmptyForm = matrixCells(cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden)
	// An administrator's form sent empty.
	adminEmptyForm = matrixCells(cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden)
	// An organisation's object that the company, the ministry and auditors
	// see: the company its own only, another's is "not found".
	ownObjectPage = matrixCells(cellSignIn, cellOK, cellNotFound, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)
)

// companyPost is a company's step on an application: own is the company's
// answer on its own; another organisation's is "not found"; nobody else
// passes the guard.
func companyPost(own matrixWant) map[matrixRole]matrixWant {
	return matrixCells(cellForbidden, own, cellNotFound, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)
}

// matrixRow is the expectation for one route.
type matrixRow struct {
	// path is a concrete sample path, with placeholders for the story's
	// objects (matrixFixture.vars): {own...} are the signed-in company's
	// organisation's.
	path string
	// otherPath is the company-other column's path, naming another
	// organisation's objects ({other...}); "" means path. A row whose path
	// names an {own...} object must have one.
	otherPath string
	// reviewerPath is the reviewer column's path, naming an object assigned
	// to the external evaluator ({rev...}), and reviewerOtherPath the
	// reviewer-other column's, naming one not assigned to them
	// ({norev...}, or another reviewer's); "" means path and otherPath
	// (then path). A row with a reviewerPath must have both.
	reviewerPath, reviewerOtherPath string
	form                            url.Values // POST form fields (the CSRF token is added); placeholders allowed
	// fresh: the request changes the browser's session or language, so each
	// cell gets a browser of its own instead of the column's.
	fresh bool
	cells map[matrixRole]matrixWant
}

// pathFor is the sample path a column requests.
func (row matrixRow) pathFor(role matrixRole) string {
	switch {
	case role == asCompanyOther && row.otherPath != "":
		return row.otherPath
	case role == asReviewer && row.reviewerPath != "":
		return row.reviewerPath
	case role == asReviewerOther && row.reviewerOtherPath != "":
		return row.reviewerOtherPath
	case role == asReviewerOther && row.otherPath != "":
		return row.otherPath
	}
	return row.path
}

// matrixEntry is one row of the matrix under its route's key.
type matrixEntry struct {
	key string // "METHOD /pattern", exactly as routes() registers it
	row matrixRow
}

// newAuthzMatrix keys the entries by route; two rows for one route are a
// mistake in the table (the later would silently replace the earlier), so
// it panics.
func newAuthzMatrix(entries []matrixEntry) map[string]matrixRow {
	m := make(map[string]matrixRow, len(entries))
	for _, e := range entries {
		if _, dup := m[e.key]; dup {
			panic("authz matrix: two rows for " + e.key)
		}
		m[e.key] = e.row
	}
	return m
}

// authzMatrix is the whole matrix, built here and only here: a new route's
// row goes in this list, in the order of routes().
func authzMatrix() map[string]matrixRow {
	return newAuthzMatrix([]matrixEntry{
		// Public pages and operations: the same answer for everyone.
		{"GET /", matrixRow{path: "/", cells: sameCells(cellOK)}},
		{"GET /healthz", matrixRow{path: "/healthz", cells: sameCells(cellOK)}},
		{"GET /readyz", matrixRow{path: "/readyz", cells: sameCells(cellOK)}},
		{"GET /metrics", matrixRow{path: "/metrics", cells: sameCells(cellOK)}},
		{"GET /static/:hash/*path", matrixRow{path: "/static/{hash}/css/app.css", cells: sameCells(cellOK)}},
		{"POST /lang", matrixRow{path: "/lang", form: url.Values{"lang": {"en"}, "next": {"/audit"}}, fresh: true,
			cells: sameCells(cellSeeOther("/audit"))}},
		{"GET /privacy", matrixRow{path: "/privacy", cells: sameCells(cellOK)}},
		{"GET /accessibility", matrixRow{path: "/accessibility", cells: sameCells(cellOK)}},
		{"GET /help", matrixRow{path: "/help", cells: sameCells(cellOK)}},

		// Sign-in and sign-out. Without an OIDC issuer /auth/login and
		// /auth/callback do not exist for anyone.
		{"GET /auth/signin", matrixRow{path: "/auth/signin", cells: sameCells(cellOK)}},
		{"GET /auth/login", matrixRow{path: "/auth/login", cells: sameCells(cellNotFound)}},
		{"GET /auth/callback", matrixRow{path: "/auth/callback?code=x&state=y", cells: sameCells(cellNotFound)}},
		{"POST /auth/demo", matrixRow{path: "/auth/demo", form: url.Values{"user_id": {"{demo_user}"}}, fresh: true,
			cells: sameCells(cellSeeOther("/dashboard"))}},
		{"POST /auth/logout", matrixRow{path: "/auth/logout", fresh: true, cells: matrixCells(
			cellForbidden, cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"), cellSeeOther("/"),
			cellSeeOther("/"), cellSeeOther("/"))}},
		// The "stay signed in" button of the expiry warning: any signed-in user.
		{"POST /auth/keepalive", matrixRow{path: "/auth/keepalive", cells: matrixCells(
			cellForbidden, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK)}},

		// Notices: every signed-in user has their own inbox and settings.
		// {own_msg} is a notice to Upstage's user about {decision},
		// {other_msg} one to KAIST's user: no one else may open either.
		{"GET /inbox", matrixRow{path: "/inbox", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK)}},
		{"POST /inbox/read-all", matrixRow{path: "/inbox/read-all", cells: matrixCells(
			cellForbidden, cellSeeOther("/inbox"), cellSeeOther("/inbox"), cellSeeOther("/inbox"), cellSeeOther("/inbox"),
			cellSeeOther("/inbox"), cellSeeOther("/inbox"), cellSeeOther("/inbox"))}},
		{"POST /inbox/:id/open", matrixRow{path: "/inbox/{own_msg}/open", otherPath: "/inbox/{other_msg}/open", cells: matrixCells(
			cellForbidden, cellSeeOther("/decisions/{decision}"), cellNotFound, cellNotFound, cellNotFound, cellNotFound,
			cellNotFound, cellNotFound)}},
		{"GET /account/notifications", matrixRow{path: "/account/notifications", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK, cellOK)}},
		{"POST /account/notifications", matrixRow{path: "/account/notifications", cells: matrixCells(
			cellForbidden, cellUnprocessable, cellUnprocessable, cellUnprocessable, cellUnprocessable, cellUnprocessable,
			cellUnprocessable, cellUnprocessable)}},

		// Dashboards by role.
		{"GET /dashboard", matrixRow{path: "/dashboard", cells: matrixCells(
			cellSignIn, cellSeeOther("/company"), cellSeeOther("/company"), cellSeeOther("/officer"), cellSeeOther("/admin"), cellSeeOther("/auditor"),
			cellSeeOther("/reviews"), cellSeeOther("/reviews"))}},
		{"GET /officer", matrixRow{path: "/officer", cells: ministryPage}},
		{"GET /admin", matrixRow{path: "/admin", cells: adminPage}},
		{"GET /company", matrixRow{path: "/company", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /auditor", matrixRow{path: "/auditor", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellOK, cellForbidden, cellForbidden)}},
		// The dashboards' parts made from telemetry: a company's own GPU
		// month (its organisation's, whoever asks), the ministry's gaps.
		{"GET /company/gpu-month", matrixRow{path: "/company/gpu-month", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /officer/telemetry", matrixRow{path: "/officer/telemetry", cells: ministryPage}},

		// Organisations: the list is for the ministry and auditors; a company
		// sees its own organisation, and another one's is "not found".
		{"GET /organisations", matrixRow{path: "/organisations", cells: programmePage}},
		{"GET /organisations/:id", matrixRow{path: "/organisations/{own}", otherPath: "/organisations/{other}", cells: ownObjectPage}},

		// Audit trail.
		{"GET /audit", matrixRow{path: "/audit", cells: programmePage}},

		// Calls: public notices; officers create and edit them. The forms
		// are sent empty: the ministry's answer is the validation and
		// nothing changes.
		{"GET /calls", matrixRow{path: "/calls", cells: sameCells(cellOK)}},
		{"GET /calls/:id", matrixRow{path: "/calls/{call}", cells: sameCells(cellOK)}},
		{"GET /officer/calls/new", matrixRow{path: "/officer/calls/new", cells: ministryPage}},
		{"POST /officer/calls", matrixRow{path: "/officer/calls", cells: ministryEmptyForm}},
		{"GET /officer/calls/:id/edit", matrixRow{path: "/officer/calls/{call}/edit", cells: ministryPage}},
		{"POST /officer/calls/:id", matrixRow{path: "/officer/calls/{open_call}", cells: ministryEmptyForm}},

		// Applications. {apply_call} is open and Upstage has not applied
		// yet: the form, and the empty form refused. {own_app} and
		// {other_app} are drafts of Upstage and KAIST in {open_call}, each
		// with a participant and one of the two required documents.
		{"GET /company/applications", matrixRow{path: "/company/applications", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /calls/:id/apply", matrixRow{path: "/calls/{apply_call}/apply", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /calls/:id/apply", matrixRow{path: "/calls/{apply_call}/apply", cells: matrixCells(
			cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		// The external evaluator reads an assigned application on its review
		// page (/reviews/:aid), not here: refused even on the assigned one.
		{"GET /applications/:id", matrixRow{path: "/applications/{own_app}", otherPath: "/applications/{other_app}",
			reviewerPath: "/applications/{rev_app}", reviewerOtherPath: "/applications/{norev_app}", cells: ownObjectPage}},
		{"POST /applications/:id", matrixRow{path: "/applications/{own_app}", otherPath: "/applications/{other_app}",
			cells: companyPost(cellUnprocessable)}},
		{"POST /applications/:id/members", matrixRow{path: "/applications/{own_app}/members", otherPath: "/applications/{other_app}/members",
			cells: companyPost(cellUnprocessable)}},
		// Removing the participant: done on the company's own draft.
		{"POST /applications/:id/members/:mid/delete", matrixRow{path: "/applications/{own_app}/members/{own_member}/delete",
			otherPath: "/applications/{other_app}/members/{other_member}/delete",
			cells:     companyPost(cellSeeOther("/applications/{own_app}?done=member_removed"))}},
		// Consortia. The consortium page of a draft; a selected team's
		// change request sent empty (refused); a draft member's terms sent
		// empty (the role is missing).
		{"GET /applications/:id/consortium", matrixRow{path: "/applications/{own_app}/consortium",
			otherPath: "/applications/{other_app}/consortium", cells: ownObjectPage}},
		{"POST /applications/:id/consortium", matrixRow{path: "/applications/{own_sel_app}/consortium",
			otherPath: "/applications/{other_sel_app}/consortium", cells: companyPost(cellUnprocessable)}},
		{"POST /applications/:id/members/:mid", matrixRow{path: "/applications/{own_app}/members/{own_member2}",
			otherPath: "/applications/{other_app}/members/{other_member2}", cells: companyPost(cellUnprocessable)}},
		{"GET /company/consortium", matrixRow{path: "/company/consortium", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		// Upstage answers the invitations it received; another
		// organisation's invitation is "not found" to it.
		{"POST /consortium/requests/:rid/accept", matrixRow{path: "/consortium/requests/{own_invitation}/accept",
			otherPath: "/consortium/requests/{other_invitation}/accept", cells: companyPost(cellSeeOther("/company/consortium?done=accepted"))}},
		{"POST /consortium/requests/:rid/decline", matrixRow{path: "/consortium/requests/{own_invitation2}/decline",
			otherPath: "/consortium/requests/{other_invitation}/decline", cells: companyPost(cellSeeOther("/company/consortium?done=declined"))}},
		{"POST /consortium/requests/:rid/withdraw", matrixRow{path: "/consortium/requests/{own_withdraw}/withdraw",
			otherPath: "/consortium/requests/{other_withdraw}/withdraw", cells: companyPost(cellSeeOther("/applications/{own_sel_app}/consortium?done=withdrawn"))}},
		{"GET /officer/consortia", matrixRow{path: "/officer/consortia", cells: programmePage}},
		// Without the confirmation: the page that asks for it; a refusal sent without its reason.
		{"POST /officer/consortium/requests/:rid/approve", matrixRow{path: "/officer/consortium/requests/{change_request}/approve",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /officer/consortium/requests/:rid/refuse", matrixRow{path: "/officer/consortium/requests/{change_request}/refuse",
			cells: ministryEmptyForm}},
		// Sent without a document named: refused.
		{"POST /applications/:id/documents", matrixRow{path: "/applications/{own_app}/documents", otherPath: "/applications/{other_app}/documents",
			cells: companyPost(cellUnprocessable)}},
		// The external evaluator downloads the documents of the application
		// assigned to them; another application's is "not found".
		{"GET /applications/:id/documents/:did", matrixRow{path: "/applications/{own_app}/documents/{own_doc}",
			otherPath:    "/applications/{other_app}/documents/{other_doc}",
			reviewerPath: "/applications/{rev_app}/documents/{rev_doc}", reviewerOtherPath: "/applications/{norev_app}/documents/{norev_doc}",
			cells: matrixCells(cellSignIn, cellOK, cellNotFound, cellOK, cellOK, cellOK, cellOK, cellNotFound)}},
		// A document is missing: refused, and the draft stays a draft.
		{"POST /applications/:id/submit", matrixRow{path: "/applications/{own_app}/submit", otherPath: "/applications/{other_app}/submit",
			cells: companyPost(cellUnprocessable)}},
		// Without the confirmation: the page that asks for it.
		{"POST /applications/:id/withdraw", matrixRow{path: "/applications/{own_app}/withdraw", otherPath: "/applications/{other_app}/withdraw",
			cells: companyPost(cellOK)}},

		// Review and selection. {call} is decided (Upstage selected, KAIST
		// not); {review} is the demo officer's assignment, no conflict
		// declared yet, on Naver Cloud's submission to another closed call:
		// the admin is not its reviewer, so it is "not found" to them.
		{"GET /officer/calls/:id/applications", matrixRow{path: "/officer/calls/{call}/applications", cells: programmePage}},
		{"GET /officer/calls/:id/export", matrixRow{path: "/officer/calls/{call}/export?format=csv", cells: programmePage}},
		// No reviewer named: back to the list with the message.
		{"POST /applications/:id/reviewers", matrixRow{path: "/applications/{own_app}/reviewers", otherPath: "/applications/{other_app}/reviewers",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden,
				cellSeeOther("/officer/calls/{open_call}/applications?app={own_app}&assign_error=reviewer"),
				cellSeeOther("/officer/calls/{open_call}/applications?app={own_app}&assign_error=reviewer"), cellForbidden, cellForbidden, cellForbidden)}},
		// The external evaluator's start page is their assignments.
		// {rev_review} is theirs, on Naver Cloud's submission ({rev_app});
		// the demo officer's {review} is "not found" to them.
		{"GET /reviews", matrixRow{path: "/reviews", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellOK, cellOK)}},
		{"GET /reviews/:aid", matrixRow{path: "/reviews/{review}", reviewerPath: "/reviews/{rev_review}", reviewerOtherPath: "/reviews/{review}",
			cells: matrixCells(cellSignIn, cellForbidden, cellForbidden, cellOK, cellNotFound, cellForbidden, cellOK, cellNotFound)}},
		// The forms sent empty: the reviewer's answer is the validation.
		{"POST /reviews/:aid/conflict", matrixRow{path: "/reviews/{review}/conflict",
			reviewerPath: "/reviews/{rev_review}/conflict", reviewerOtherPath: "/reviews/{review}/conflict", cells: matrixCells(
				cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellNotFound, cellForbidden, cellUnprocessable, cellNotFound)}},
		{"POST /reviews/:aid/scores", matrixRow{path: "/reviews/{review}/scores",
			reviewerPath: "/reviews/{rev_review}/scores", reviewerOtherPath: "/reviews/{review}/scores", cells: matrixCells(
				cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellNotFound, cellForbidden, cellUnprocessable, cellNotFound)}},
		{"GET /officer/calls/:id/ranking", matrixRow{path: "/officer/calls/{call}/ranking", cells: ministryPage}},
		{"POST /officer/calls/:id/decision", matrixRow{path: "/officer/calls/{open_call}/decision", cells: ministryEmptyForm}},
		{"GET /officer/calls/:id/follow-up", matrixRow{path: "/officer/calls/{call}/follow-up", cells: programmePage}},
		// KAIST was not selected in {call}: the empty form is refused; a
		// company reads only its own entries.
		{"POST /officer/calls/:id/follow-up/:org", matrixRow{path: "/officer/calls/{call}/follow-up/{other}", cells: ministryEmptyForm}},
		{"GET /company/follow-up", matrixRow{path: "/company/follow-up", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},

		// Published decisions, for everyone.
		{"GET /decisions", matrixRow{path: "/decisions", cells: sameCells(cellOK)}},
		{"GET /decisions/:id", matrixRow{path: "/decisions/{decision}", cells: sameCells(cellOK)}},

		// Appeals. {decision} concerns Upstage (and KAIST), its window is
		// open; {other_decision} concerns KAIST alone. {own_appeal} is
		// Upstage's, under review, {other_appeal} KAIST's, answered; each
		// has an evidence file.
		{"GET /decisions/:id/appeal", matrixRow{path: "/decisions/{decision}/appeal", otherPath: "/decisions/{other_decision}/appeal",
			cells: matrixCells(cellSignIn, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /decisions/:id/appeal", matrixRow{path: "/decisions/{decision}/appeal", otherPath: "/decisions/{other_decision}/appeal",
			cells: matrixCells(cellForbidden, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /appeals", matrixRow{path: "/appeals", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"GET /appeals/:id", matrixRow{path: "/appeals/{own_appeal}", otherPath: "/appeals/{other_appeal}", cells: ownObjectPage}},
		{"GET /appeals/:id/evidence/:eid", matrixRow{path: "/appeals/{own_appeal}/evidence/{own_evidence}",
			otherPath: "/appeals/{other_appeal}/evidence/{other_evidence}", cells: ownObjectPage}},
		// Already under review: the step is refused.
		{"POST /appeals/:id/review", matrixRow{path: "/appeals/{own_appeal}/review", otherPath: "/appeals/{other_appeal}/review",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellConflict, cellConflict, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /appeals/:id/decide", matrixRow{path: "/appeals/{own_appeal}/decide", otherPath: "/appeals/{other_appeal}/decide",
			cells: ministryEmptyForm}},

		// Stage evaluations. {stage} is in its opinion period, with an
		// opinion ({stage_opinion}) and a report of Upstage ({own_stage_report},
		// its document {own_stage_file}) and of KAIST ({other_stage_report},
		// {other_stage_file}); {frozen_stage} is frozen, the demo officer its
		// evaluator ({stage_criterion} one of its criteria). The forms are
		// sent empty.
		{"GET /stages", matrixRow{path: "/stages", cells: sameCells(cellOK)}},
		{"GET /stages/:id", matrixRow{path: "/stages/{stage}", cells: sameCells(cellOK)}},
		{"GET /stages/:id/team", matrixRow{path: "/stages/{stage}/team", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /stages/:id/opinions", matrixRow{path: "/stages/{stage}/opinions", cells: matrixCells(
			cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /stages/:id/report", matrixRow{path: "/stages/{stage}/report", cells: matrixCells(
			cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		// The evaluator reads the reports of the stage assigned to them
		// ({frozen_stage}), not of another.
		{"GET /stages/:id/reports/:rid/files/:fid", matrixRow{path: "/stages/{stage}/reports/{own_stage_report}/files/{own_stage_file}",
			otherPath:         "/stages/{stage}/reports/{other_stage_report}/files/{other_stage_file}",
			reviewerPath:      "/stages/{frozen_stage}/reports/{frozen_stage_report}/files/{frozen_stage_file}",
			reviewerOtherPath: "/stages/{stage}/reports/{own_stage_report}/files/{own_stage_file}",
			cells:             matrixCells(cellSignIn, cellOK, cellNotFound, cellOK, cellOK, cellOK, cellOK, cellNotFound)}},
		{"GET /officer/stages", matrixRow{path: "/officer/stages", cells: ministryPage}},
		{"POST /officer/stages", matrixRow{path: "/officer/stages", cells: ministryEmptyForm}},
		{"GET /officer/stages/:id", matrixRow{path: "/officer/stages/{stage}", cells: ministryPage}},
		{"POST /officer/stages/:id", matrixRow{path: "/officer/stages/{stage}", cells: ministryEmptyForm}},
		{"POST /officer/stages/:id/criteria", matrixRow{path: "/officer/stages/{stage}/criteria", cells: ministryEmptyForm}},
		// The frozen set refuses the change.
		{"POST /officer/stages/:id/criteria/:cid/remove", matrixRow{path: "/officer/stages/{frozen_stage}/criteria/{stage_criterion}/remove",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellConflict, cellConflict, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /officer/stages/:id/opinions", matrixRow{path: "/officer/stages/{stage}/opinions", cells: ministryEmptyForm}},
		{"POST /officer/stages/:id/opinions/:oid/answer", matrixRow{path: "/officer/stages/{stage}/opinions/{stage_opinion}/answer",
			cells: ministryEmptyForm}},
		// Without the confirmation: the page that asks for it.
		{"POST /officer/stages/:id/freeze", matrixRow{path: "/officer/stages/{stage}/freeze",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /officer/stages/:id/evaluators", matrixRow{path: "/officer/stages/{stage}/evaluators", cells: ministryEmptyForm}},
		{"POST /officer/stages/:id/results", matrixRow{path: "/officer/stages/{frozen_stage}/results", cells: ministryEmptyForm}},
		{"POST /officer/stages/:id/decision", matrixRow{path: "/officer/stages/{frozen_stage}/decision", cells: ministryEmptyForm}},
		{"GET /evaluations", matrixRow{path: "/evaluations", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellOK, cellOK)}},
		// The admin is no evaluator of the stage: "not found" to them. The
		// external evaluator is assigned to {frozen_stage}, not to {stage}.
		{"GET /evaluations/:id", matrixRow{path: "/evaluations/{frozen_stage}", reviewerPath: "/evaluations/{frozen_stage}", reviewerOtherPath: "/evaluations/{stage}", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellOK, cellNotFound, cellForbidden, cellOK, cellNotFound)}},
		{"POST /evaluations/:id/teams/:org/conflict", matrixRow{path: "/evaluations/{frozen_stage}/teams/{own}/conflict", otherPath: "/evaluations/{frozen_stage}/teams/{other}/conflict",
			reviewerPath: "/evaluations/{frozen_stage}/teams/{own}/conflict", reviewerOtherPath: "/evaluations/{stage}/teams/{own}/conflict", cells: matrixCells(
				cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellNotFound, cellForbidden, cellUnprocessable, cellNotFound)}},
		{"POST /evaluations/:id/teams/:org/scores", matrixRow{path: "/evaluations/{frozen_stage}/teams/{own}/scores", otherPath: "/evaluations/{frozen_stage}/teams/{other}/scores",
			reviewerPath: "/evaluations/{frozen_stage}/teams/{own}/scores", reviewerOtherPath: "/evaluations/{stage}/teams/{own}/scores", cells: matrixCells(
				cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellNotFound, cellForbidden, cellUnprocessable, cellNotFound)}},

		// Agreements. {own_agreement} is Upstage's, in force, {own_version}
		// its version 1; {other_agreement} is KAIST's, in force, with an
		// amendment in preparation ({draft_version}); Upstage is no party of
		// it. {signer} is Upstage's authorised signer.
		{"GET /agreements", matrixRow{path: "/agreements", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"GET /agreements/:id", matrixRow{path: "/agreements/{own_agreement}", otherPath: "/agreements/{other_agreement}", cells: ownObjectPage}},
		{"GET /agreements/:id/signatures", matrixRow{path: "/agreements/{own_agreement}/signatures",
			otherPath: "/agreements/{other_agreement}/signatures", cells: ownObjectPage}},
		{"GET /agreements/:id/versions/:vid/document", matrixRow{path: "/agreements/{own_agreement}/versions/{own_version}/document",
			otherPath: "/agreements/{other_agreement}/versions/{other_version}/document", cells: ownObjectPage}},
		// Without the hash of a version out for signature: refused as stale.
		{"POST /agreements/:id/versions/:vid/sign", matrixRow{path: "/agreements/{own_agreement}/versions/{own_version}/sign",
			otherPath: "/agreements/{other_agreement}/versions/{other_version}/sign",
			cells:     matrixCells(cellForbidden, cellConflict, cellNotFound, cellConflict, cellConflict, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /officer/agreements/new", matrixRow{path: "/officer/agreements/new", cells: ministryPage}},
		{"POST /officer/agreements", matrixRow{path: "/officer/agreements", cells: ministryEmptyForm}},
		{"GET /officer/agreements/:id/versions/new", matrixRow{path: "/officer/agreements/{own_agreement}/versions/new",
			otherPath: "/officer/agreements/{other_agreement}/versions/new", cells: ministryPage}},
		{"POST /officer/agreements/:id/versions", matrixRow{path: "/officer/agreements/{own_agreement}/versions",
			otherPath: "/officer/agreements/{other_agreement}/versions", cells: ministryEmptyForm}},
		{"GET /officer/agreements/:id/versions/:vid/edit", matrixRow{path: "/officer/agreements/{other_agreement}/versions/{draft_version}/edit",
			cells: ministryPage}},
		{"POST /officer/agreements/:id/versions/:vid", matrixRow{path: "/officer/agreements/{other_agreement}/versions/{draft_version}",
			cells: ministryEmptyForm}},
		// Without the confirmation: the page that asks for it.
		{"POST /officer/agreements/:id/versions/:vid/send", matrixRow{path: "/officer/agreements/{other_agreement}/versions/{draft_version}/send",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /officer/agreements/:id/notice", matrixRow{path: "/officer/agreements/{other_agreement}/notice", cells: ministryEmptyForm}},
		{"POST /officer/agreements/:id/terminate", matrixRow{path: "/officer/agreements/{other_agreement}/terminate", cells: ministryEmptyForm}},
		{"GET /officer/signers", matrixRow{path: "/officer/signers", cells: ministryPage}},
		{"POST /officer/signers", matrixRow{path: "/officer/signers", cells: ministryEmptyForm}},
		// Unmarking twice changes nothing the second time.
		{"POST /officer/signers/:uid/remove", matrixRow{path: "/officer/signers/{signer}/remove", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellSeeOther("/officer/signers?done=unmarked"),
			cellSeeOther("/officer/signers?done=unmarked"), cellForbidden, cellForbidden, cellForbidden)}},

		// K-AI naming rights. {own_grant} is Upstage's, {other_grant} KAIST's.
		{"GET /k-ai", matrixRow{path: "/k-ai", cells: sameCells(cellOK)}},
		{"GET /api/v1/k-ai/verify", matrixRow{path: "/api/v1/k-ai/verify?name=Solar%20Pro", cells: sameCells(cellOK)}},
		{"GET /officer/naming", matrixRow{path: "/officer/naming", cells: ministryPage}},
		{"POST /officer/naming", matrixRow{path: "/officer/naming", cells: ministryEmptyForm}},
		{"POST /officer/naming/:gid/revoke", matrixRow{path: "/officer/naming/{own_grant}/revoke",
			otherPath: "/officer/naming/{other_grant}/revoke", cells: ministryEmptyForm}},

		// Users, their roles and sessions (admins). The POSTs are sent empty:
		// the administrator's answer is the form's error (no role chosen, no
		// confirmation) and nothing changes.
		{"GET /admin/users", matrixRow{path: "/admin/users", cells: adminPage}},
		{"GET /admin/users/:id", matrixRow{path: "/admin/users/{demo_user}", cells: adminPage}},
		{"POST /admin/users/:id/role", matrixRow{path: "/admin/users/{demo_user}/role", cells: adminEmptyForm}},
		{"GET /admin/users/:id/end-sessions", matrixRow{path: "/admin/users/{demo_user}/end-sessions", cells: adminPage}},
		{"POST /admin/users/:id/end-sessions", matrixRow{path: "/admin/users/{demo_user}/end-sessions", cells: adminEmptyForm}},

		// One-off holidays and official lists (admins). {holiday} is a
		// one-off holiday, {holiday_list} and {holiday_list2} lists waiting
		// to be confirmed.
		{"GET /admin/holidays", matrixRow{path: "/admin/holidays", cells: adminPage}},
		{"POST /admin/holidays", matrixRow{path: "/admin/holidays", cells: adminEmptyForm}},
		{"POST /admin/holidays/:hid/remove", matrixRow{path: "/admin/holidays/{holiday}/remove", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellSeeOther("/admin/holidays?done=removed"), cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /admin/holidays/imports", matrixRow{path: "/admin/holidays/imports", cells: adminEmptyForm}},
		{"GET /admin/holidays/imports/:lid", matrixRow{path: "/admin/holidays/imports/{holiday_list}", cells: adminPage}},
		{"POST /admin/holidays/imports/:lid/confirm", matrixRow{path: "/admin/holidays/imports/{holiday_list}/confirm", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellForbidden,
			cellSeeOther("/admin/holidays/imports/{holiday_list}?done=confirmed"), cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /admin/holidays/imports/:lid/discard", matrixRow{path: "/admin/holidays/imports/{holiday_list2}/discard", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellForbidden,
			cellSeeOther("/admin/holidays/imports/{holiday_list2}?done=discarded"), cellForbidden, cellForbidden, cellForbidden)}},

		// GPU clusters and allocations. {cluster} has two nodes;
		// {own_alloc} gives Upstage the first, {other_alloc} KAIST the second.
		{"GET /admin/clusters", matrixRow{path: "/admin/clusters", cells: adminPage}},
		{"GET /admin/clusters/new", matrixRow{path: "/admin/clusters/new", cells: adminPage}},
		{"POST /admin/clusters", matrixRow{path: "/admin/clusters", cells: adminEmptyForm}},
		{"GET /admin/clusters/:id", matrixRow{path: "/admin/clusters/{cluster}", cells: adminPage}},
		{"POST /admin/clusters/:id", matrixRow{path: "/admin/clusters/{cluster}", cells: adminEmptyForm}},
		{"GET /gpus/clusters", matrixRow{path: "/gpus/clusters", cells: programmePage}},
		{"GET /gpus/clusters/:id", matrixRow{path: "/gpus/clusters/{cluster}", cells: programmePage}},
		{"GET /gpus/clusters/:id/downtime", matrixRow{path: "/gpus/clusters/{cluster}/downtime", cells: programmePage}},
		{"POST /officer/clusters/:id/downtime", matrixRow{path: "/officer/clusters/{cluster}/downtime", cells: ministryEmptyForm}},
		{"POST /officer/clusters/:id/downtime/import", matrixRow{path: "/officer/clusters/{cluster}/downtime/import", cells: ministryEmptyForm}},
		{"GET /officer/allocations/new", matrixRow{path: "/officer/allocations/new", cells: ministryPage}},
		{"POST /officer/allocations/new", matrixRow{path: "/officer/allocations/new", cells: ministryEmptyForm}},
		// The allocation lifecycle, for the ministry: the forms sent empty
		// are refused by validation (an early end and a replacement before
		// their confirmation page).
		{"GET /officer/allocations/:id/change", matrixRow{path: "/officer/allocations/{own_alloc}/change",
			otherPath: "/officer/allocations/{other_alloc}/change", cells: ministryPage}},
		{"POST /officer/allocations/:id/period", matrixRow{path: "/officer/allocations/{own_alloc}/period",
			otherPath: "/officer/allocations/{other_alloc}/period", cells: ministryEmptyForm}},
		{"POST /officer/allocations/:id/end", matrixRow{path: "/officer/allocations/{own_alloc}/end",
			otherPath: "/officer/allocations/{other_alloc}/end", cells: ministryEmptyForm}},
		{"POST /officer/allocations/:id/add", matrixRow{path: "/officer/allocations/{own_alloc}/add",
			otherPath: "/officer/allocations/{other_alloc}/add", cells: ministryEmptyForm}},
		{"POST /officer/allocations/:id/replace", matrixRow{path: "/officer/allocations/{own_alloc}/replace",
			otherPath: "/officer/allocations/{other_alloc}/replace", cells: ministryEmptyForm}},
		{"GET /allocations", matrixRow{path: "/allocations", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"GET /allocations/:id", matrixRow{path: "/allocations/{own_alloc}", otherPath: "/allocations/{other_alloc}", cells: ownObjectPage}},
		{"GET /allocations/:id/series", matrixRow{path: "/allocations/{own_alloc}/series", otherPath: "/allocations/{other_alloc}/series",
			cells: ownObjectPage}},
		// GPU figures per team and month: {own} is Upstage, {other} KAIST.
		{"GET /gpus/usage", matrixRow{path: "/gpus/usage", cells: programmePage}},
		{"GET /gpus/usage/:org", matrixRow{path: "/gpus/usage/{own}", otherPath: "/gpus/usage/{other}", cells: ownObjectPage}},
		{"GET /gpus/usage/:org/export", matrixRow{path: "/gpus/usage/{own}/export?format=csv", otherPath: "/gpus/usage/{other}/export?format=xlsx",
			cells: ownObjectPage}},
		// Usage reports: {own_report} is Upstage's draft of {report_month}, {other_report} KAIST's.
		// A draft cannot be verified or signed off (409); a return needs a note (422).
		{"GET /company/usage-reports", matrixRow{path: "/company/usage-reports", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /usage-reports/allocations/:id/:month", matrixRow{path: "/usage-reports/allocations/{own_alloc}/{report_month}",
			otherPath: "/usage-reports/allocations/{other_alloc}/{report_month}", cells: matrixCells(
				cellSignIn, cellOK, cellNotFound, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /usage-reports/allocations/:id/:month", matrixRow{path: "/usage-reports/allocations/{own_alloc}/{report_month}",
			otherPath: "/usage-reports/allocations/{other_alloc}/{report_month}", cells: companyPost(cellUnprocessable)}},
		{"GET /usage-reports/:rid", matrixRow{path: "/usage-reports/{own_report}", otherPath: "/usage-reports/{other_report}", cells: ownObjectPage}},
		{"POST /usage-reports/:rid/verify", matrixRow{path: "/usage-reports/{own_report}/verify", otherPath: "/usage-reports/{other_report}/verify",
			cells: matrixCells(cellForbidden, cellConflict, cellNotFound, cellConflict, cellConflict, cellConflict, cellForbidden, cellForbidden)}},
		{"POST /usage-reports/:rid/return", matrixRow{path: "/usage-reports/{own_report}/return", otherPath: "/usage-reports/{other_report}/return",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellForbidden, cellForbidden)}},
		{"POST /usage-reports/:rid/sign-off", matrixRow{path: "/usage-reports/{own_report}/sign-off", otherPath: "/usage-reports/{other_report}/sign-off",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellConflict, cellForbidden, cellForbidden)}},
		{"GET /auditor/usage-reports", matrixRow{path: "/auditor/usage-reports", cells: programmePage}},
		// Providers' invoice lines: {invoice} is a line for {own_alloc}'s month that
		// an auditor returned: it cannot be verified or signed off (409).
		{"GET /officer/invoices", matrixRow{path: "/officer/invoices", cells: ministryPage}},
		{"POST /officer/invoices", matrixRow{path: "/officer/invoices", cells: ministryEmptyForm}},
		{"POST /officer/invoices/import", matrixRow{path: "/officer/invoices/import", cells: ministryEmptyForm}},
		{"GET /invoices/:iid", matrixRow{path: "/invoices/{invoice}", cells: programmePage}},
		{"POST /invoices/:iid/verify", matrixRow{path: "/invoices/{invoice}/verify",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellConflict, cellConflict, cellConflict, cellForbidden, cellForbidden)}},
		{"POST /invoices/:iid/return", matrixRow{path: "/invoices/{invoice}/return",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellForbidden, cellForbidden)}},
		{"POST /invoices/:iid/sign-off", matrixRow{path: "/invoices/{invoice}/sign-off",
			cells: matrixCells(cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellConflict, cellForbidden, cellForbidden)}},
		{"GET /auditor/usage-summary", matrixRow{path: "/auditor/usage-summary?month={report_month}", cells: programmePage}},
		{"GET /auditor/usage-summary/export", matrixRow{path: "/auditor/usage-summary/export?month={report_month}&format=xlsx", cells: programmePage}},
		{"GET /auditor/usage-export", matrixRow{path: "/auditor/usage-export?from={report_month}&to={report_month}&format=csv", cells: programmePage}},
		{"GET /officer/usage-settings", matrixRow{path: "/officer/usage-settings", cells: ministryPage}},
		{"POST /officer/usage-settings", matrixRow{path: "/officer/usage-settings", cells: ministryEmptyForm}},

		// Data support. {survey} is open; {own_purchase} goes to Upstage (and
		// KAIST), {other_purchase} to KAIST alone; their one source
		// ({source}) is still negotiating, so a delivery is refused (409)
		// and nothing changes. Surveys are the programme's: every
		// signed-in role reads one, each team only its own demand in it.
		{"GET /data", matrixRow{path: "/data", cells: matrixCells(cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"POST /officer/data/surveys", matrixRow{path: "/officer/data/surveys", cells: ministryEmptyForm}},
		{"GET /data/surveys/:id", matrixRow{path: "/data/surveys/{survey}", cells: matrixCells(cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"POST /data/surveys/:id/demand", matrixRow{path: "/data/surveys/{survey}/demand", cells: matrixCells(
			cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellForbidden)}},
		{"POST /officer/data/surveys/:id/purchases", matrixRow{path: "/officer/data/surveys/{survey}/purchases", cells: ministryEmptyForm}},
		{"GET /data/purchases/:id", matrixRow{path: "/data/purchases/{own_purchase}", otherPath: "/data/purchases/{other_purchase}", cells: ownObjectPage}},
		{"POST /data/purchases/:id/deliveries/:did", matrixRow{path: "/data/purchases/{own_purchase}/deliveries/{own_delivery}",
			otherPath: "/data/purchases/{other_purchase}/deliveries/{other_delivery}",
			cells:     matrixCells(cellForbidden, cellForbidden, cellForbidden, cellConflict, cellConflict, cellForbidden, cellForbidden, cellForbidden)}},
		{"GET /data/sources", matrixRow{path: "/data/sources", cells: programmePage}},
		{"POST /officer/data/sources", matrixRow{path: "/officer/data/sources", cells: ministryEmptyForm}},
		{"POST /officer/data/sources/:id", matrixRow{path: "/officer/data/sources/{source}", cells: ministryEmptyForm}},
		// Dataset projects: {own_project} is Upstage's, {other_project} KAIST's.
		{"GET /data/projects", matrixRow{path: "/data/projects", cells: matrixCells(cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"POST /officer/data/projects", matrixRow{path: "/officer/data/projects", cells: ministryEmptyForm}},
		{"GET /data/projects/:id", matrixRow{path: "/data/projects/{own_project}", otherPath: "/data/projects/{other_project}", cells: ownObjectPage}},
		{"POST /officer/data/projects/:id", matrixRow{path: "/officer/data/projects/{own_project}", otherPath: "/officer/data/projects/{other_project}",
			cells: ministryEmptyForm}},
		// Talent: {own_talent} is Upstage's line, {other_talent} KAIST's, each with a PDF as evidence.
		{"GET /talent", matrixRow{path: "/talent", cells: matrixCells(cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"POST /officer/talent", matrixRow{path: "/officer/talent", cells: ministryEmptyForm}},
		{"GET /talent/:id/evidence", matrixRow{path: "/talent/{own_talent}/evidence", otherPath: "/talent/{other_talent}/evidence", cells: ownObjectPage}},
		// The support summary: a company's page has its own row only (TestDataSupportPages).
		{"GET /support", matrixRow{path: "/support", cells: matrixCells(cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK, cellForbidden, cellForbidden)}},
		{"GET /support/export", matrixRow{path: "/support/export?format=csv", cells: programmePage}},
		{"GET /support/figures", matrixRow{path: "/support/figures", cells: sameCells(cellOK)}},
	})
}

// matrixFixture is the programme story told once, with every object a
// sample path names: the organisations' own and another's.
type matrixFixture struct {
	*story
	app            *testApp
	upstage, kaist *models.Organisation
	vars           map[string]string // placeholder → value
}

// newMatrixFixture tells the story, from the demo data at 2026-11-27
// 14:00 KST:
//   - {call}: Upstage (selected) and KAIST (not selected) apply, are scored
//     and decided ({decision}); a second call decides KAIST alone
//     ({other_decision}); a third has Naver Cloud's submission waiting for
//     the demo officer's declaration ({review}) and the external
//     evaluator's ({rev_review}, on {rev_app}, with its document
//     {rev_doc}), and Kakao's, not assigned to the evaluator ({norev_app},
//     {norev_doc});
//   - Upstage appeals ({own_appeal}, under review) and KAIST appeals
//     ({other_appeal}, dismissed), each with evidence;
//   - {open_call} is open for a month with drafts of Upstage and KAIST, each
//     with two members (invited and accepted) and one of two required
//     documents; {apply_call} is open with no application;
//   - consortium requests on the selected teams ({own_sel_app} Upstage's,
//     {other_sel_app} KAIST's): a change waiting for an officer, an
//     invitation each to withdraw, and invitations of Upstage (and of Naver
//     Cloud, another organisation's) to accept or decline;
//   - a one-off holiday and two imported lists waiting to be confirmed;
//   - a GPU cluster of two nodes, one allocated to Upstage, one to KAIST;
//   - naming rights for Upstage and KAIST.
func newMatrixFixture(t *testing.T, kind testdb.Kind) *matrixFixture {
	t.Helper()
	s := newStory(t, kind, nil)
	f := &matrixFixture{story: s, app: s.app, upstage: s.org("upstage"), kaist: s.org("kaist")}

	decided := s.decidedCall("2027년 정예팀 공모", applicant{"upstage", 9, true}, applicant{"kaist", 6, false})
	other := s.decidedCall("2027년 특별 공모", applicant{"kaist", 8, true})
	pending := s.closedCall("2027년 심사 공모", "naver-cloud", "kakao")
	review := s.assign(pending.apps["naver-cloud"], s.officer())
	// The external evaluator reviews Naver Cloud's submission too, not Kakao's.
	revApp, norevApp := pending.apps["naver-cloud"], pending.apps["kakao"]
	revReview := s.assign(revApp, s.user("demo-reviewer"))
	revDoc, norevDoc := s.firstDocument(revApp), s.firstDocument(norevApp)

	ownAppeal := s.fileAppeal(decided.decision, "upstage", "평가위원 구성이 공고와 달랐습니다.", storePDF("회의록.pdf"))
	otherAppeal := s.fileAppeal(decided.decision, "kaist", "점수 합산에 오류가 있습니다.", storePDF("의견서.pdf"))
	s.appealStep(ownAppeal, models.AppealStartReview, "")
	s.answerAppeal(otherAppeal, models.AppealDismiss, "평가 기록을 다시 확인한 결과 합산에 오류가 없었습니다.")

	now := s.now()
	open := s.newCall("2027년 상시 공모", now.Add(-time.Hour), now.Add(30*24*time.Hour), "사업계획서", "예산서")
	ownApp, otherApp := s.draft(open, "upstage"), s.draft(open, "kaist")
	ownMember := s.member(ownApp, "naver-cloud", models.MemberModel)
	otherMember := s.member(otherApp, "kakao", models.MemberModel)
	ownMember2 := s.member(ownApp, "lunit", models.MemberData)
	otherMember2 := s.member(otherApp, "lunit", models.MemberData)
	// Consortium requests: on the selected teams (Upstage in {call}, KAIST in
	// the other call), Upstage's change of its own share waiting for an
	// officer and its invitation of Lunit; KAIST's invitations of Upstage
	// (to a selected team and to a draft) and of Naver Cloud.
	ownSel, otherSel := decided.apps["upstage"], other.apps["kaist"]
	change := s.consortiumRequest(ownSel.ID, models.ChangeInput{Kind: models.RequestChange,
		MemberID: itoa(s.memberOf(ownSel.ID, "upstage")), Terms: models.MemberTermsInput{Share: "60"}})
	ownWithdraw, otherWithdraw := s.inviteTo(ownSel.ID, "lunit", models.MemberData), s.inviteTo(otherSel.ID, "lunit", models.MemberData)
	ownInvitation := s.inviteTo(otherSel.ID, "upstage", models.MemberModel)
	ownInvitation2 := s.inviteToDraft(otherApp, "upstage", models.MemberModel)
	otherInvitation := s.inviteTo(otherSel.ID, "naver-cloud", models.MemberGPU)
	ownDoc := s.attach(ownApp, open, 0, storePDF("사업계획서.pdf"))
	otherDoc := s.attach(otherApp, open, 0, storePDF("사업계획서.pdf"))
	apply := s.newCall("2027년 2차 공모", now.Add(-time.Hour), now.Add(30*24*time.Hour), "사업계획서")

	holiday := s.holiday("2027-06-15", "임시공휴일", "Temporary holiday")
	list, list2 := s.holidayList(2028), s.holidayList(2029)

	cluster, _ := s.cluster("kt-b200-1", 2)
	ownAlloc := s.allocate(cluster, "upstage", "kt-gn001")
	otherAlloc := s.allocate(cluster, "kaist", "kt-gn002")

	reportMonth := models.MonthOf(now).String() // the allocations' month
	ownReport := s.usageDraft(ownAlloc, reportMonth)
	otherReport := s.usageDraft(otherAlloc, reportMonth)
	invoice := s.invoiceLine(ownAlloc, reportMonth)

	ownAgreement := s.agreements(decided.decision, false)["upstage"]
	otherAgreement := s.agreements(other.decision, false)["kaist"]
	draft, errs, err := models.PrepareVersion(t.Context(), s.app.db, otherAgreement.ID, models.VersionInput{StartDate: otherAgreement.Versions[0].StartDate,
		EndDate: "2028-12-31", GPUCount: "0"}, s.officer(), now)
	if err != nil {
		t.Fatalf("amendment: %v %v", err, errs)
	}
	var signer models.AgreementSigner
	if err := s.app.db.Where("organisation_id = ?", f.upstage.ID).First(&signer).Error; err != nil {
		t.Fatal(err)
	}
	stage := s.stage("2027년 1차 단계평가", 5*24*time.Hour, "upstage", "kaist")
	frozenStage := s.stage("2027년 2차 단계평가", time.Hour, "upstage")
	s.freezeStage(frozenStage, now.Add(2*time.Hour))
	if err := models.AssignStageEvaluator(t.Context(), s.app.db, frozenStage.ID, s.user("demo-reviewer").ID, s.officer(), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ownGrant := s.grant("upstage", decided.decision, models.NamingModel, "Solar Pro", "")
	otherGrant := s.grant("kaist", other.decision, models.NamingModel, "KAIST LLM", "")

	survey, ownPurchase, otherPurchase, source := s.dataSupport(f.upstage, f.kaist)

	// The own objects are Upstage's and the other ones KAIST's.
	for what, ids := range map[string][2]uint{
		"application":  {ownApp.LeadOrgID, otherApp.LeadOrgID},
		"appeal":       {ownAppeal.OrganisationID, otherAppeal.OrganisationID},
		"allocation":   {ownAlloc.OrganisationID, otherAlloc.OrganisationID},
		"naming grant": {ownGrant.HolderID, otherGrant.HolderID},
		"agreement":    {ownAgreement.OrganisationID, otherAgreement.OrganisationID},
	} {
		if ids != [2]uint{f.upstage.ID, f.kaist.ID} {
			t.Fatalf("the %ss belong to organisations %v, want Upstage %d and KAIST %d", what, ids, f.upstage.ID, f.kaist.ID)
		}
	}
	if _, ok := other.decision.Entry(f.upstage.ID); ok {
		t.Fatal("the other decision concerns Upstage")
	}

	ownMsg, otherMsg := s.notice(s.user("demo-company-upstage"), decided.decision.ID), s.notice(s.user("demo-company-kaist"), other.decision.ID)

	f.vars = map[string]string{
		"hash":                static.Hash,
		"own":                 itoa(f.upstage.ID),
		"other":               itoa(f.kaist.ID),
		"demo_user":           itoa(s.user("demo-company-upstage").ID),
		"call":                itoa(decided.ID),
		"decision":            itoa(decided.decision.ID),
		"other_decision":      itoa(other.decision.ID),
		"review":              itoa(review),
		"rev_review":          itoa(revReview),
		"rev_app":             itoa(revApp.ID),
		"norev_app":           itoa(norevApp.ID),
		"rev_doc":             itoa(revDoc),
		"norev_doc":           itoa(norevDoc),
		"own_appeal":          itoa(ownAppeal.ID),
		"other_appeal":        itoa(otherAppeal.ID),
		"own_evidence":        itoa(ownAppeal.Evidence[0].ID),
		"other_evidence":      itoa(otherAppeal.Evidence[0].ID),
		"open_call":           itoa(open.ID),
		"apply_call":          itoa(apply.ID),
		"own_app":             itoa(ownApp.ID),
		"other_app":           itoa(otherApp.ID),
		"own_member":          itoa(ownMember),
		"own_member2":         itoa(ownMember2),
		"other_member2":       itoa(otherMember2),
		"own_sel_app":         itoa(ownSel.ID),
		"other_sel_app":       itoa(otherSel.ID),
		"change_request":      itoa(change.ID),
		"own_withdraw":        itoa(ownWithdraw.ID),
		"other_withdraw":      itoa(otherWithdraw.ID),
		"own_invitation":      itoa(ownInvitation.ID),
		"own_invitation2":     itoa(ownInvitation2.ID),
		"other_invitation":    itoa(otherInvitation.ID),
		"other_member":        itoa(otherMember),
		"own_doc":             itoa(ownDoc),
		"other_doc":           itoa(otherDoc),
		"holiday":             itoa(holiday.ID),
		"holiday_list":        itoa(list.ID),
		"holiday_list2":       itoa(list2.ID),
		"cluster":             itoa(cluster.ID),
		"own_alloc":           itoa(ownAlloc.ID),
		"other_alloc":         itoa(otherAlloc.ID),
		"own_grant":           itoa(ownGrant.ID),
		"own_report":          itoa(ownReport.ID),
		"other_report":        itoa(otherReport.ID),
		"report_month":        reportMonth,
		"invoice":             itoa(invoice.ID),
		"other_grant":         itoa(otherGrant.ID),
		"own_agreement":       itoa(ownAgreement.ID),
		"other_agreement":     itoa(otherAgreement.ID),
		"own_version":         itoa(ownAgreement.Versions[0].ID),
		"other_version":       itoa(otherAgreement.Versions[0].ID),
		"draft_version":       itoa(draft.ID),
		"signer":              itoa(signer.UserID),
		"survey":              itoa(survey.ID),
		"own_purchase":        itoa(ownPurchase.ID),
		"other_purchase":      itoa(otherPurchase.ID),
		"own_delivery":        itoa(ownPurchase.Deliveries[0].ID),
		"other_delivery":      itoa(otherPurchase.Deliveries[0].ID),
		"source":              itoa(source.ID),
		"own_project":         itoa(s.datasetProject(f.upstage).ID),
		"other_project":       itoa(s.datasetProject(f.kaist).ID),
		"own_talent":          itoa(s.talentLine(f.upstage).ID),
		"other_talent":        itoa(s.talentLine(f.kaist).ID),
		"stage":               itoa(stage.ID),
		"frozen_stage":        itoa(frozenStage.ID),
		"stage_opinion":       itoa(stage.opinion),
		"stage_criterion":     itoa(frozenStage.crit["tech"]),
		"frozen_stage_report": itoa(frozenStage.reports["upstage"]),
		"frozen_stage_file":   itoa(frozenStage.files["upstage"]),
		"own_stage_report":    itoa(stage.reports["upstage"]),
		"other_stage_report":  itoa(stage.reports["kaist"]),
		"own_stage_file":      itoa(stage.files["upstage"]),
		"other_stage_file":    itoa(stage.files["kaist"]),
		"own_msg":             itoa(ownMsg),
		"other_msg":           itoa(otherMsg),
	}
	return f
}

var matrixPlaceholder = regexp.MustCompile(`\{[a-z_0-9]+\}`)

// expand replaces the placeholders of s; an unknown one stays as it is.
func (f *matrixFixture) expand(s string) string {
	return matrixPlaceholder.ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := f.vars[p[1:len(p)-1]]; ok {
			return v
		}
		return p
	})
}

// client returns a browser signed in for the column (none for anonymous).
func (f *matrixFixture) client(role matrixRole) *testClient {
	if subject, ok := matrixSubjects[role]; ok {
		return f.signIn(subject)
	}
	return f.app.client()
}

// matrixBrowser is a column's browser with its CSRF token read once.
type matrixBrowser struct {
	*testClient
	token string
}

// send makes the cell's request: a GET, or a POST of the form with the CSRF
// token, as multipart/form-data to a route that takes files.
func (b *matrixBrowser) send(method, path string, form url.Values, upload bool) *http.Response {
	b.app.t.Helper()
	if method == http.MethodGet {
		return b.get(path)
	}
	if b.token == "" {
		b.token = b.csrfToken()
	}
	if !upload {
		f := url.Values{"_csrf": {b.token}}
		for k, vs := range form {
			f[k] = vs
		}
		return b.post(path, f)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", b.token) // the first part, as the upload check wants it
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// checkMatrixRow checks what a row itself promises: each parameter of the
// route is a story object, never a literal id; a row on an organisation's
// own object also tries another organisation's, where the company gets
// what the object's existence does not tell.
func checkMatrixRow(t *testing.T, rt Route, row matrixRow) {
	t.Helper()
	key := rt.Method + " " + rt.Path
	want := strings.Split(rt.Path, "/")
	for _, p := range []string{row.path, row.otherPath, row.reviewerPath, row.reviewerOtherPath} {
		if p == "" {
			continue
		}
		p, _, _ = strings.Cut(p, "?")
		got := strings.Split(p, "/")
		if len(got) < len(want) {
			t.Errorf("%s: sample path %q is shorter than the route", key, p)
			continue
		}
		for i, seg := range want {
			if strings.HasPrefix(seg, ":") && !matrixPlaceholder.MatchString(got[i]) {
				t.Errorf("%s: sample path %q gives %s the literal %q: name a story object ({...})", key, p, seg, got[i])
			}
		}
	}
	if strings.Contains(row.path, "{own") && !strings.Contains(row.otherPath, "{other") {
		t.Errorf("%s: the row tries the company's own object but no other organisation's (otherPath)", key)
	}
	if (row.reviewerPath == "") != (row.reviewerOtherPath == "") {
		t.Errorf("%s: the row tries the evaluator on an assigned object or on one not assigned, not both", key)
	}
	if row.reviewerPath != "" && row.cells[asReviewer].status == http.StatusNotFound {
		t.Errorf("%s: the evaluator's assigned object is \"not found\": the fixture's object is not assigned to them", key)
	}
	if row.otherPath != "" && row.cells[asCompany].status == http.StatusNotFound {
		t.Errorf("%s: the company's own object is \"not found\": the fixture's object is not theirs or not real", key)
	}
}

func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newMatrixFixture(t, kind)
		matrix := authzMatrix()

		// One signed-in browser per column; a row marked fresh gets a new
		// one per cell.
		browsers := map[matrixRole]*matrixBrowser{}
		for _, r := range matrixRoles {
			browsers[r] = &matrixBrowser{testClient: f.client(r)}
		}

		registered := map[string]bool{}
		for _, rt := range f.app.h.routes() {
			key := rt.Method + " " + rt.Path
			registered[key] = true
			row, ok := matrix[key]
			if !ok {
				t.Errorf("route %q has no row in authzMatrix: add one in authz_matrix_test.go with the expected answer for every role", key)
				continue
			}
			checkMatrixRow(t, rt, row)
			if rt.Method != http.MethodGet && rt.Method != http.MethodPost {
				t.Fatalf("%s: the matrix test does not know how to send %s", key, rt.Method)
			}
			form := url.Values{}
			for k, vs := range row.form {
				for _, v := range vs {
					form.Add(k, f.expand(v))
				}
			}
			for _, role := range matrixRoles {
				w, ok := row.cells[role]
				if !ok {
					t.Errorf("%s: authzMatrix has no cell for role %s", key, role)
					continue
				}
				path := f.expand(row.pathFor(role))
				if strings.Contains(path, "{") {
					t.Errorf("%s: unknown placeholder in sample path %q", key, path)
					continue
				}
				b := browsers[role]
				if row.fresh {
					b = &matrixBrowser{testClient: f.client(role)}
				}
				resp := b.send(rt.Method, path, form, rt.Access.Upload)
				checkMatrixCell(t, f, key+" as "+string(role)+" ("+path+")", path, resp, w)
			}
		}
		for key := range matrix {
			if !registered[key] {
				t.Errorf("authzMatrix has a row for %q, which routes() no longer registers: remove or rename it", key)
			}
		}
	})
}

// TestAuthorisationMatrixRefusesDuplicateRows: two rows for one route stop
// the matrix from being built.
func TestAuthorisationMatrixRefusesDuplicateRows(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "GET /help") {
			t.Errorf("a duplicate row: recovered %v, want a panic naming the route", r)
		}
	}()
	row := matrixRow{path: "/help", cells: sameCells(cellOK)}
	newAuthzMatrix([]matrixEntry{{"GET /", row}, {"GET /help", row}, {"GET /help", row}})
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
	case http.StatusOK, http.StatusUnprocessableEntity:
		// The page itself (a 422 is its form again, with what was wrong).
		if errPage.Length() > 0 {
			t.Errorf("%s: %d with an error page", what, w.status)
		}
	}
}

// TestCompanyIsolation checks in page content that a company user sees their
// own organisation and nothing of any other.
func TestCompanyIsolation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		up, kaistOrg := s.org("upstage"), s.org("kaist")
		orgs, err := models.ListOrganisations(t.Context(), s.app.db)
		if err != nil {
			t.Fatal(err)
		}

		upstage := s.signIn("demo-company-upstage")

		// Their own organisation: its name, and no other organisation's.
		resp := upstage.get("/organisations/" + itoa(up.ID))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("own organisation: status %d, want 200", resp.StatusCode)
		}
		doc := upstage.page(resp)
		if got := strings.TrimSpace(doc.Find(`[data-testid="organisation-name"]`).Text()); got != up.NameKO {
			t.Errorf("own organisation page names %q, want %q", got, up.NameKO)
		}
		main := doc.Find("main").Text()
		for _, o := range orgs {
			if o.ID == up.ID {
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
		if got := strings.TrimSpace(doc.Find(`[data-testid="company-org"]`).Text()); got != up.NameKO {
			t.Errorf("company dashboard names %q, want %q", got, up.NameKO)
		}

		// Another organisation, an unknown one and a malformed id answer the
		// same 404: the answer does not even confirm that it exists.
		for _, path := range []string{
			"/organisations/" + itoa(kaistOrg.ID),
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
			if main := doc.Find("main").Text(); strings.Contains(main, kaistOrg.NameKO) || strings.Contains(main, kaistOrg.NameEN) {
				t.Errorf("company GET %s: the 404 page shows KAIST's name", path)
			}
		}

		// The other company user is kept out of Upstage's page the same way.
		kaist := s.signIn("demo-company-kaist")
		resp = kaist.get("/organisations/" + itoa(up.ID))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("KAIST user on Upstage's page: status %d, want 404", resp.StatusCode)
		}
		if main := kaist.page(resp).Find("main").Text(); strings.Contains(main, up.NameKO) {
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
		if slices.Contains(hrefs, "/organisations") || !slices.Contains(hrefs, "/organisations/"+itoa(up.ID)) {
			t.Errorf("company navigation %v: want a link to their own organisation and none to the list", hrefs)
		}
	})
}
