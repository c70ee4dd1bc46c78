package handlers

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// The demo with this many more applications on the 2025 call (150 in all),
// and moreObjects more of everything else the pages list (see
// seedMoreGPUsAndAppeals), is the large dataset of the statement count test.
const (
	moreApplications = 135
	moreObjects      = 12
)

// skippedStatementPages are the GET routes the statement count test does not
// request, with the reason; every other GET route is requested.
var skippedStatementPages = map[string]string{}

// notFoundVisits are the requests of the statement count test that answer
// 404 by design, with the reason; any other 404 means a sample object is wrong.
var notFoundVisits = map[string]string{
	"anonymous GET /auth/login":       "the tests configure no OIDC provider",
	"anonymous GET /auth/callback":    "the tests configure no OIDC provider",
	"demo-admin GET /reviews/:aid":    "the sample assignment is the demo officer's, not the admin's",
	"demo-admin GET /evaluations/:id": "the demo officer evaluates the sample stage, not the admin",
}

// companyFor names the company user who requests a route when it is not the
// demo company upstage: the appeal is KAIST's.
var companyFor = map[string]string{
	"/appeals/:id":               "demo-company-kaist",
	"/appeals/:id/evidence/:eid": "demo-company-kaist",
}

// visitRoles are the demo users who request a route: every role its guard
// lets in ("" is the anonymous visitor).
var visitRoles = map[models.Role]string{
	models.RoleOfficer:  "demo-officer",
	models.RoleAdmin:    "demo-admin",
	models.RoleAuditor:  "demo-auditor",
	models.RoleCompany:  "demo-company-upstage",
	models.RoleReviewer: "demo-reviewer",
}

// reviewerSample is the prefix of the samples (seedStatementDemo) that the
// external evaluator requests instead of the route's: an object assigned
// to them.
const reviewerSample = "reviewer "

// TestStatementCountsDoNotGrowWithData: every GET page of the route table,
// requested by every role its guard admits with real objects for its
// parameters, runs as many SQL statements on the demo with 15 applications
// and one more of each other object as on the demo with 150 applications
// and moreObjects more GPUs, allocations, downtimes, allocation changes and
// appeals (no query per row).
func TestStatementCountsDoNotGrowWithData(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		small := pageStatements(t, kind, 0)
		large := pageStatements(t, kind, moreApplications)
		keys := make([]string, 0, len(small))
		for k := range small {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var grown []string
		for _, k := range keys {
			s, l := small[k], large[k]
			if s.status != l.status {
				t.Errorf("%s: status %d with 15 applications, %d with 150", k, s.status, l.status)
			}
			if len(s.sqls) != len(l.sqls) {
				grown = append(grown, fmt.Sprintf("%s: %d statements with 15 applications, %d with 150", k, len(s.sqls), len(l.sqls)))
				t.Logf("%s with 150 applications:\n  %s", k, strings.Join(l.sqls, "\n  "))
			}
		}
		if len(grown) > 0 {
			t.Errorf("pages whose statement count grows with the data:\n%s", strings.Join(grown, "\n"))
		}
	})
}

type pageRun struct {
	status int
	sqls   []string
}

