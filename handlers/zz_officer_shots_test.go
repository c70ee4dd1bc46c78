package handlers

import (
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/testdb"
)

func TestZZOfficerShots(t *testing.T) {
	if os.Getenv("OFFICER_SHOTS") == "" {
		t.Skip()
	}
	f := newRankedFixture(t, testdb.SQLite)
	id := f.assign(t, 11, f.admin)
	b := newTestBrowser(t)
	tb := b.newTab(t)
	tb.do("signin", chromedp.Navigate(f.app.srv.URL+"/auth/signin"), chromedp.Click(`[data-testid="demo-officer"]`, chromedp.NodeVisible), chromedp.WaitVisible(testID("masthead")))
	for name, p := range map[string]string{
		"notice": fmt.Sprintf("/calls/%d", f.call.ID), "edit": fmt.Sprintf("/officer/calls/%d/edit", f.call.ID),
		"list": fmt.Sprintf("/officer/calls/%d/applications", f.call.ID), "ranking": fmt.Sprintf("/officer/calls/%d/ranking", f.call.ID),
		"reviews": "/reviews", "review": fmt.Sprintf("/reviews/%d", id-1), "followup": fmt.Sprintf("/officer/calls/%d/follow-up", f.call.ID),
	} {
		tb.do("open "+name, chromedp.Navigate(f.app.srv.URL+p), chromedp.WaitVisible(testID("masthead")))
		tb.page(name)
		tb.screenshot(name)
	}
}
