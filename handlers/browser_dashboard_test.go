package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// TestBrowserDashboardAppealJourney: a decision is published (by the
// officer, through the model function) that does not select KAIST; its
// notice waits in KAIST's inbox with the result and the appeal window and
// leads to the decision; KAIST's dashboard shows its result with the rank, the closing instant and the
// live countdown, and KAIST files an appeal from there, by keyboard, then
// sees its receipt on the dashboard; on a phone and on a desktop, without
// sideways scroll.
func TestBrowserDashboardAppealJourney(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	for _, width := range []int64{390, 1400} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			f := newAplFixture(t, testdb.SQLite)
			base := f.app.srv.URL
			team := b.newTab(t)
			team.do("set the viewport", chromedp.EmulateViewport(width, 900))
			team.signIn(f.app, "demo-company-kaist", "company-dashboard")

			// The decision's notice waits in KAIST's inbox, counted in the
			// header; it names the result and the appeal window and leads
			// to the decision.
			if got := team.eval(`String(document.querySelector('[data-testid="unread-count"]') !== null)`); got != "true" {
				t.Errorf("no unread count in KAIST's header after the decision")
			}
			team.do("open the inbox by keyboard", chromedp.Focus(testID("inbox-link")), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("inbox-list")))
			closes := strings.TrimSuffix(views.KST(f.window.Closes), " KST")
			body := team.eval(`(() => { const items = Array.from(document.querySelectorAll('[data-testid="inbox-item"]'));
				const li = items.find(li => li.dataset.kind === 'decision.published' && li.dataset.unread === 'true' &&
					li.querySelector('[data-testid="inbox-body"]').textContent.includes(` + strconv.Quote(closes) + `));
				if (!li) return 'none';
				li.querySelector('[data-testid="inbox-open"]').setAttribute('data-journey', 'open');
				return li.querySelector('[data-testid="inbox-body"]').textContent.trim() })()`)
			if body == "none" {
				t.Fatalf("no unread notice of the decision closing %s in KAIST's inbox", closes)
			}
			if !strings.Contains(body, "미선정") {
				t.Errorf("the notice does not say KAIST was not selected: %q", body)
			}
			wantNoSideScroll(team, fmt.Sprintf("inbox at %d px", width))
			team.do("open the notice by keyboard", chromedp.Focus(`[data-journey="open"]`), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("own-status")))
			if got, want := team.path(), fmt.Sprintf("/decisions/%d", f.decision.ID); got != want {
				t.Errorf("the notice led to %s, want %s", got, want)
			}

			result := fmt.Sprintf(`[data-testid="result"][data-decision="%d"]`, f.decision.ID)
			team.do("open the dashboard", chromedp.Navigate(base+"/company"), chromedp.WaitVisible(result))
			team.page("/company")
			wantNoSideScroll(team, fmt.Sprintf("company dashboard at %d px", width))
			if got := team.applyAttr(result, "data-selected"); got != "false" {
				t.Errorf("KAIST's result selected = %q, want false", got)
			}
			if got := team.text(result + ` [data-testid="result-window-closes"]`); got != views.KST(f.window.Closes) {
				t.Errorf("closing instant %q, want %q", got, views.KST(f.window.Closes))
			}
			cd := result + ` [data-testid="countdown"]`
			if got := team.applyAttr(cd, "data-remaining"); got == "" || got == "0" {
				t.Errorf("countdown remaining %q, want the time left", got)
			}
			if got := team.text(cd); !strings.HasSuffix(got, "초 남음") {
				t.Errorf("countdown text %q", got)
			}
			team.screenshot(fmt.Sprintf("dashboard-company-result-%d", width))

			link := result + ` [data-testid="result-appeal-link"]`
			team.do("go to the appeal form by keyboard", chromedp.Focus(link, chromedp.NodeVisible), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(testID("appeal-form")))
			wantNoSideScroll(team, fmt.Sprintf("appeal form at %d px", width))
			team.do("file the appeal",
				chromedp.SetValue(chromedp.CSS(`#ground`), string(models.GroundScoringError)),
				chromedp.SetValue(chromedp.CSS(`#statement`), "기술성 점수의 합산에 오류가 있어 재검토를 요청합니다."),
				chromedp.Click(testID("appeal-submit")),
				chromedp.WaitVisible(testID("appeal-receipt")))
			receipt := team.text(`[data-testid="appeal-receipt"]`)

			team.do("back to the dashboard", chromedp.Navigate(base+"/company"), chromedp.WaitVisible(result+` [data-testid="result-appeal"]`))
			if got := team.text(result + ` [data-testid="result-appeal"] a`); !strings.Contains(got, receipt) {
				t.Errorf("dashboard shows %q, want the receipt %s", got, receipt)
			}
			if n := team.count(`document.querySelectorAll('` + result + ` [data-testid="result-appeal-link"]').length`); n != 0 {
				t.Errorf("after filing, the dashboard still offers to appeal (%d links)", n)
			}
			wantNoSideScroll(team, fmt.Sprintf("company dashboard after the appeal at %d px", width))
		})
	}
}

// TestBrowserDashboardsFit: on the demo story, each role's dashboard (and
// the external evaluator's lists) fits a phone and a desktop without
// sideways scroll, every task link is on screen, and the first task link
// takes the keyboard's focus with a visible outline.
func TestBrowserDashboardsFit(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)
	seedDemoStory(t, app)
	base := app.srv.URL
	for _, who := range []struct {
		subject, start, path, ready string
	}{
		{"demo-company-kaist", "company-dashboard", "/company", "company-results"},
		{"demo-company-upstage", "company-dashboard", "/company", "company-gpu"},
		{"demo-officer", "officer-dashboard", "/officer", "officer-telemetry"},
		{"demo-auditor", "auditor-dashboard", "/auditor", "auditor-queue"},
		{"demo-reviewer", "evaluator-lead", "/evaluations", "evaluation"},
		{"demo-reviewer", "evaluator-lead", "/reviews", "review-due"},
	} {
		// One sign-in for both widths: the page is loaded again at each.
		tb := b.newTab(t)
		tb.signIn(app, who.subject, who.start)
		for _, width := range []int64{390, 1400} {
			name := fmt.Sprintf("%s %s at %d px", who.subject, who.path, width)
			tb.do("set the viewport", chromedp.EmulateViewport(width, 900))
			tb.do("open "+who.path, chromedp.Navigate(base+who.path), chromedp.WaitVisible(testID(who.ready)))
			tb.page(who.path)
			wantNoSideScroll(tb, name)
			hidden := tb.eval(`Array.from(document.querySelectorAll('.portal-tasks a, .portal-task-list a')).filter(a => {
				const r = a.getBoundingClientRect(); return r.width === 0 || r.height === 0 || r.right > window.innerWidth }).map(a => a.textContent.trim()).join(' | ')`)
			if hidden != "" {
				t.Errorf("%s: task links off screen: %s", name, hidden)
			}
			focus := tb.eval(`(() => { const a = document.querySelector('.portal-task-list a, .portal-tasks a'); if (!a) return 'none';
				a.focus(); const s = getComputedStyle(a);
				return String(document.activeElement === a && (s.outlineStyle !== 'none' || s.boxShadow !== 'none')) })()`)
			if focus != "true" && focus != "none" {
				t.Errorf("%s: the first task link takes no visible focus (%s)", name, focus)
			}
			tb.screenshot(fmt.Sprintf("dashboard-%s-%s-%d", who.subject, strings.Trim(strings.ReplaceAll(who.path, "/", "-"), "-"), width))
		}
		tb.done()
	}
}
