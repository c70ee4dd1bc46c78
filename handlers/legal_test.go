package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// Legal exactness through the real router: appeals against corrected
// decisions, the generated window sentence and further remedies of a
// published notice, and the remedies of an appeal answer.

// generatedFields are the publish form's fields the portal writes itself
// (the window sentence and the remedies), sent back as shown.
var generatedFields = []string{"window_notice_ko", "window_notice_en", "remedies_ko", "remedies_en"}

// shownNotice opens the ranking page and copies into form the generated
// notice text it shows, as a browser submitting that page would send it.
func shownNotice(t *testing.T, c *testClient, ranking string, form url.Values) {
	t.Helper()
	doc := wantPage(t, "ranking", c.get(ranking), http.StatusOK)
	for _, name := range generatedFields {
		v, ok := doc.Find(`[data-testid="publish-form"] input[name="` + name + `"]`).Attr("value")
		if !ok || v == "" {
			t.Fatalf("the publish form has no %s", name)
		}
		form.Set(name, v)
	}
}

// formValues is what a browser sends for the form sel of a page without
// touching it: its inputs (ticked boxes and radios only), selects and
// textareas, but no submit button.
func formFieldsOf(doc *goquery.Document, sel string) url.Values {
	v := url.Values{}
	doc.Find(sel).Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || name == "" {
			return
		}
		switch goquery.NodeName(s) {
		case "textarea":
			v.Add(name, s.Text())
		case "select":
			val, _ := s.Find("option[selected]").Attr("value")
			v.Add(name, val)
		default:
			switch typ, _ := s.Attr("type"); typ {
			case "submit", "button", "file":
			case "checkbox", "radio":
				if _, on := s.Attr("checked"); on {
					val, ok := s.Attr("value")
					if !ok {
						val = "on"
					}
					v.Add(name, val)
				}
			default:
				val, _ := s.Attr("value")
				v.Add(name, val)
			}
		}
	})
	return v
}

