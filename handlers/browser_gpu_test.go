package handlers

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserAllocationChart: with the demo's simulated GPUs, a selected
// team opens its allocation and uPlot draws the charts from the series
// endpoint, without a CSP violation or a script error; a longer range
// reloads them by the day. An auditor sees the cluster status page.
func TestBrowserAllocationChart(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
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
	alloc := rows[0]
	base := app.srv.URL

	tb := b.newTab(t)
	tb.signIn(app, "demo-company-upstage", "company-dashboard")
	tb.do("open the allocations", chromedp.Navigate(base+"/allocations"), chromedp.WaitVisible(testID("allocation-link")))
	tb.page("/allocations")
	tb.do("open Upstage's allocation", chromedp.Click(testID("allocation-link")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="charts"][data-state="ready"]`)))
	if p := tb.path(); p != "/allocations/"+itoa(alloc.ID) {
		t.Errorf("the allocation link led to %s", p)
	}
	tb.page("/allocations/:id")
	checkCharts(t, tb, "3600")
	tb.screenshot("allocation-chart-ko")

	// The whole period since the demo began: one point per day.
	tb.do("show the whole period",
		chromedp.SetValue(chromedp.CSS(`#from`), "2026-11-01"),
		chromedp.Click(testID("range-apply")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="charts"][data-state="ready"][data-step="86400"]`)))
	tb.page("/allocations/:id by the day")
	checkCharts(t, tb, "86400")

	// One GPU.
	tb.do("pick one GPU",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#from').value = ''; document.querySelector('#gpu').selectedIndex = 1`),
		chromedp.Click(testID("range-apply")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="charts"][data-state="ready"][data-step="3600"]`)))
	if gpu := tb.eval(`new URL(location.href).searchParams.get('gpu')`); gpu == "" {
		t.Error("no GPU in the URL after picking one")
	}
	tb.page("/allocations/:id for one GPU")
	checkCharts(t, tb, "3600")

	// An auditor's cluster status page.
	aud := b.newTab(t)
	aud.signIn(app, "demo-auditor", "auditor-dashboard")
	aud.do("open the cluster status", chromedp.Navigate(base+"/gpus/clusters"), chromedp.WaitVisible(testID("clusters")))
	aud.page("/gpus/clusters")
	if n := aud.eval(`String(document.querySelectorAll('[data-testid="cluster-row"]').length)`); n != "5" {
		t.Errorf("%s clusters on the status page, want 5", n)
	}
}

// checkCharts checks that the three charts were drawn, with data, at the step.
func checkCharts(t *testing.T, tb *tab, step string) {
	t.Helper()
	if got := tb.applyAttr(`[data-testid="charts"]`, "data-step"); got != step {
		t.Errorf("chart step %s, want %s", got, step)
	}
	points, _ := strconv.Atoi(tb.applyAttr(`[data-testid="charts"]`, "data-points"))
	if points == 0 {
		t.Error("the series endpoint returned no data")
	}
	for _, name := range []string{"util", "power", "memory"} {
		n := tb.eval(`String(document.querySelectorAll('[data-chart="` + name + `"] .uplot canvas').length)`)
		if n == "0" {
			t.Errorf("no canvas in the %s chart", name)
		}
	}
	// The series that reached uPlot has values.
	if v := tb.eval(`String(document.querySelectorAll('[data-chart="util"] .uplot').length)`); v != "1" {
		t.Errorf("%s uPlot charts in the utilisation container, want 1", v)
	}
}