// pageStatements seeds the demo (with more extra applications on the 2025
// call) and requests every GET route, returning per "role GET path" the
// response status and the statements run.
func pageStatements(t *testing.T, kind testdb.Kind, more int) map[string]pageRun {
	t.Helper()
	app := newTestApp(t, kind, nil)
	samples := seedStatementDemo(t, app, more)
	clients := map[string]*testClient{"": app.client()}
	for _, subject := range append(mapValues(visitRoles), mapValues(companyFor)...) {
		c := app.client()
		c.signInDemo(subject)
		clients[subject] = c
	}
	counter := countStatements(t, app.db)
	runs := map[string]pageRun{}
	for _, r := range app.h.routes() {
		if r.Method != http.MethodGet {
			continue
		}
		if _, skip := skippedStatementPages[r.Path]; skip {
			continue
		}
		path := r.Path
		if sample, ok := samples[r.Path]; ok {
			path = sample
		}
		if strings.Contains(path, ":") || strings.Contains(path, "*") {
			t.Fatalf("GET %s: no sample object for its parameters; give one or list the route in skippedStatementPages", r.Path)
		}
		var subjects []string
		switch {
		case r.Access.Public:
			subjects = []string{""}
		case len(r.Access.Roles) == 0:
			subjects = []string{visitRoles[models.RoleOfficer]}
		}
		for _, role := range r.Access.Roles {
			subject := visitRoles[role]
			if other, ok := companyFor[r.Path]; ok && role == models.RoleCompany {
				subject = other
			}
			subjects = append(subjects, subject)
		}
		for _, subject := range subjects {
			path := path
			if sample, ok := samples[reviewerSample+r.Path]; ok && subject == visitRoles[models.RoleReviewer] {
				path = sample
			}
			c := clients[subject]
			var status int
			sqls := counter.around(func() {
				resp := c.get(path)
				readAll(resp)
				status = resp.StatusCode
			})
			key := fmt.Sprintf("%s GET %s", cmp.Or(subject, "anonymous"), r.Path)
			_, notFound := notFoundVisits[key]
			if status >= 500 || (status == http.StatusNotFound) != notFound {
				t.Errorf("%s (%s): status %d", key, path, status)
			}
			runs[key] = pageRun{status: status, sqls: sqls}
		}
	}
	return runs
}

