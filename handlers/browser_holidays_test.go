package handlers

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserHolidayListImport: at 390 px and at 1400 px, an administrator
// imports next year's official list from a file chosen in the form, reviews
// its difference, confirms it, and sees the year's holidays come from it.
func TestBrowserHolidayListImport(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"390", 390, 844}, {"1400", 1400, 1000}} {
		t.Run(size.name, func(t *testing.T) {
			b := newTestBrowser(t)
			app := newTestApp(t, testdb.SQLite, nil)
			year := models.DateOf(app.clock.Now()).Year + 1 // the page shows this year and the next
			y := strconv.Itoa(year)
			file := filepath.Join(t.TempDir(), "holidays-"+y+".csv")
			var csv strings.Builder
			csv.WriteString("date,name_ko,name_en\n")
			for _, h := range models.KoreanHolidays.Year(year) {
				csv.WriteString(h.Date.String() + "," + h.Name + "," + h.NameEN + "\n")
			}
			csv.WriteString(y + "-05-01,노동절,Labour Day\n")
			if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			base := app.srv.URL
			tb := b.newTab(t)
			tb.do("viewport", chromedp.EmulateViewport(size.width, size.height))
			tb.signIn(app, "demo-admin", "admin-dashboard")
			tb.do("open the holidays page", chromedp.Navigate(base+"/admin/holidays"), chromedp.WaitVisible(testID("holiday-import-form")))
			tb.page("/admin/holidays")
			tb.do("fill the import form",
				chromedp.SetValue(chromedp.CSS(`#year`), y),
				chromedp.SetUploadFiles(chromedp.CSS(`#holiday-file`), []string{file}),
				chromedp.Click(testID("import-holidays")),
				chromedp.WaitVisible(testID("holiday-diff")))
			tb.page("the list's review")
			if got := tb.applyAttr(`[data-testid="diff-row"][data-date="`+y+`-05-01"]`, "data-status"); got != "added" {
				t.Errorf("05-01 status %q, want added", got)
			}
			tb.screenshot("holiday-list-review-" + size.name)
			tb.do("confirm", chromedp.Click(testID("confirm-list")), chromedp.WaitVisible(testID("notice")))
			tb.page("after confirming")
			app.clock.Advance(time.Second) // the list counts from the instant after it was confirmed
			tb.do("back to the holidays", chromedp.Navigate(base+"/admin/holidays"), chromedp.WaitVisible(testID("holiday-lists")))
			if got := tb.applyAttr(`[data-testid="year-source"][data-year="`+y+`"] [data-source]`, "data-source"); got != "list" {
				t.Errorf("%s's holidays come from %q, want the list", y, got)
			}
			if got := tb.applyAttr(`[data-testid="list-state"]`, "data-state"); got != "confirmed" {
				t.Errorf("list state %q", got)
			}
			if w := tb.eval(`String(document.documentElement.scrollWidth <= window.innerWidth + 1)`); w != "true" {
				t.Errorf("the holidays page scrolls sideways at %s px", size.name)
			}
		})
	}
}
