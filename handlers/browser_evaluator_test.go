package handlers

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBrowserEvaluator: the external evaluator signs in, lands on their
// assignments, and by keyboard opens the one assigned, declares no
// conflict and scores every criterion, at phone and desktop widths; the
// pages never scroll sideways and the navigation offers nothing else of
// the programme.
func TestBrowserEvaluator(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int64{{390, 844}, {1400, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := newOffFixture(t, testdb.SQLite, 2)
			ev := f.user("demo-reviewer")
			aid := f.assign(t, 0, ev)
			f.assign(t, 1, f.officer)
			base := f.app.srv.URL

			b := newTestBrowser(t)
			tb := b.newTab(t)
			tb.do("set the viewport", chromedp.EmulateViewport(size[0], size[1]))
			tb.openHome(base)
			tb.do("open the sign-in page", chromedp.Navigate(base+"/auth/signin"), chromedp.WaitVisible(testID("demo-signin")))
			tb.do("sign in as the external evaluator", chromedp.Click(`[data-subject="demo-reviewer"]`),
				chromedp.WaitVisible(testID("evaluator-lead")))
			tb.page("/reviews")
			tb.screenshot(fmt.Sprintf("evaluator-reviews-%d", size[0]))
			wantNoSideScroll(tb, "/reviews")
			if got := tb.eval(`String(document.querySelectorAll('[data-testid="review-row"]').length)`); got != "1" {
				t.Errorf("%s assignments listed, want 1", got)
			}
			if got := tb.eval(`String(document.querySelectorAll('nav a[href^="/officer"], nav a[href="/audit"], nav a[href^="/organisations"], nav a[href^="/gpus"]').length)`); got != "0" {
				t.Errorf("the evaluator's navigation offers %s programme pages", got)
			}

			link := fmt.Sprintf(`[data-testid="review-row"][data-assignment="%d"] [data-testid="review-link"]`, aid)
			tb.do("open the assignment by keyboard", chromedp.Focus(link), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("conflict-form")))
			tb.page("/reviews/:aid")
			wantNoSideScroll(tb, "/reviews/:aid")
			if got := tb.eval(`String(document.querySelectorAll('[data-testid="review-document"]').length)`); got != "1" {
				t.Errorf("%s documents on the review page, want 1", got)
			}
			tb.do("declare no conflict by keyboard",
				chromedp.Focus(`[data-testid="conflict-form"] input[name="conflict"][value="none"]`), chromedp.KeyEvent(" "),
				chromedp.Focus(`[data-testid="conflict-submit"]`), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(`[data-testid="conflict-state"][data-conflict="none"]`))
			var scoring []chromedp.Action[chromedp.Void]
			for i, cr := range f.call.Criteria {
				id := itoa(cr.ID)
				scoring = append(scoring,
					chromedp.SendKeys(chromedp.CSS(`[name="score.`+id+`"]`), fmt.Sprint(9-i)),
					chromedp.SendKeys(chromedp.CSS(`[name="comment.`+id+`"]`), cr.NameKO+": 근거가 충분함."))
			}
			scoring = append(scoring, chromedp.Focus(`[data-testid="scores-submit"]`), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("scores-saved")))
			tb.do("score every criterion", scoring...)
			tb.page("/reviews/:aid (scored)")
			tb.screenshot(fmt.Sprintf("evaluator-review-%d", size[0]))
			wantNoSideScroll(tb, "/reviews/:aid (scored)")
			if n := count(t, f.app, &models.Score{}, "assignment_id = ?", aid); n != int64(len(f.call.Criteria)) {
				t.Errorf("%d scores saved, want %d", n, len(f.call.Criteria))
			}
		})
	}
}