func mapValues[K comparable](m map[K]string) []string {
	vs := make([]string, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

// seedStatementDemo seeds the whole demo as the portal's demo mode does, an
// appeal and an imported holiday list, then more applications on the 2025
// call; it returns, for each route with parameters, the path with real
// objects: the demo company upstage's own where the route shows one.
func seedStatementDemo(t *testing.T, app *testApp, more int) map[string]string {
	t.Helper()
	ctx := t.Context()
	db, now := app.db, app.clock.Now()
	if err := demo.SeedApplications(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAgreements(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedConsortia(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedGPUs(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedUsageReports(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedSupport(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAdditionalCall(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	user := func(subject string) *models.User {
		var u models.User
		if err := db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
			t.Fatalf("demo user %s: %v", subject, err)
		}
		return &u
	}
	upstage, admin, kaist := user("demo-company-upstage"), user("demo-admin"), user("demo-company-kaist")

	var call models.Call
	must(t, db.Order("id").First(&call).Error)
	var decision, additional models.Decision
	must(t, db.Where("call_id = ?", call.ID).Order("id").First(&decision).Error)
	must(t, db.Where("call_id <> ?", call.ID).Order("id").First(&additional).Error)
	var application models.Application
	must(t, db.Where("call_id = ? AND lead_org_id = ?", call.ID, *upstage.OrganisationID).First(&application).Error)
	var document models.ApplicationDocument
	must(t, db.Where("application_id = ?", application.ID).Order("id").First(&document).Error)
	var assignment models.ReviewAssignment
	must(t, db.Where("application_id = ? AND reviewer_id = ?", application.ID, user("demo-officer").ID).First(&assignment).Error)
	var evaluated models.ReviewAssignment
	must(t, db.Where("reviewer_id = ? AND conflict = ?", user("demo-reviewer").ID, models.ConflictNone).First(&evaluated).Error)
	var evaluatedDoc models.ApplicationDocument
	must(t, db.Where("application_id = ?", evaluated.ApplicationID).Order("id").First(&evaluatedDoc).Error)
	var cluster models.Cluster
	must(t, db.Order("id").First(&cluster).Error)
	var allocation models.Allocation
	must(t, db.Where("organisation_id = ?", *upstage.OrganisationID).Order("id").First(&allocation).Error)

	// Upstage's agreement (in force, an amendment out for signature) and
	// LG AI Research's (an amendment in preparation).
	var agreement, draftAgreement models.Agreement
	must(t, db.Where("organisation_id = ?", *upstage.OrganisationID).First(&agreement).Error)
	var lg models.Organisation
	must(t, db.Where("code = ?", "lg-ai-research").First(&lg).Error)
	must(t, db.Where("organisation_id = ?", lg.ID).First(&draftAgreement).Error)
	var firstVersion, draftVersion models.AgreementVersion
	must(t, db.Where("agreement_id = ? AND number = 1", agreement.ID).First(&firstVersion).Error)
	must(t, db.Where("agreement_id = ? AND status = ?", draftAgreement.ID, models.VersionDraft).First(&draftVersion).Error)

	var report models.UsageReport
	must(t, db.Where("organisation_id = ?", *upstage.OrganisationID).Order("id").First(&report).Error)
	var invoice models.InvoiceLine
	must(t, db.Order("id").First(&invoice).Error)

	// KAIST, not selected in the additional call, appeals with evidence.
	evidence, err := app.h.files.Save(ctx, db, "evidence.pdf", bytes.NewReader(demo.PDF([]string{"Evidence"})),
		app.h.uploads, kaist.ID, now)
	must(t, err)
	appeal, _, err := models.FileAppeal(ctx, db, models.AppealInput{DecisionID: additional.ID, Ground: models.GroundScoringError,
		Statement: "평가 점수의 합산에 오류가 있어 다시 검토를 요청합니다.", IdempotencyKey: "statement-count-test"},
		[]*models.StoredFile{evidence}, kaist, 20, now)
	must(t, err)
	var ev models.AppealEvidence
	must(t, db.Where("appeal_id = ?", appeal.ID).First(&ev).Error)
	list, err := models.ImportHolidayList(ctx, db, 2027, "2027.csv", []byte(holidayListCSV(2027)), admin, now)
	must(t, err)

	objects := 1
	if more > 0 {
		seedMoreApplications(t, db, &call, &decision, more)
		objects = moreObjects
	}
	seedMoreGPUsAndAppeals(t, db, now, &cluster, &allocation, &decision, kaist, user("demo-officer"), objects)
	seedMoreVerifications(t, db, now, &report, &invoice, objects)
	seedMoreConsortiumRequests(t, db, now, &application, objects)
	var survey models.DataSurvey
	must(t, db.Order("closes_at").First(&survey).Error) // the closed one, with the purchase
	var purchase models.DataPurchase
	must(t, db.Where("survey_id = ?", survey.ID).First(&purchase).Error)
	seedMoreSupport(t, db, now, &survey, &purchase, objects)
	seedMoreNotices(t, db, now, user("demo-officer"), objects)
	var talent models.TalentLine
	must(t, db.Where("organisation_id = ?", *upstage.OrganisationID).Order("id").First(&talent).Error)
	var project models.DatasetProject
	must(t, db.Where("organisation_id = ?", *upstage.OrganisationID).Order("id").First(&project).Error)
	// The demo's stages: the first complete (NC AI eliminated), the second open for opinions.
	must(t, demo.SeedStages(ctx, db, app.h.files, now))
	var stage models.Stage
	must(t, db.Order("number").First(&stage).Error)
	var stageReport models.StageReport
	must(t, db.Preload("Files").Where("stage_id = ? AND organisation_id = ?", stage.ID, *upstage.OrganisationID).First(&stageReport).Error)
	return map[string]string{
		"/stages/:id":                            fmt.Sprintf("/stages/%d", stage.ID),
		"/stages/:id/team":                       fmt.Sprintf("/stages/%d/team", stage.ID),
		"/stages/:id/reports/:rid/files/:fid":    fmt.Sprintf("/stages/%d/reports/%d/files/%d", stage.ID, stageReport.ID, stageReport.Files[0].ID),
		"/officer/stages/:id":                    fmt.Sprintf("/officer/stages/%d", stage.ID),
		"/evaluations/:id":                       fmt.Sprintf("/evaluations/%d", stage.ID),
		"/applications/:id/consortium":           fmt.Sprintf("/applications/%d/consortium", application.ID),
		"/data/surveys/:id":                      fmt.Sprintf("/data/surveys/%d", survey.ID),
		"/data/purchases/:id":                    fmt.Sprintf("/data/purchases/%d", purchase.ID),
		"/data/projects/:id":                     fmt.Sprintf("/data/projects/%d", project.ID),
		"/support/export":                        "/support/export?format=xlsx",
		"/talent/:id/evidence":                   fmt.Sprintf("/talent/%d/evidence", talent.ID),
		"/static/:hash/*path":                    staticBase + "/css/app.css",
		"/organisations/:id":                     fmt.Sprintf("/organisations/%d", *upstage.OrganisationID),
		"/calls/:id":                             fmt.Sprintf("/calls/%d", call.ID),
		"/officer/calls/:id/edit":                fmt.Sprintf("/officer/calls/%d/edit", call.ID),
		"/calls/:id/apply":                       fmt.Sprintf("/calls/%d/apply", call.ID),
		"/applications/:id":                      fmt.Sprintf("/applications/%d", application.ID),
		"/applications/:id/documents/:did":       fmt.Sprintf("/applications/%d/documents/%d", application.ID, document.ID),
		"/officer/calls/:id/applications":        fmt.Sprintf("/officer/calls/%d/applications", call.ID),
		"/officer/calls/:id/export":              fmt.Sprintf("/officer/calls/%d/export", call.ID),
		"/reviews/:aid":                          fmt.Sprintf("/reviews/%d", assignment.ID),
		"/officer/calls/:id/ranking":             fmt.Sprintf("/officer/calls/%d/ranking", call.ID),
		"/officer/calls/:id/follow-up":           fmt.Sprintf("/officer/calls/%d/follow-up", call.ID),
		"/decisions/:id":                         fmt.Sprintf("/decisions/%d", decision.ID),
		"/decisions/:id/appeal":                  fmt.Sprintf("/decisions/%d/appeal", decision.ID),
		"/appeals/:id":                           fmt.Sprintf("/appeals/%d", appeal.ID),
		"/appeals/:id/evidence/:eid":             fmt.Sprintf("/appeals/%d/evidence/%d", appeal.ID, ev.ID),
		"/admin/users/:id":                       fmt.Sprintf("/admin/users/%d", upstage.ID),
		"/admin/users/:id/end-sessions":          fmt.Sprintf("/admin/users/%d/end-sessions", upstage.ID),
		"/admin/holidays/imports/:lid":           fmt.Sprintf("/admin/holidays/imports/%d", list.ID),
		"/admin/clusters/:id":                    fmt.Sprintf("/admin/clusters/%d", cluster.ID),
		"/gpus/clusters/:id":                     fmt.Sprintf("/gpus/clusters/%d", cluster.ID),
		"/allocations/:id":                       fmt.Sprintf("/allocations/%d", allocation.ID),
		"/allocations/:id/series":                fmt.Sprintf("/allocations/%d/series", allocation.ID),
		"/gpus/clusters/:id/downtime":            fmt.Sprintf("/gpus/clusters/%d/downtime", cluster.ID),
		"/gpus/usage/:org":                       fmt.Sprintf("/gpus/usage/%d", *upstage.OrganisationID),
		"/gpus/usage/:org/export":                fmt.Sprintf("/gpus/usage/%d/export?format=csv", *upstage.OrganisationID),
		"/officer/allocations/:id/change":        fmt.Sprintf("/officer/allocations/%d/change", allocation.ID),
		"/usage-reports/:rid":                    fmt.Sprintf("/usage-reports/%d", report.ID),
		"/invoices/:iid":                         fmt.Sprintf("/invoices/%d", invoice.ID),
		"/auditor/usage-summary":                 "/auditor/usage-summary?month=" + invoice.Month,
		"/auditor/usage-summary/export":          "/auditor/usage-summary/export?format=xlsx&month=" + invoice.Month,
		"/auditor/usage-export":                  "/auditor/usage-export?format=csv&from=2025-01&to=" + invoice.Month,
		"/agreements/:id":                        fmt.Sprintf("/agreements/%d", agreement.ID),
		"/agreements/:id/signatures":             fmt.Sprintf("/agreements/%d/signatures", agreement.ID),
		"/agreements/:id/versions/:vid/document": fmt.Sprintf("/agreements/%d/versions/%d/document", agreement.ID, firstVersion.ID),
		"/officer/agreements/:id/versions/new":   fmt.Sprintf("/officer/agreements/%d/versions/new", agreement.ID),
		"/officer/agreements/:id/versions/:vid/edit": fmt.Sprintf("/officer/agreements/%d/versions/%d/edit", draftAgreement.ID,
			draftVersion.ID),
		// The external evaluator's assignment in the additional call, and a
		// document of the application they score.
		reviewerSample + "/reviews/:aid":                    fmt.Sprintf("/reviews/%d", evaluated.ID),
		reviewerSample + "/applications/:id/documents/:did": fmt.Sprintf("/applications/%d/documents/%d", evaluated.ApplicationID, evaluatedDoc.ID),
		// A month the demo has not reported: the blank form.
		"/usage-reports/allocations/:id/:month": fmt.Sprintf("/usage-reports/allocations/%d/%s", allocation.ID,
			models.MonthOf(now)),
	}
}

// seedMoreGPUsAndAppeals adds n of each (1 on the small dataset, so that
// both show every kind of row): GPUs on the sample cluster and on
// the sample allocation's, with two hours of rollups each; allocations of
// the sample allocation's organisation, and n of the other selected teams,
// on them;
// downtimes on both clusters; changes in the sample allocation's history;
// appeals against the decision by the lowest-ranked applicants other than
// the sample allocation's organisation (received, and dismissed). Rows the rules would refuse at the test's clock (past
// periods, long-closed windows) are inserted directly.
func seedMoreGPUsAndAppeals(t *testing.T, db *gorm.DB, now time.Time, cluster *models.Cluster, alloc *models.Allocation,
	decision *models.Decision, filer, officer *models.User, n int) {
	t.Helper()
	ctx := t.Context()
	clusters := []uint{cluster.ID}
	if alloc.ClusterID != cluster.ID {
		clusters = append(clusters, alloc.ClusterID)
	}
	hour := now.UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	for ci, clusterID := range clusters {
		var rows []models.GPURollup
		var uuids []string
		for i := range 2 * n {
			uuid := fmt.Sprintf("GPU-bulk-%d-%04d", ci, i)
			uuids = append(uuids, uuid)
			for h := range 2 {
				rows = append(rows, models.GPURollup{DeviceKey: uuid, Hour: hour.Add(time.Duration(h) * time.Hour), UUID: uuid,
					ClusterID: clusterID, Node: fmt.Sprintf("bulk-node-%d-%02d", ci, i/4), ObservedS: 3600, ActiveS: 1800,
					UtilSum: 3600 * 40, GRSum: 1800, SMSum: 1500, EnergyJ: 3600 * 500, MaxFBMiB: 20000, Samples: 240})
			}
		}
		refused, err := models.StoreClusterRollups(ctx, db, clusterID, rows, now)
		must(t, err)
		if refused > 0 {
			t.Fatalf("%d rollups refused", refused)
		}
		if clusterID != alloc.ClusterID {
			continue
		}
		// One GPU each to n more allocations of the organisation, and to
		// the other selected teams.
		teams, err := models.SelectedTeams(ctx, db)
		must(t, err)
		teams = slices.DeleteFunc(teams, func(o models.Organisation) bool { return o.ID == alloc.OrganisationID })
		for i := range 2 * n {
			org := alloc.OrganisationID
			if i >= n {
				org = teams[i%len(teams)].ID
			}
			_, errs, err := models.CreateAllocation(ctx, db, models.AllocationInput{OrganisationID: org, ClusterID: clusterID,
				BlockKind: models.BlockCustom, GPUCount: 1, From: alloc.PeriodFrom, To: alloc.PeriodTo, UUIDs: uuids[i : i+1],
				Note: "bulk"}, officer, now)
			if err != nil {
				t.Fatalf("allocation %d: %v %v", i, err, errs)
			}
		}
	}
	for _, clusterID := range clusters {
		for i := range n {
			start := hour.Add(-time.Duration(24*(i+1)) * time.Hour)
			must(t, db.Create(&models.Downtime{ClusterID: clusterID, Start: start, End: start.Add(time.Hour),
				Kind: models.DowntimeMaintenance, Reason: fmt.Sprintf("점검 %d", i), CreatedByID: officer.ID, CreatedAt: now}).Error)
		}
	}
	for i := range n {
		must(t, db.Create(&models.AllocationChange{AllocationID: alloc.ID, Kind: models.ChangePeriod,
			Detail: fmt.Sprintf("bulk change %d", i), Reason: "기간 조정", ByID: officer.ID, At: now.Add(-time.Duration(n-i) * time.Hour)}).Error)
	}
	var entries []models.DecisionEntry
	must(t, db.Where("decision_id = ? AND organisation_id <> ?", decision.ID, alloc.OrganisationID).Order("rank DESC").
		Limit(n).Find(&entries).Error)
	if len(entries) < n {
		t.Fatalf("%d other ranked organisations, want %d", len(entries), n)
	}
	for i, e := range entries {
		a := models.Appeal{DecisionID: decision.ID, OrganisationID: e.OrganisationID, FiledByID: filer.ID,
			Ground: models.GroundScoringError, Statement: "점수 합산 오류", Status: models.AppealReceived,
			Receipt: fmt.Sprintf("BULK-APPEAL-%03d", i), IdempotencyKey: fmt.Sprintf("bulk-appeal-key-%04d", i),
			FiledAt: decision.PublishedAt.Add(time.Hour), AnswerBy: decision.PublishedAt.Add(30 * 24 * time.Hour)}
		if i%2 == 1 {
			decided := decision.PublishedAt.Add(48 * time.Hour)
			a.Status, a.ReviewedAt, a.DecidedAt, a.DecidedByID, a.Reasons = models.AppealDismissed, &decided, &decided, &officer.ID, "기각"
		}
		must(t, db.Create(&a).Error)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedMoreApplications adds n applications to the call, as if they had
// been submitted, reviewed by the call's reviewers and ranked below the
// others in the decision: each with its own lead organisation, a partner,
// the documents, the reviewers' assignments and scores and a decision entry.
// They are inserted directly (the story's instants are long past).
func seedMoreApplications(t *testing.T, db *gorm.DB, call *models.Call, decision *models.Decision, n int) {
	t.Helper()
	must(t, db.Transaction(func(tx *gorm.DB) error {
		var c models.Call
		if err := tx.Preload("Criteria").First(&c, call.ID).Error; err != nil {
			return err
		}
		var model models.Application
		if err := tx.Preload("Members").Preload("Documents").Where("call_id = ?", call.ID).Order("id").First(&model).Error; err != nil {
			return err
		}
		var reviews []models.ReviewAssignment
		if err := tx.Where("application_id = ?", model.ID).Order("id").Find(&reviews).Error; err != nil {
			return err
		}
		var ranked int64
		if err := tx.Model(&models.DecisionEntry{}).Where("decision_id = ?", decision.ID).Count(&ranked).Error; err != nil {
			return err
		}
		at := model.CreatedAt
		for i := range n {
			org := models.Organisation{Code: fmt.Sprintf("bulk-%03d", i), NameKO: fmt.Sprintf("추가 신청기관 %03d", i),
				NameEN: fmt.Sprintf("Extra applicant %03d", i), Kind: models.OrgCompany, CreatedAt: at, UpdatedAt: at}
			if err := tx.Create(&org).Error; err != nil {
				return err
			}
			submitted := *model.SubmittedAt
			a := models.Application{CallID: call.ID, LeadOrgID: org.ID, TitleKO: fmt.Sprintf("추가 과제 %03d", i),
				TitleEN: fmt.Sprintf("Extra project %03d", i), Summary: "추가 신청", Status: models.StatusNotSelected,
				Receipt: models.ReceiptNumber(uint(1000+i), submitted), SubmittedAt: &submitted, Version: 2,
				CreatedAt: at, UpdatedAt: at}
			a.Members = []models.ConsortiumMember{{OrganisationID: org.ID, Role: models.MemberLead}}
			for _, m := range model.Members {
				if m.Role != models.MemberLead {
					a.Members = append(a.Members, models.ConsortiumMember{OrganisationID: m.OrganisationID, Role: m.Role})
				}
			}
			for _, d := range model.Documents {
				a.Documents = append(a.Documents, models.ApplicationDocument{RequiredDocumentID: d.RequiredDocumentID, FileID: d.FileID, CreatedAt: at})
			}
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
			for _, r := range reviews {
				ra := models.ReviewAssignment{ApplicationID: a.ID, ReviewerID: r.ReviewerID, Conflict: models.ConflictNone,
					DeclaredAt: r.DeclaredAt, CreatedAt: r.CreatedAt}
				for k, cr := range c.Criteria {
					ra.Scores = append(ra.Scores, models.Score{CriterionID: cr.ID, Value: float64(60 - k), Comment: "보통", UpdatedAt: at})
				}
				if err := tx.Create(&ra).Error; err != nil {
					return err
				}
			}
			e := models.DecisionEntry{DecisionID: decision.ID, Rank: int(ranked) + i + 1, ApplicationID: a.ID,
				OrganisationID: org.ID, NameKO: org.NameKO, NameEN: org.NameEN, Members: org.NameKO, Score: 59}
			if err := tx.Create(&e).Error; err != nil {
				return err
			}
		}
		return nil
	}))
}

// seedMoreVerifications adds n usage reports and n invoice lines of the
// sample report's allocation, for the months of 2025 counted back from
// December (months the rules would refuse at the test's clock, so inserted
// directly), each submitted with a verification: the queue, the summary
// and the exports list more of both.
func seedMoreVerifications(t *testing.T, db *gorm.DB, now time.Time, report *models.UsageReport, invoice *models.InvoiceLine, n int) {
	t.Helper()
	for i := range n {
		month := fmt.Sprintf("2025-%02d", 12-i)
		at := now.UTC()
		r := models.UsageReport{AllocationID: report.AllocationID, OrganisationID: report.OrganisationID, Month: month,
			State: models.ReportSubmitted, GPUHours: 100, MeanUtil: 50, Purpose: "p", Workloads: "w", DueDate: "2026-01-12",
			SubmittedAt: &at, Outcome: models.OutcomeDiscrepancy}
		must(t, db.Create(&r).Error)
		l := models.InvoiceLine{AllocationID: report.AllocationID, OrganisationID: report.OrganisationID, Provider: invoice.Provider,
			Month: month, BilledHours: 100, Availability: 99, State: models.ReportSubmitted, Outcome: models.OutcomeDiscrepancy,
			EnteredByID: invoice.EnteredByID, SubmittedAt: at}
		must(t, db.Create(&l).Error)
		avail := 99.0
		must(t, db.Create(&[]models.VerificationResult{
			{ReportID: r.ID, At: at, Trigger: models.ReportActionSubmit, Outcome: models.OutcomeDiscrepancy, ClaimGPUHours: 100,
				ClaimMeanUtil: 50, CoverageThreshold: 90, AllocatedHours: 50, ExpectedHours: 50, ObservedHours: 50},
			{InvoiceID: l.ID, At: at, Trigger: models.InvoiceActionEnter, Outcome: models.OutcomeDiscrepancy, ClaimGPUHours: 100,
				ClaimAvailability: &avail, CoverageThreshold: 90, AllocatedHours: 50, ExpectedHours: 50, ObservedHours: 50},
		}).Error)
	}
}

// seedMoreConsortiumRequests adds n change requests waiting for an officer
// on the sample application (the lead's share, its consortium history and
// the officers' queue list them) and n invitations of the sample
// application's lead by another selected team (its invitations list
// them), inserted directly: the rules allow one open request per
// organisation.
func seedMoreConsortiumRequests(t *testing.T, db *gorm.DB, now time.Time, app *models.Application, n int) {
	t.Helper()
	var other models.Application
	must(t, db.Where("call_id = ? AND status = ? AND id <> ?", app.CallID, models.StatusSelected, app.ID).Order("id").First(&other).Error)
	at := now.UTC()
	for i := range n {
		must(t, db.Create(&[]models.ConsortiumRequest{
			{ApplicationID: app.ID, Stage: models.StageChange, Kind: models.RequestChange, OrganisationID: app.LeadOrgID,
				Role: models.MemberLead, Share: 50 + i%10, Note: "분담 조정", Status: models.RequestPending, BaseVersion: app.ConsortiumVersion,
				FiledByID: 1, FiledAt: at},
			{ApplicationID: other.ID, Stage: models.StageChange, Kind: models.RequestAdd, OrganisationID: app.LeadOrgID,
				Role: models.MemberModel, Note: "공동 개발", Status: models.RequestInvited, BaseVersion: other.ConsortiumVersion,
				FiledByID: 1, FiledAt: at},
		}).Error)
	}
}

// seedMoreSupport adds n demand lines of every team to the survey, n
// sources to the ledger and n purchases of the survey to every team, with
// the sample purchase's sources.
func seedMoreSupport(t *testing.T, db *gorm.DB, now time.Time, survey *models.DataSurvey, purchase *models.DataPurchase, n int) {
	t.Helper()
	teams, err := models.AgreementTeams(t.Context(), db)
	must(t, err)
	var sources []models.DataSource
	must(t, db.Model(purchase).Association("Sources").Find(&sources))
	for i := range n {
		for _, o := range teams {
			must(t, db.Create(&models.DataDemand{SurveyID: survey.ID, OrganisationID: o.ID, Dataset: fmt.Sprintf("데이터 %d", i),
				Provider: "공급기관", Volume: "1 TB", PriceMin: 1, PriceMax: 2, Purpose: "학습", Priority: 2, FiledByID: 1, CreatedAt: now}).Error)
		}
		must(t, db.Create(&models.DataSource{Name: fmt.Sprintf("출처 %d", i), RightsHolder: "기관", Status: models.ClearanceCleared,
			Training: true, ExpiresOn: models.DateOf(now).AddDays(10 + i).String(), UpdatedAt: now}).Error)
		p := models.DataPurchase{SurveyID: &survey.ID, Dataset: fmt.Sprintf("구매 %d", i), Provider: "공급기관", Contract: "C", Price: 1,
			LicenceTerms: "학습", Use: models.UseTraining, CreatedByID: 1, CreatedAt: now, Sources: sources}
		for _, o := range teams {
			p.Deliveries = append(p.Deliveries, models.DataDelivery{OrganisationID: o.ID})
		}
		must(t, db.Create(&p).Error)
		for _, o := range teams {
			must(t, db.Create(&models.TalentLine{OrganisationID: o.ID, Kind: models.TalentHires, Period: "2026-H1", Count: i,
				EvidenceID: talentEvidence(t, db), RecordedByID: 1, CreatedAt: now}).Error)
			must(t, db.Create(&models.DatasetProject{OrganisationID: o.ID, Title: fmt.Sprintf("구축 %d", i), Scope: "범위", Provider: "기관",
				Status: models.ProjectInProgress, Milestones: "2027-01-31 납품", CreatedAt: now, UpdatedAt: now}).Error)
		}
	}
}

// talentEvidence is the evidence of the first talent line of the demo.
func talentEvidence(t *testing.T, db *gorm.DB) *uint {
	t.Helper()
	var l models.TalentLine
	must(t, db.Order("id").First(&l).Error)
	return l.EvidenceID
}
