package handlers

import (
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserAllocationReplace: an officer replaces a GPU from the
// allocation page, through the confirmation page, and sees it in the history.
func TestBrowserAllocationReplace(t *testing.T) {
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
	a, err := models.GetAllocation(ctx, app.db, rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// A spare GPU delivered to the cluster.
	spare := "GPU-5a5a5a5a-0000-4000-8000-000000000001"
	if err := models.RecordGPUs(ctx, app.db, a.ClusterID, []models.SeenGPU{{UUID: spare, Node: "spare-node", Model: a.Cluster.GPUModel}},
		app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	start, _ := a.Span()
	at := models.FormatInstant(start.Add(24 * 60 * 60 * 1e9))
	at = at[:len(at)-len(" KST")]
	base := app.srv.URL

	tb := b.newTab(t)
	tb.signIn(app, "demo-officer", "officer-dashboard")
	tb.do("open the allocation", chromedp.Navigate(base+"/allocations/"+itoa(a.ID)), chromedp.WaitVisible(testID("allocation-change")))
	tb.do("open the change page", chromedp.Click(testID("allocation-change")), chromedp.WaitVisible(testID("change-replace-form")))
	tb.page("/officer/allocations/:id/change")
	tb.do("fill the replacement",
		chromedp.SetValue(chromedp.CSS(`[data-testid="change-replace-form"] #new`), spare),
		chromedp.SetValue(chromedp.CSS(`[data-testid="change-replace-form"] #at`), at),
		chromedp.SetValue(chromedp.CSS(`[data-testid="change-replace-form"] #reason`), "XID 79"),
		chromedp.Click(testID("change-replace-submit")),
		chromedp.WaitVisible(testID("confirm")))
	tb.page("replacement confirmation")
	tb.do("confirm", chromedp.Click(testID("confirm-submit")), chromedp.WaitVisible(testID("allocation-history")))
	tb.page("/allocations/:id after the replacement")
	if p := tb.path(); p != "/allocations/"+itoa(a.ID) {
		t.Errorf("the confirmation led to %s", p)
	}
	if n := tb.count(`document.querySelectorAll('[data-testid="allocation-change-row"][data-kind="replace"]').length`); n != 1 {
		t.Errorf("%d replacement rows in the history, want 1", n)
	}
}
