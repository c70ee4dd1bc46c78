package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// seedDemoStory seeds the whole demo as the portal's demo mode does, at the
// app's clock.
func seedDemoStory(t *testing.T, app *testApp) {
	t.Helper()
	ctx, db, files, now := t.Context(), app.db, app.h.files, app.clock.Now()
	must(t, demo.SeedApplications(ctx, db, files, now))
	must(t, demo.SeedAgreements(ctx, db, files, now))
	must(t, demo.SeedConsortia(ctx, db, now))
	must(t, demo.SeedGPUs(ctx, db, now))
	must(t, demo.SeedUsageReports(ctx, db, now))
	must(t, demo.SeedSupport(ctx, db, files, now))
	must(t, demo.SeedAdditionalCall(ctx, db, files, now))
	must(t, demo.SeedStages(ctx, db, files, now))
}

// taskTexts are the trimmed texts of the elements with the test id, with
// spaces collapsed.
func taskTexts(doc *goquery.Document, testID string) []string {
	var out []string
	doc.Find(`[data-testid="` + testID + `"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(s.Text()), " "))
	})
	return out
}

// TestDashboardTasksOfTheDemo: on the demo story, through the router, each
// role's start page lists exactly the tasks the story leaves it: KAIST (not
// selected in the additional call) its rank and the open appeal window to
// the second with the countdown and the link to appeal; Upstage (selected)
// its results, the amendment to sign, the second stage's opinion and
// report, its K-AI names and its GPU month; the ministry the appeals with
// their answer dates, the overdue one first, the agreements awaiting
// signatures, the report in discrepancy and the open opinion period; the
// auditor the verification queue and the chain.
func TestDashboardTasksOfTheDemo(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		seedDemoStory(t, app)
		ctx, db := t.Context(), app.db

		var call models.Call
		must(t, db.Order("id").First(&call).Error)
		var additional models.Decision
		must(t, db.Where("call_id <> ?", call.ID).Order("id").First(&additional).Error)
		d, err := models.GetDecision(ctx, db, additional.ID)
		must(t, err)
		w, err := models.DecisionWindow(ctx, db, d, app.clock.Now())
		must(t, err)

		t.Run("non-selected company", func(t *testing.T) {
			c := app.client()
			c.signInDemo("demo-company-kaist")
			doc := wantPage(t, "/company", c.get("/company"), http.StatusOK)
			results := doc.Find(`[data-testid="result"]`)
			if results.Length() != 2 {
				t.Fatalf("results: %q, want the additional call's and 2025's", taskTexts(doc, "result"))
			}
			open := results.Eq(0)
			if id, _ := open.Attr("data-decision"); id != itoa(d.ID) {
				t.Errorf("first result: decision %s, want the additional call's %d", id, d.ID)
			}
			if sel, _ := open.Attr("data-selected"); sel != "false" {
				t.Errorf("additional call: selected %s, want false", sel)
			}
			if got := strings.TrimSpace(open.Find(`[data-testid="result-rank"]`).Text()); got != "순위 3위" {
				t.Errorf("rank %q, want 순위 3위", got)
			}
			if got, want := strings.TrimSpace(open.Find(`[data-testid="result-window-closes"]`).Text()), views.KST(w.Closes); got != want {
				t.Errorf("window closes %q, want %q", got, want)
			}
			if open.Find(`[data-testid="countdown"]`).Length() != 1 {
				t.Error("the open window has no countdown")
			}
			if href, _ := open.Find(`[data-testid="result-appeal-link"]`).Attr("href"); href != "/decisions/"+itoa(d.ID)+"/appeal" {
				t.Errorf("appeal link %q", href)
			}
			closed := results.Eq(1)
			if closed.Find(`[data-testid="countdown"]`).Length() != 0 || closed.Find(`[data-testid="result-appeal-link"]`).Length() != 0 {
				t.Error("the 2025 result, whose window closed long ago, offers an appeal")
			}
			if got := strings.TrimSpace(closed.Find(`[data-testid="result-rank"]`).Text()); got != "순위 15위" {
				t.Errorf("2025 rank %q, want 순위 15위", got)
			}
			// Its one task is Upstage's consortium invitation (demo.SeedConsortia).
			if got := doc.Find(`[data-testid="company-tasks"] li`); got.Length() != 1 || got.AttrOr("data-testid", "") != "company-invitations" {
				t.Errorf("tasks %q, want the consortium invitation only", taskTexts(doc, "company-tasks"))
			}
			for id, want := range map[string]int{"company-follow-up": 1, "company-names": 0, "company-gpu-slot": 0, "task-sign": 0, "task-report": 0} {
				if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != want {
					t.Errorf("%s: %d, want %d", id, n, want)
				}
			}
		})

		t.Run("selected company", func(t *testing.T) {
			c := app.client()
			c.signInDemo("demo-company-upstage")
			doc := wantPage(t, "/company", c.get("/company"), http.StatusOK)
			if sel := doc.Find(`[data-testid="result"][data-selected="true"]`).Length(); sel != 2 || doc.Find(`[data-testid="result"]`).Length() != 2 {
				t.Errorf("results %q, want the selection and the first stage, both selected", taskTexts(doc, "result"))
			}
			if doc.Find(`[data-testid="countdown"]`).Length() != 0 {
				t.Error("a selected team with no open window sees a countdown")
			}
			if got := taskTexts(doc, "task-sign"); len(got) != 1 || !strings.Contains(got[0], "KAI-2025-002") {
				t.Errorf("to sign %q, want the amendment of KAI-2025-002", got)
			}
			if got := doc.Find(`[data-testid="task-sign"] a`).AttrOr("href", ""); !strings.HasPrefix(got, "/agreements/") {
				t.Errorf("sign link %q", got)
			}
			for _, id := range []string{"task-stage-opinion", "task-stage-report"} {
				got := doc.Find(`[data-testid="` + id + `"]`)
				if got.Length() != 1 || got.Find(`[data-testid="task-due"]`).Length() != 1 || got.Find(`[data-testid="task-overdue"]`).Length() != 0 {
					t.Errorf("%s: %q, want one, due and not overdue", id, taskTexts(doc, id))
				}
			}
			names := taskTexts(doc, "name-names")
			if len(names) != 2 || !slices.Contains(names, "Solar Pro") {
				t.Errorf("names %q, want Solar Pro and the company's names", names)
			}
			for _, a := range taskTexts(doc, "name-agreement") {
				if a != "KAI-2025-002" {
					t.Errorf("name agreement %q", a)
				}
			}
			if doc.Find(`[data-testid="company-gpu-slot"][data-fragment="/company/gpu-month"] a[href="/company/gpu-month"]`).Length() != 1 ||
				doc.Find(`[data-testid="company-follow-up"]`).Length() != 0 {
				t.Error("the selected team's page lacks the GPU month's part or offers the follow-up of applicants not selected")
			}
			// The GPU month, made for each visit (portal.js asks for the part).
			req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/company/gpu-month", nil)
			req.Header.Set("X-Portal-Fragment", "1")
			part := wantPage(t, "GPU month part", c.do(req), http.StatusOK)
			if part.Find("main, header").Length() != 0 {
				t.Error("the part comes with the page's frame")
			}
			if got := testIDText(part, "gpu-allocations"); got != "1" {
				t.Errorf("GPU allocations %q, want 1", got)
			}
			if part.Find(`[data-testid="gpu-observed"]`).Length() != 1 || part.Find(`[data-testid="gpu-month-link"]`).AttrOr("href", "") != "/gpus/usage/"+itoa(*orgUser(t, app, "upstage").OrganisationID) {
				t.Errorf("GPU month part %q", testIDText(part, "company-gpu"))
			}
			// Without a script, the link opens it as a page.
			page := wantPage(t, "GPU month page", c.get("/company/gpu-month"), http.StatusOK)
			if page.Find(`main [data-testid="company-gpu"]`).Length() != 1 {
				t.Error("the GPU month page lacks the part")
			}
			// Upstage's one report month (the GPUs were lent from it) is
			// submitted again after its return: nothing is asked of it.
			if n := doc.Find(`[data-testid="task-report"]`).Length(); n != 0 {
				t.Errorf("reports %q, want none", taskTexts(doc, "task-report"))
			}
			// LG AI Research's report of that month is a draft: it is the
			// team's task, with its due date.
			lg := app.client()
			lg.signInDemo("demo-company-lg-ai-research")
			lgDoc := wantPage(t, "LG's /company", lg.get("/company"), http.StatusOK)
			month := models.MonthOf(models.MonthOf(app.clock.Now()).First.Start().Add(-time.Hour)).String()
			if got := lgDoc.Find(`[data-testid="task-report"]`); got.Length() != 1 || got.AttrOr("data-month", "") != month ||
				got.AttrOr("data-returned", "") != "false" {
				t.Errorf("LG's reports %q, want the draft of %s", taskTexts(lgDoc, "task-report"), month)
			}
		})

		t.Run("officer", func(t *testing.T) {
			kaist, lunit := orgUser(t, app, "kaist"), orgUser(t, app, "lunit")
			now := app.clock.Now()
			late, _, err := models.FileAppeal(ctx, db, models.AppealInput{DecisionID: d.ID, Ground: models.GroundScoringError,
				Statement: "평가 점수 합산에 오류가 있습니다. 다시 검토해 주십시오.", IdempotencyKey: "dashboard-test-late"}, nil, kaist, 20, now)
			must(t, err)
			soon, _, err := models.FileAppeal(ctx, db, models.AppealInput{DecisionID: d.ID, Ground: models.GroundProceduralDefect,
				Statement: "평가 절차에 하자가 있었습니다. 다시 검토해 주십시오.", IdempotencyKey: "dashboard-test-soon"}, nil, lunit, 1, now.Add(time.Minute))
			must(t, err)
			app.clock.Set(soon.AnswerBy.Add(time.Hour)) // the second filed is now overdue, the first not

			c := app.client()
			c.signInDemo("demo-officer")
			doc := wantPage(t, "/officer", c.get("/officer"), http.StatusOK)
			tasks := doc.Find(`[data-testid="appeal-task"]`)
			if tasks.Length() != 2 {
				t.Fatalf("appeals %q, want two", taskTexts(doc, "appeal-task"))
			}
			for i, want := range []struct {
				a       *models.Appeal
				overdue string
			}{{soon, "true"}, {late, "false"}} {
				task := tasks.Eq(i)
				if id, _ := task.Attr("data-appeal"); id != itoa(want.a.ID) {
					t.Errorf("appeal %d: %s, want %d (overdue first)", i, id, want.a.ID)
				}
				if o, _ := task.Attr("data-overdue"); o != want.overdue {
					t.Errorf("appeal %d overdue %s, want %s", i, o, want.overdue)
				}
				if got := task.Find(`[data-testid="task-due"]`).Text(); !strings.Contains(got, views.KST(want.a.AnswerBy)) {
					t.Errorf("appeal %d due %q, want %s", i, got, views.KST(want.a.AnswerBy))
				}
			}
			sigs := taskTexts(doc, "signature-task")
			if len(sigs) != 2 || !strings.Contains(sigs[0], "KAI-2025-002") || !strings.Contains(sigs[1], "KAI-2025-003") {
				t.Errorf("signatures %q, want Upstage's amendment and SK Telecom's", sigs)
			}
			if got := taskTexts(doc, "discrepancy-task"); len(got) != 1 || !strings.Contains(got[0], "2026-10") {
				t.Errorf("discrepancies %q, want one for 2026-10", got)
			}
			if got := taskTexts(doc, "opinion-period"); len(got) != 1 {
				t.Errorf("opinion periods %q, want the second stage's", got)
			}
			if doc.Find(`[data-testid="officer-telemetry-slot"][data-fragment="/officer/telemetry"]`).Length() != 1 {
				t.Error("no telemetry part")
			}
			// The demo's telemetry covers a few days of the month: every
			// team is below the threshold so far; its clusters are not polled.
			tel := wantPage(t, "/officer/telemetry", c.get("/officer/telemetry"), http.StatusOK)
			if got := taskTexts(tel, "telemetry-gap"); len(got) != 5 {
				t.Errorf("telemetry gaps %q, want the five teams", got)
			}
		})

		t.Run("auditor", func(t *testing.T) {
			c := app.client()
			c.signInDemo("demo-auditor")
			doc := wantPage(t, "/auditor", c.get("/auditor"), http.StatusOK)
			if r, i := doc.Find(`[data-testid="queue-report"]`).Length(), doc.Find(`[data-testid="queue-invoice"]`).Length(); r != 4 || i != 1 {
				t.Errorf("queue: %d reports and %d invoice lines, want 4 and 1", r, i)
			}
			if doc.Find(`[data-testid="auditor-chain"] [data-testid="chain-ok"]`).Length() != 1 {
				t.Errorf("chain state %q", testIDText(doc, "auditor-chain"))
			}
		})
	})
}

// orgUser is the demo company user of the organisation with the code.
func orgUser(t *testing.T, app *testApp, code string) *models.User {
	t.Helper()
	var o models.Organisation
	must(t, app.db.Where("code = ?", code).First(&o).Error)
	var u models.User
	must(t, app.db.Where("organisation_id = ? AND role = ?", o.ID, models.RoleCompany).Order("id").First(&u).Error)
	return &u
}

// TestEvaluatorDueDays: on the demo, the external evaluator sees the second
// stage's scores due on its evaluation day (the default) on their
// evaluations list, and their reviews with their due days; the officer
// assigns an evaluator with a due day of their own, and a past day is
// refused with the input kept, or sent back to the applications list.
func TestEvaluatorDueDays(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		seedDemoStory(t, app)
		db := app.db
		var stage2 models.Stage
		must(t, db.Where("number = 2").First(&stage2).Error)

		rev := app.client()
		rev.signInDemo("demo-reviewer")
		doc := wantPage(t, "/evaluations", rev.get("/evaluations"), http.StatusOK)
		row := doc.Find(`[data-testid="evaluation"][data-open="true"]`)
		if row.Length() != 1 || row.Find(`[data-testid="task-due"]`).Length() != 1 ||
			!strings.Contains(row.Find(`[data-testid="task-due"]`).Text(), stage2.EvaluatedOn) {
			t.Errorf("open evaluations %q, want the second stage due on %s", taskTexts(doc, "evaluation"), stage2.EvaluatedOn)
		}
		if row.AttrOr("data-overdue", "") != "false" {
			t.Error("the second stage's scores are flagged overdue before its evaluation day")
		}
		doc = wantPage(t, "/reviews", rev.get("/reviews"), http.StatusOK)
		dues := taskTexts(doc, "review-due")
		if len(dues) == 0 {
			t.Fatal("no review rows")
		}
		for _, d := range dues {
			if _, err := models.ParseDate(d); err != nil {
				t.Errorf("review due %q, want a day", d)
			}
		}
		if n := doc.Find(`[data-testid="review-due"][data-overdue="true"]`).Length(); n != 0 {
			t.Errorf("%d decided reviews flagged overdue", n)
		}

		// The officer assigns another evaluator to the second stage.
		off := app.client()
		off.signInDemo("demo-officer")
		admin := demoUser(t, app, "demo-admin")
		path := "/officer/stages/" + itoa(stage2.ID) + "/evaluators"
		resp := off.post(path, url.Values{"user_id": {itoa(admin.ID)}, "due": {"2020-01-01"}})
		doc = wantPage(t, "past due day", resp, http.StatusUnprocessableEntity)
		if got := doc.Find(`#evaluator-due`).AttrOr("value", ""); got != "2020-01-01" {
			t.Errorf("due kept as %q", got)
		}
		if n := count(t, app, &models.StageEvaluator{}, "stage_id = ? AND user_id = ?", stage2.ID, admin.ID); n != 0 {
			t.Fatalf("refused assignment stored (%d)", n)
		}
		due := models.DateOf(app.clock.Now()).AddDays(3).String()
		wantSeeOther(t, "assign with a due day", off.post(path, url.Values{"user_id": {itoa(admin.ID)}, "due": {due}}),
			"/officer/stages/"+itoa(stage2.ID)+"?done=evaluator")
		var e models.StageEvaluator
		must(t, db.Where("stage_id = ? AND user_id = ?", stage2.ID, admin.ID).First(&e).Error)
		if e.DueOn != due {
			t.Errorf("stored due %q, want %q", e.DueOn, due)
		}
		doc = wantPage(t, "stage page", off.get("/officer/stages/"+itoa(stage2.ID)), http.StatusOK)
		if got := taskTexts(doc, "evaluator-due"); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, due) }) {
			t.Errorf("evaluators' due days %q, want %s among them", got, due)
		}
	})
}
