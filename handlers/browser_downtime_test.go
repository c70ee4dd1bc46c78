package handlers

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// tabToSel presses Tab until the focused element matches the CSS selector.
func (tb *tab) tabToSel(sel string) {
	tb.t.Helper()
	for range 60 {
		tb.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if tb.eval(`String(!!document.activeElement && document.activeElement.matches(`+strconv.Quote(sel)+`))`) == "true" {
			return
		}
	}
	tb.t.Fatalf("60 presses of Tab never reached %s", sel)
}

// wantFiguresAsTables checks that the page's figures are in captioned
// tables, and that no chart stands without one.
func wantFiguresAsTables(tb *tab, page string) {
	tb.t.Helper()
	if n := tb.count(`document.querySelectorAll('main table caption').length`); n == 0 {
		tb.t.Errorf("%s: no captioned table", page)
	}
	charts := tb.count(`document.querySelectorAll('main canvas, main [data-chart]').length`)
	tables := tb.count(`document.querySelectorAll('main table').length`)
	if charts > 0 && tables == 0 {
		tb.t.Errorf("%s: %d charts without a table", page, charts)
	}
}

// TestBrowserDowntimeAndTeamMonth: at a phone's width and a desktop's, an
// officer reaches the downtime form's fields and its button by keyboard,
// and goes by keyboard from the programme's month to a team's month and its
// export; no page scrolls sideways, long GPU UUIDs included, and the
// figures are tables.
func TestBrowserDowntimeAndTeamMonth(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	ctx := t.Context()
	if err := demo.SeedApplications(ctx, app.db, app.h.files, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAgreements(ctx, app.db, app.h.files, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedGPUs(ctx, app.db, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	upstage := demoUser(t, app, "demo-company-upstage")
	rows, err := models.ListAllocations(ctx, app.db, upstage.OrganisationID)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Upstage's demo allocations: %d, %v", len(rows), err)
	}
	a, err := models.GetAllocation(ctx, app.db, rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// A window of three GPUs: long UUIDs in the table.
	gpus, err := models.ListClusterGPUs(ctx, app.db, a.ClusterID)
	if err != nil || len(gpus) < 3 {
		t.Fatalf("GPUs of the demo cluster: %d, %v", len(gpus), err)
	}
	start := app.clock.Now().Add(-30 * 3600 * 1e9).In(models.KST)
	in := models.DowntimeInput{ClusterID: a.ClusterID, Start: start.Format("2006-01-02T15:04"),
		End: start.Add(2 * 3600 * 1e9).Format("2006-01-02T15:04"), Kind: models.DowntimeOutage, Reason: "PSU swap",
		Scope: models.ScopeGPUs, Targets: gpus[0].UUID + " " + gpus[1].UUID + " " + gpus[2].UUID}
	if _, errs, err := models.CreateDowntime(ctx, app.db, in, demoUser(t, app, "demo-officer"), app.clock.Now()); err != nil {
		t.Fatalf("downtime: %v %v", err, errs)
	}
	base := app.srv.URL
	downtime := fmt.Sprintf("%s/gpus/clusters/%d/downtime", base, a.ClusterID)

	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := newTestBrowser(t)
			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.signIn(app, "demo-officer", "officer-dashboard")

			tb.do("open the downtime page", chromedp.Navigate(downtime), chromedp.WaitVisible(testID("downtime-form")))
			tb.page("/gpus/clusters/:id/downtime")
			wantNoSideScroll(tb, "downtime page")
			wantFiguresAsTables(tb, "downtime page")
			if n := tb.count(`document.querySelectorAll('[data-testid="downtime-scope"][data-scope="gpus"]').length`); n != 1 {
				t.Errorf("%d windows of GPUs listed, want 1", n)
			}
			// By keyboard: the start, the scope, the targets, the button, the import.
			for _, sel := range []string{"#start", `input[name="scope"]`, "#targets", `[data-testid="downtime-save"]`, `[data-testid="downtime-import"]`} {
				tb.tabToSel(sel)
			}
			tb.screenshot(fmt.Sprintf("downtime-%d", size[0]))

			tb.do("open the programme's month", chromedp.Navigate(base+"/gpus/usage"), chromedp.WaitVisible(testID("programme-month")))
			tb.page("/gpus/usage")
			wantNoSideScroll(tb, "programme month")
			wantFiguresAsTables(tb, "programme month")
			team := fmt.Sprintf(`[data-testid="team-month-row"][data-org="%d"] a`, *upstage.OrganisationID)
			tb.tabToSel(team)
			tb.do("follow the team's link by keyboard", chromedp.KeyEvent("\r"), chromedp.WaitVisible(testID("team-month")))
			tb.page("/gpus/usage/:org")
			if p := tb.path(); p != fmt.Sprintf("/gpus/usage/%d", *upstage.OrganisationID) {
				t.Errorf("the team's link led to %s", p)
			}
			wantNoSideScroll(tb, "team month")
			wantFiguresAsTables(tb, "team month")
			tb.tabToSel(`[data-testid="export-csv"]`)
			tb.tabToSel(`[data-testid="export-xlsx"]`)
			tb.screenshot(fmt.Sprintf("team-month-%d", size[0]))
		})
	}
}
