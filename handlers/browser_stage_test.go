package handlers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserStageJourney: an officer defines a stage and its criteria and
// publishes them for opinions; Upstage sends an opinion on a phone; after
// the close the officer answers and freezes the set; an external
// evaluator declares and scores; the officer imports the benchmark
// results and publishes the decision. While the appeal window is open
// nothing ends; once it has closed (and the background loop has run), the
// public page says the decision is final, the registry shows the end of
// the eliminated team's names with the reason, and the verification API
// answers no.
func TestBrowserStageJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	ctx, db := t.Context(), app.db
	now := app.clock.Now()
	if err := demo.SeedApplications(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAgreements(ctx, db, app.h.files, now); err != nil {
		t.Fatal(err)
	}
	reviewer := &models.User{Issuer: models.DemoIssuer, Subject: "test-reviewer", Name: "외부 평가위원", Role: models.RoleReviewer,
		ProviderRole: models.RoleReviewer}
	if err := db.Create(reviewer).Error; err != nil {
		t.Fatal(err)
	}
	teams, err := models.AgreementTeams(ctx, db)
	if err != nil || len(teams) != 5 {
		t.Fatalf("teams in force: %d %v", len(teams), err)
	}
	base := app.srv.URL
	kstForm := func(t time.Time) string { return t.In(models.KST).Format(models.StageInstantLayout) }
	closes := now.Add(5 * time.Minute) // within the sessions' idle time

	// The officer defines the stage and its set, and publishes it.
	off := b.newTab(t)
	off.signIn(app, "demo-officer", "officer-dashboard")
	off.do("open the stages", chromedp.Navigate(base+"/officer/stages"), chromedp.WaitVisible(testID("stage-form")))
	off.page("/officer/stages")
	off.do("define the stage",
		chromedp.SetValue(chromedp.CSS(`#name_ko`), "1차 단계평가"),
		chromedp.SetValue(chromedp.CSS(`#name_en`), "Stage 1"),
		chromedp.SetValue(chromedp.CSS(`#starts_on`), "2026-08-08"),
		chromedp.SetValue(chromedp.CSS(`#evaluated_on`), models.DateOf(now).AddDays(30).String()),
		chromedp.SetValue(chromedp.CSS(`#report_due`), kstForm(now.Add(10*24*time.Hour))),
		chromedp.SetValue(chromedp.CSS(`#eliminate`), "1"),
		chromedp.Focus(testID("stage-create")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("criterion-form")))
	off.page("/officer/stages/:id")
	stages, _ := models.ListStages(ctx, db)
	if len(stages) != 1 {
		t.Fatalf("stages: %d", len(stages))
	}
	stage := stages[0]
	sid := itoa(stage.ID)
	for _, c := range []struct{ code, kind, ko, en, weight string }{
		{"tech", string(models.KindOfficer), "기술력", "Technology", "60"},
		{"bench", string(models.KindGlobalBenchmark), "글로벌 벤치마크", "Global benchmark", "40"},
	} {
		off.do("add the criterion "+c.code,
			chromedp.SetValue(chromedp.CSS(`#code`), c.code),
			chromedp.SetValue(chromedp.CSS(`#kind`), c.kind),
			chromedp.SetValue(chromedp.CSS(`#crit_name_ko`), c.ko),
			chromedp.SetValue(chromedp.CSS(`#crit_name_en`), c.en),
			chromedp.SetValue(chromedp.CSS(`#weight`), c.weight),
			chromedp.Focus(testID("criterion-add")), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="criterion"][data-code="`+c.code+`"]`)))
	}
	if w := off.text(`[data-testid="weight-total"]`); w != "100" {
		t.Fatalf("weights add up to %s", w)
	}
	off.do("publish for opinions",
		chromedp.SetValue(chromedp.CSS(`#opinions_close`), kstForm(closes)),
		chromedp.Focus(testID("open-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("opinions-close")))
	off.page("/officer/stages/:id (opinions open)")

	// Upstage sends an opinion on a phone.
	co := b.newTab(t)
	co.do("set a phone's viewport", chromedp.EmulateViewport(390, 844))
	co.signIn(app, "demo-company-upstage", "company-dashboard")
	co.do("open the stage", chromedp.Navigate(base+"/stages/"+sid), chromedp.WaitVisible(testID("team-link")))
	co.page("/stages/:id (company)")
	wantNoSideScroll(co, "stage at 390 px")
	co.do("go to the team's page", chromedp.Click(testID("team-link")), chromedp.WaitVisible(testID("opinion-form")))
	co.page("/stages/:id/team")
	wantNoSideScroll(co, "team's stage page at 390 px")
	co.do("send an opinion",
		chromedp.SetValue(chromedp.CSS(`#text`), "글로벌 벤치마크에 한국어 과제를 넣어 주십시오."),
		chromedp.Focus(testID("opinion-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(testID("notice")))
	co.page("/stages/:id/team (sent)")
	co.done()

	// After the close: answered, frozen, an external evaluator assigned.
	app.clock.Set(closes.Add(time.Second))
	off.do("reload", chromedp.Navigate(base+"/officer/stages/"+sid), chromedp.WaitVisible(testID("answer-submit")))
	off.do("answer", chromedp.SetValue(chromedp.CSS(`[data-testid="answer-text"]`), "한국어 벤치마크를 함께 보겠습니다."),
		chromedp.Focus(testID("answer-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("opinion-answer")))
	off.do("freeze", chromedp.Focus(testID("freeze-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
	off.page("freeze confirmation")
	off.do("confirm the freeze", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("frozen")))
	off.page("/officer/stages/:id (frozen)")
	off.do("assign the evaluator", chromedp.SetValue(chromedp.CSS(`#user_id`), itoa(reviewer.ID)),
		chromedp.Focus(testID("evaluator-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("evaluator")))

	// The evaluator declares and scores Upstage in the browser.
	ev := b.newTab(t)
	// External reviewers sign in through the identity provider (the demo
	// sign-in lists the demo's roles): the session is made directly.
	token, _, err := models.CreateSession(ctx, db, reviewer.ID, "", app.clock.Now(), app.h.policy)
	if err != nil {
		t.Fatal(err)
	}
	ev.setSession(app, "the external evaluator", token)
	ev.do("open the evaluations", chromedp.Navigate(base+"/evaluations"), chromedp.WaitVisible(testID("evaluation")))
	ev.page("/evaluations")
	upstage := demoUser(t, app, "demo-company-upstage").OrganisationID
	team := fmt.Sprintf(`[data-testid="eval-team"][data-org="%d"] `, *upstage)
	ev.do("open the stage", chromedp.Click(chromedp.CSS(`[data-testid="evaluation"] a`)),
		chromedp.WaitVisible(chromedp.CSS(team+`[data-testid="conflict-form"]`)))
	ev.page("/evaluations/:id")
	ev.do("declare no conflict", chromedp.Click(chromedp.CSS(team+`input[value="none"]`)),
		chromedp.Click(chromedp.CSS(team+`[data-testid="conflict-submit"]`)), chromedp.WaitVisible(chromedp.CSS(team+`[data-testid="score-form"]`)))
	s, _ := models.GetStage(ctx, db, stage.ID)
	var techID uint
	for _, c := range s.Criteria {
		if c.Code == "tech" {
			techID = c.ID
		}
	}
	ev.do("reload", chromedp.Navigate(base+"/evaluations/"+sid), chromedp.WaitVisible(chromedp.CSS(team+`[data-testid="score-form"]`)))
	ev.do("score", chromedp.SetValue(chromedp.CSS(team+fmt.Sprintf(`[name="score.%d"]`, techID)), "90"),
		chromedp.Click(chromedp.CSS(team+`[data-testid="score-submit"]`)), chromedp.WaitVisible(testID("notice")))
	ev.page("/evaluations/:id (scored)")
	ev.done()
	// The other teams, through the models as the evaluator would: NC AI lowest.
	scores := map[string]string{"naver-cloud": "80", "sk-telecom": "82", "lg-ai-research": "85", "nc-ai": "60"}
	var csv strings.Builder
	csv.WriteString("team,criterion,value\n")
	eliminated := ""
	for _, o := range teams {
		csv.WriteString(o.Code + ",bench,70\n")
		if o.ID == *upstage {
			continue
		}
		if err := models.DeclareStageConflict(ctx, db, stage.ID, o.ID, models.ConflictNone, reviewer, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := models.SaveStageScores(ctx, db, stage.ID, o.ID, map[uint]string{techID: scores[o.Code]}, reviewer, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if o.Code == "nc-ai" {
			eliminated = itoa(o.ID)
		}
	}

	// The officer imports the benchmark results, a bad file first.
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.csv"), filepath.Join(dir, "results.csv")
	if err := os.WriteFile(bad, []byte("team,criterion,value\nupstage,bench,700\nnobody,bench,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	off.do("import a bad file", chromedp.Navigate(base+"/officer/stages/"+sid), chromedp.WaitVisible(testID("import-form")),
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{bad}),
		chromedp.Focus(testID("import-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("import-errors")))
	off.page("import refused")
	if n := off.count(`document.querySelectorAll('[data-testid="import-error"]').length`); n != 2 {
		t.Errorf("%d import errors listed, want 2", n)
	}
	off.do("import the results", chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{good}),
		chromedp.Focus(testID("import-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("notice")))
	off.page("/officer/stages/:id (imported)")
	off.do("write the notice",
		chromedp.SetValue(chromedp.CSS(`#notice_ko`), "1차 단계평가 결과를 공고합니다."),
		chromedp.SetValue(chromedp.CSS(`#notice_en`), "The result of stage 1 is announced."),
		chromedp.Focus(testID("decision-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("confirm")))
	off.page("decision confirmation")
	off.do("publish", chromedp.Focus(testID("confirm-submit")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("decision-status")))
	off.page("/officer/stages/:id (published)")
	off.done()
	s, _ = models.GetStage(ctx, db, stage.ID)
	d, err := models.GetDecision(ctx, db, *s.DecisionID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := models.CheckStageFinality(ctx, db, d, app.clock.Now())
	if err != nil {
		t.Fatal(err)
	}

	var grant models.NamingGrant
	if err := db.Where("holder_id = ? AND kind = ?", eliminated, models.NamingModel).First(&grant).Error; err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(grant.NameList()[0], " ", "%20")
	pub := b.newTab(t)
	verify := func() (bool, string) {
		body := pub.eval(`fetch('/api/v1/k-ai/verify?name=` + name + `', {cache: 'no-store'}).then(r => r.text())`)
		var ans struct {
			Valid  bool    `json:"valid"`
			Reason *string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Fatalf("verify: %v (%s)", err, body)
		}
		if ans.Reason == nil {
			return ans.Valid, ""
		}
		return ans.Valid, *ans.Reason
	}
	pub.do("open the public page", chromedp.Navigate(base+"/stages/"+sid), chromedp.WaitVisible(testID("decision-status")))
	pub.page("/stages/:id (window open)")
	if final := pub.applyAttr(`[data-testid="decision-status"]`, "data-final"); final != "false" {
		t.Errorf("final while the window is open: %s", final)
	}
	if el := pub.applyAttr(fmt.Sprintf(`[data-testid="ranked-team"][data-org="%s"]`, eliminated), "data-eliminated"); el != "true" {
		t.Errorf("NC AI not marked eliminated: %s", el)
	}
	if valid, _ := verify(); !valid {
		t.Error("the eliminated team's name is invalid while the window is open")
	}

	// The window closes; the background loop's next run makes it final.
	app.clock.Set(f.Window.Closes.Add(time.Minute))
	if n, err := models.FinaliseStageDecisions(ctx, db, app.clock.Now()); err != nil || n != 1 {
		t.Fatalf("finalise: %d %v", n, err)
	}
	pub.do("reload the public page", chromedp.Navigate(base+"/stages/"+sid), chromedp.WaitVisible(testID("decision-status")))
	pub.page("/stages/:id (final)")
	if final := pub.applyAttr(`[data-testid="decision-status"]`, "data-final"); final != "true" {
		t.Errorf("not final after the window: %s", final)
	}
	if valid, reason := verify(); valid || !strings.Contains(reason, "탈락") {
		t.Errorf("after the window: valid %v, reason %q", valid, reason)
	}
	pub.do("open the registry", chromedp.Navigate(base+"/k-ai"), chromedp.WaitVisible(testID("page-title")))
	pub.page("/k-ai (after the elimination)")
	if body := pub.eval(`document.body.innerText`); !strings.Contains(body, "탈락 확정") {
		t.Error("the registry does not show the reason of the end")
	}
}