// TestPublishNoticeAsShown: the publish form shows the notice's sentence
// about the appeal window for the rule and deadline chosen, stating the
// closing instant; a form sent with the sentence of another rule publishes
// nothing and shows the right one; the decision page then shows exactly
// the text the form showed, and the content hash covers it.
func TestPublishNoticeAsShown(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newRankedFixture(t, kind) // now: Friday 2026-11-27 15:01 KST
		c := f.app.client()
		c.signInDemo("demo-officer")
		ranking := f.path("/officer/calls/%d/ranking", f.call.ID)
		publish := f.path("/officer/calls/%d/decision", f.call.ID)
		decisions := func() int64 { return count(t, f.app, &models.Decision{}, "call_id = ?", f.call.ID) }

		doc := wantPage(t, "ranking", c.get(ranking), http.StatusOK)
		civil := testIDText(doc, "window-notice-ko")
		if !strings.Contains(civil, "2026. 12. 7.(월) 24:00까지") || !strings.Contains(civil, "공고일은 산입하지 않고 다음 날부터 10일") {
			t.Errorf("civil sentence %q, want the close at the end of Monday 2026-12-07", civil)
		}
		if got := apValue(doc, `input[name="window_notice_ko"]`); got != civil {
			t.Errorf("the form sends %q, shows %q", got, civil)
		}
		if got := doc.Find(`textarea[name="notice_ko"]`).Text(); strings.Contains(got, "10일") {
			t.Errorf("the pre-filled notice still states a period itself: %q", got)
		}
		if got := testIDText(doc, "remedies-ko"); got != models.DefaultRemediesKO {
			t.Errorf("remedies shown %q, want the default", got)
		}

		// The officer switches to the announcement-day rule but sends the
		// civil sentence: nothing is published, the right sentence is shown.
		form := formFieldsOf(doc, `[data-testid="publish-form"]`)
		form.Set("counting_rule", string(models.RuleAnnouncementDay))
		doc = wantPage(t, "stale sentence", c.post(publish, form), http.StatusConflict)
		if got := testIDText(doc, "ranking-message"); !strings.Contains(got, "공표하지 않았습니다") {
			t.Errorf("message %q", got)
		}
		byDay := testIDText(doc, "window-notice-ko")
		if byDay == civil || !strings.Contains(byDay, "2026. 12. 7.(월) 24:00까지") ||
			!strings.Contains(byDay, "공고일을 첫날로 하여 10일이며, 마지막 날인 2026. 12. 6.(일)") {
			t.Errorf("announcement-day sentence %q", byDay)
		}
		if n := decisions(); n != 0 {
			t.Fatalf("%d decisions after a stale sentence", n)
		}

		// An explicit deadline: the preview rewrites the sentence and publishes nothing.
		form = formFieldsOf(doc, `[data-testid="publish-form"]`)
		form.Set("explicit_close", "2026-12-10T18:00")
		form.Set("preview", "1")
		doc = wantPage(t, "preview", c.post(publish, form), http.StatusOK)
		explicit := testIDText(doc, "window-notice-ko")
		if explicit != "결과에 이의가 있는 신청기관은 2026. 12. 10.(목) 18:00까지 이 포털에서 이의신청을 할 수 있습니다." {
			t.Errorf("explicit sentence %q", explicit)
		}
		explicitEN := testIDText(doc, "window-notice-en")
		if n := decisions(); n != 0 {
			t.Fatalf("%d decisions after a preview", n)
		}

		// Published as shown.
		form = formFieldsOf(doc, `[data-testid="publish-form"]`)
		if form.Get("explicit_close") != "2026-12-10T18:00" || form.Get("counting_rule") != string(models.RuleAnnouncementDay) {
			t.Fatalf("the preview lost the input: %v", form)
		}
		form.Del("preview")
		form.Set("confirm", "1")
		resp := c.post(publish, form)
		wantCode(t, "", resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		anon := f.app.client()
		doc = wantPage(t, "decision", anon.get(loc), http.StatusOK)
		if got := testIDText(doc, "decision-window-notice"); got != explicit {
			t.Errorf("published sentence %q, shown %q", got, explicit)
		}
		if got := testIDText(doc, "decision-remedies-text"); got != models.DefaultRemediesKO {
			t.Errorf("published remedies %q", got)
		}
		if got := testIDText(doc, "appeal-closes"); got != "2026-12-10 18:00:00 KST" {
			t.Errorf("the window the portal enforces closes %q", got)
		}
		if v, _ := doc.Find(`[data-testid="decision-verified"]`).Attr("data-verified"); v != "true" {
			t.Error("the published decision does not verify")
		}
		var d models.Decision
		if err := f.app.db.Where("call_id = ?", f.call.ID).First(&d).Error; err != nil {
			t.Fatal(err)
		}
		if d.WindowNoticeEN != explicitEN || d.HashVersion != 2 {
			t.Errorf("stored English sentence %q (version %d), shown %q", d.WindowNoticeEN, d.HashVersion, explicitEN)
		}
	})
}

// TestAppealCorrectedDecisionRefused: a direct POST of an appeal against a
// decision that corrections replaced answers 409 with the reason and a link
// to the decision that stands at the end of the chain, and files nothing;
// the form answers the same.
func TestAppealCorrectedDecisionRefused(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		off := f.signIn("demo-officer")
		ranking := "/officer/calls/" + itoa(f.call.ID) + "/ranking"
		uphold := func(id uint) {
			base := views.AppealHref(id)
			wantSeeOther(t, "review", off.post(base+"/review", nil), base+"?done=review")
			wantSeeOther(t, "uphold", off.post(base+"/decide", url.Values{"outcome": {"uphold"}, "reasons": {"인용합니다."}, "confirm": {"1"}}), base+"?done=upheld")
		}
		correct := func(d *models.Decision) *models.Decision {
			t.Helper()
			f.app.clock.Advance(time.Minute)
			doc := wantPage(t, "ranking", off.get(ranking), http.StatusOK)
			form := formFieldsOf(doc, `[data-testid="publish-form"]`)
			form.Set("confirm", "1")
			resp := off.post("/officer/calls/"+itoa(f.call.ID)+"/decision", form)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("correcting %d: status %d: %s", d.ID, resp.StatusCode, snippet(readAll(resp)))
			}
			var fix models.Decision
			if err := f.app.db.First(&fix, strings.TrimPrefix(loc, "/decisions/")).Error; err != nil || fix.SupersedesID == nil || *fix.SupersedesID != d.ID {
				t.Fatalf("correction %s: %+v, %v", loc, fix, err)
			}
			return &fix
		}
		kaist, upstage := f.company("kaist"), f.company("upstage")
		first := f.decision
		uphold(f.fileAs(kaist, "점수 합산 오류"))
		second := correct(first)
		f.decision = second // the fixture's form and post now address the correction
		uphold(f.fileAs(upstage, "정정 결과의 오류"))
		third := correct(second)

		for _, d := range []*models.Decision{first, second} {
			f.decision = d
			path := f.appealPath()
			before := count(t, f.app, &models.Appeal{}, "")
			form := url.Values{"ground": {string(models.GroundScoringError)}, "statement": {"직접 제출한 이의신청"},
				"idempotency_key": {models.RandomToken(24)}}
			doc := wantPage(t, "POST "+path, f.post(kaist, form), http.StatusConflict)
			if got := testIDText(doc, "appeal-superseded"); !strings.Contains(got, "정정되어") {
				t.Errorf("POST %s: reason %q", path, got)
			}
			if href, _ := doc.Find(`[data-testid="standing-link"]`).Attr("href"); href != "/decisions/"+itoa(third.ID) {
				t.Errorf("POST %s: links %q, want the standing decision /decisions/%d", path, href, third.ID)
			}
			if n := count(t, f.app, &models.Appeal{}, ""); n != before {
				t.Errorf("POST %s filed an appeal (%d → %d)", path, before, n)
			}
			doc = wantPage(t, "GET "+path, kaist.get(path), http.StatusConflict)
			if href, _ := doc.Find(`[data-testid="standing-link"]`).Attr("href"); href != "/decisions/"+itoa(third.ID) ||
				doc.Find(`[data-testid="appeal-form"]`).Length() != 0 {
				t.Errorf("GET %s: links %q, form shown %d", path, href, doc.Find(`[data-testid="appeal-form"]`).Length())
			}
		}
		// The standing decision takes appeals.
		f.decision = third
		wantPage(t, "standing form", kaist.get(f.appealPath()), http.StatusOK)
	})
}

// TestAppealAnswerStatesRemedies: the call form offers the default further
// remedies and keeps an officer's own; a published decision keeps the text
// it was published with, and an appeal answer states the call's text as it
// stood when the appeal was decided.
func TestAppealAnswerStatesRemedies(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		off := f.signIn("demo-officer")
		doc := wantPage(t, "new call", off.get("/officer/calls/new"), http.StatusOK)
		if got := doc.Find(`textarea[name="remedies_ko"]`).Text(); got != models.DefaultRemediesKO {
			t.Errorf("new call remedies %q, want the default", got)
		}

		edit := "/officer/calls/" + itoa(f.call.ID) + "/edit"
		doc = wantPage(t, "edit call", off.get(edit), http.StatusOK)
		form := formFieldsOf(doc, `[data-testid="call-form"]`)
		const own = "이 결과에 불복하는 경우 90일 이내에 중앙행정심판위원회에 행정심판을 청구할 수 있습니다."
		form.Set("remedies_ko", own)
		resp := off.post("/officer/calls/"+itoa(f.call.ID), form)
		wantCode(t, "", resp, http.StatusSeeOther)
		doc = wantPage(t, "edit again", off.get(edit), http.StatusOK)
		if got := doc.Find(`textarea[name="remedies_ko"]`).Text(); got != own {
			t.Errorf("saved remedies %q", got)
		}

		kaist := f.company("kaist")
		doc = wantPage(t, "decision", kaist.get("/decisions/"+itoa(f.decision.ID)), http.StatusOK)
		if got := testIDText(doc, "decision-remedies-text"); got != models.DefaultRemediesKO {
			t.Errorf("the published decision states %q, want the text it was published with", got)
		}
		id := f.fileAs(kaist, "평가 절차의 하자")
		base := views.AppealHref(id)
		if doc = wantPage(t, "undecided", kaist.get(base), http.StatusOK); doc.Find(`[data-testid="appeal-remedies"]`).Length() != 0 {
			t.Error("an undecided appeal states remedies")
		}
		wantSeeOther(t, "review", off.post(base+"/review", nil), base+"?done=review")
		wantSeeOther(t, "dismiss", off.post(base+"/decide", url.Values{"outcome": {"dismiss"}, "reasons": {"하자가 없습니다."}, "confirm": {"1"}}), base+"?done=dismissed")
		doc = wantPage(t, "answer", kaist.get(base), http.StatusOK)
		if got := testIDText(doc, "appeal-remedies"); got != own {
			t.Errorf("the answer states %q, want the call's remedies", got)
		}
	})
}
