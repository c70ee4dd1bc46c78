package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// Appeals (이의신청) through the real router: filing inside and outside the
// window (to the second), idempotent double submits, evidence uploads, the
// officer's review and answer, the public page's statistics and standing,
// the corrected decision, overdue flags and isolation between companies.

// aplFixture is a call of the tests' own with two applicants, Upstage
// (selected) and KAIST (not selected), scored and decided: the decision is
// published at 2026-11-27 15:01 KST (a Friday), so under the Civil Act rule
// its window's last day is Monday 2026-12-07 and it closes at
// 2026-12-08 00:00:00 KST.
type aplFixture struct {
	*story
	t        *testing.T
	call     *models.Call
	officer  *models.User
	decision *models.Decision
	window   models.Window
	apps     map[string]uint // organisation code → application
}

const aplCloses = "2026-12-08 00:00:00 KST"

func newAplFixture(t *testing.T, kind testdb.Kind) *aplFixture {
	t.Helper()
	s := newStory(t, kind, nil)
	c := s.decidedCall("2027년 이의신청 시험 공모", applicant{"upstage", 9, true}, applicant{"kaist", 6, false})
	f := &aplFixture{story: s, t: t, call: c.Call, officer: s.officer(), decision: c.decision, apps: map[string]uint{}}
	for code, a := range c.apps {
		f.apps[code] = a.ID
	}
	var err error
	if f.window, err = models.DecisionWindow(t.Context(), s.app.db, f.decision, s.now()); err != nil {
		t.Fatal(err)
	}
	if got := views.KST(f.window.Closes); got != aplCloses || f.window.LastDay.String() != "2026-12-07" {
		t.Fatalf("window closes %s (last day %s), want %s", got, f.window.LastDay, aplCloses)
	}
	return f
}

// company signs a company's demo user in at the current clock.
func (f *aplFixture) company(code string) *testClient { return f.signIn("demo-company-" + code) }

func (f *aplFixture) appealPath() string { return "/decisions/" + itoa(f.decision.ID) + "/appeal" }

// post sends the appeal form as multipart/form-data, as the browser does.
func (f *aplFixture) post(c *testClient, form url.Values, files ...storyFile) *http.Response {
	f.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrfToken())
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if len(files) == 0 {
		// An empty <input type=file multiple>: a part with no name or content.
		w.CreateFormFile("evidence", "")
	}
	for _, fl := range files {
		fw, err := w.CreateFormFile("evidence", fl.name)
		if err != nil {
			f.t.Fatal(err)
		}
		fw.Write(fl.content)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, f.app.srv.URL+f.appealPath(), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// form opens the filing form and returns the fields as the browser would
// send them, with the statement typed in.
func (f *aplFixture) form(c *testClient, ground models.AppealGround, statement string) url.Values {
	f.t.Helper()
	doc := wantPage(f.t, "the appeal form", c.get(f.appealPath()), http.StatusOK)
	key, _ := doc.Find(`[data-testid="appeal-form"] input[name="idempotency_key"]`).Attr("value")
	if len(key) < 16 {
		f.t.Fatalf("the form's idempotency key is %q", key)
	}
	return url.Values{"ground": {string(ground)}, "statement": {statement}, "idempotency_key": {key}}
}

var aplLocation = regexp.MustCompile(`^/appeals/(\d+)\?filed=1$`)

// filed checks a 303 to an appeal's receipt and returns the appeal's id.
func (f *aplFixture) filed(what string, resp *http.Response) uint {
	f.t.Helper()
	body := readAll(resp)
	loc := resp.Header.Get("Location")
	m := aplLocation.FindStringSubmatch(loc)
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		f.t.Fatalf("%s: status %d to %q, want 303 to /appeals/:id?filed=1: %s", what, resp.StatusCode, loc, snippet(body))
	}
	var id uint
	fmt.Sscan(m[1], &id)
	return id
}

// fileAs files an appeal for a company through the form, with evidence.
func (f *aplFixture) fileAs(c *testClient, statement string, files ...storyFile) uint {
	f.t.Helper()
	return f.filed("file "+statement, f.post(c, f.form(c, models.GroundProceduralDefect, statement), files...))
}

func (f *aplFixture) appeal(id uint) *models.Appeal {
	f.t.Helper()
	a, err := models.GetAppeal(f.t.Context(), f.app.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// latecomer is a company user of an organisation the decision does not concern.
func (f *aplFixture) latecomer() *testClient {
	f.t.Helper()
	org := &models.Organisation{Code: "latecomer", NameKO: "늦은기업", NameEN: "Latecomer", Kind: models.OrgCompany}
	if err := f.app.db.Create(org).Error; err != nil {
		f.t.Fatal(err)
	}
	if _, err := models.UpsertUser(f.t.Context(), f.app.db, models.Identity{Issuer: models.DemoIssuer, Subject: "demo-company-latecomer",
		Name: "늦은 사용자", Role: models.RoleCompany, OrganisationID: &org.ID}, f.app.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
	return f.company("latecomer")
}

func TestAppealFileWithEvidence(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		f.app.clock.Advance(3 * 24 * time.Hour) // Monday 2026-11-30 15:01 KST: inside the window
		now := f.app.clock.Now()
		kaist := f.company("kaist")

		// The public page: the window, a countdown, the link to file, no appeals yet.
		dpath := "/decisions/" + itoa(f.decision.ID)
		doc := wantPage(t, "decision", kaist.get(dpath), http.StatusOK)
		if href, _ := doc.Find(`[data-testid="appeal-link"]`).Attr("href"); href != f.appealPath() {
			t.Errorf("appeal link = %q, want %q", href, f.appealPath())
		}
		if got := testIDText(doc, "appeal-closes"); got != aplCloses {
			t.Errorf("decision page closes %q, want %q", got, aplCloses)
		}
		cd := doc.Find(`[data-testid="appeal-window"] [data-testid="countdown"]`)
		if closes, _ := cd.Attr("data-closes"); closes != "2026-12-07T15:00:00.000Z" {
			t.Errorf("countdown data-closes = %q", closes)
		}
		if left, _ := cd.Attr("data-remaining"); left != fmt.Sprint(int64(f.window.Closes.Sub(now)/time.Second)) {
			t.Errorf("countdown data-remaining = %q", left)
		}
		if got := strings.TrimSpace(cd.Text()); got != "7일 08시간 59분 00초 남음" {
			t.Errorf("countdown text = %q", got)
		}
		if got := testIDText(doc, "stat-filed"); got != "0" {
			t.Errorf("stat-filed = %q before any appeal", got)
		}
		// Upstage, selected, is concerned too and may appeal; the public may not.
		if doc := wantPage(t, "decision", f.company("upstage").get(dpath), http.StatusOK); doc.Find(`[data-testid="appeal-link"]`).Length() != 1 {
			t.Error("Upstage sees no appeal link")
		}
		anon := f.app.client()
		if doc := wantPage(t, "decision", anon.get(dpath), http.StatusOK); doc.Find(`[data-testid="appeal-link"]`).Length() != 0 {
			t.Error("the public sees an appeal link")
		}

		// The form: grounds in the legal wording, the window to the second.
		doc = wantPage(t, "form", kaist.get(f.appealPath()), http.StatusOK)
		if got := strings.TrimSpace(doc.Find(`#ground option[value="procedural_defect"]`).Text()); got != "평가 절차의 중대한 하자" {
			t.Errorf("procedural_defect option = %q", got)
		}
		if n := doc.Find(`#ground option[value!=""]`).Length(); n != len(models.AppealGrounds) {
			t.Errorf("%d grounds offered, want %d", n, len(models.AppealGrounds))
		}
		for id, want := range map[string]string{"window-opens": "2026-11-27 15:01:00 KST", "window-last-day": "2026-12-07 (월)",
			"window-closes": aplCloses} {
			if got := testIDText(doc, id); got != want {
				t.Errorf("form %s = %q, want %q", id, got, want)
			}
		}
		if enc, _ := doc.Find(`[data-testid="appeal-form"]`).Attr("enctype"); enc != "multipart/form-data" {
			t.Errorf("form enctype %q", enc)
		}
		if _, ok := doc.Find(`input[type="file"][name="evidence"]`).Attr("multiple"); !ok {
			t.Error("the evidence input does not take several files")
		}

		// Filing with two pieces of evidence.
		statement := "평가위원 구성이 공고와 달랐습니다.\n둘째 줄."
		pdf := apPDF(200)
		id := f.filed("file", f.post(kaist, f.form(kaist, models.GroundProceduralDefect, statement),
			storyFile{"회의록.pdf", pdf}, storyFile{"../의견서.hwp", apHWP()}))
		a := f.appeal(id)
		if a.Status != models.AppealReceived || a.Ground != models.GroundProceduralDefect || a.Statement != statement || len(a.Evidence) != 2 {
			t.Fatalf("appeal %+v", a)
		}
		if want := models.AppealReceipt(a.ID, now); a.Receipt != want {
			t.Errorf("receipt %q, want %q", a.Receipt, want)
		}
		if want := now.AddDate(0, 0, f.app.cfg.AppealAnswerDays); !a.AnswerBy.Equal(want) {
			t.Errorf("answer by %v, want %v", a.AnswerBy, want)
		}
		if n := count(t, f.app, &models.AuditEntry{}, "action = ? AND object_id = ?", "appeal.file", itoa(id)); n != 1 {
			t.Errorf("%d audit rows appeal.file, want 1", n)
		}

		// The acknowledgement: receipt number and filing time to the second.
		doc = wantPage(t, "receipt", kaist.get(views.AppealHref(id)+"?filed=1"), http.StatusOK)
		if got := testIDText(doc, "appeal-receipt"); got != a.Receipt || !strings.HasPrefix(got, "KAI-APL-20261130-") {
			t.Errorf("receipt shown %q, stored %q", got, a.Receipt)
		}
		if got := testIDText(doc, "appeal-filed-at"); got != "2026-11-30 15:01:00 KST" {
			t.Errorf("filed at %q", got)
		}
		if got := doc.Find(`[data-testid="appeal-statement"]`).Text(); got != statement {
			t.Errorf("statement shown %q", got)
		}
		var names []string
		doc.Find(`[data-testid="evidence-link"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, strings.TrimSpace(s.Text())) })
		if strings.Join(names, "|") != "회의록.pdf|의견서.hwp" {
			t.Errorf("evidence names %q", names)
		}
		if doc.Find(`[data-testid="appeal-actions"]`).Length() != 0 {
			t.Error("the company sees the officer's actions")
		}

		// The evidence downloads as an attachment.
		href, _ := doc.Find(`[data-testid="evidence-link"]`).First().Attr("href")
		resp := kaist.get(href)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdf) {
			t.Errorf("evidence download: status %d, %d bytes", resp.StatusCode, len(body))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''%ED%9A%8C") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}

		// Lists and the public counts.
		doc = wantPage(t, "company list", kaist.get("/appeals"), http.StatusOK)
		if got := testIDTexts(doc, "appeal-link"); len(got) != 1 || got[0] != a.Receipt {
			t.Errorf("KAIST's list: %q", got)
		}
		if doc.Find(`[data-testid="appeal-organisation"]`).Length() != 0 {
			t.Error("the company list has an organisation column")
		}
		doc = wantPage(t, "public page", anon.get(dpath), http.StatusOK)
		for id, want := range map[string]string{"stat-filed": "1", "stat-upheld": "0", "stat-dismissed": "0", "stat-pending": "1"} {
			if got := testIDText(doc, id); got != want {
				t.Errorf("public %s = %q, want %q", id, got, want)
			}
		}
		if strings.Contains(doc.Find("main").Text(), "평가위원 구성이") || doc.Find(`[data-testid="own-appeals"]`).Length() != 0 {
			t.Error("the public page shows an appeal's contents")
		}
		doc = wantPage(t, "decision", kaist.get(dpath), http.StatusOK)
		if st, _ := doc.Find(`[data-testid="own-appeal"]`).Attr("data-status"); st != "received" {
			t.Errorf("KAIST's own appeal on the decision page: status %q", st)
		}
	})
}

func TestAppealClosingInstant(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		closes := f.window.Closes

		// One second before the closing instant: accepted.
		f.app.clock.Set(closes.Add(-time.Second))
		kaist := f.company("kaist")
		id := f.fileAs(kaist, "마감 1초 전 제출")
		if got := views.KST(f.appeal(id).FiledAt); got != "2026-12-07 23:59:59 KST" {
			t.Errorf("filed at %s", got)
		}
		// A form opened before the close, sent at and after it: refused.
		statement := "마감 직후에 보낸 이의신청입니다.\n<b>그대로</b> 남아야 합니다."
		form := f.form(kaist, models.GroundScoringError, statement)
		for _, at := range []time.Duration{0, time.Second} {
			f.app.clock.Set(closes.Add(at))
			resp := f.post(kaist, form, storyFile{"근거.pdf", apPDF(10)})
			doc := wantPage(t, fmt.Sprintf("closes%+v", at), resp, http.StatusConflict)
			if got := testIDText(doc, "appeal-late"); !strings.Contains(got, aplCloses) {
				t.Errorf("closes%+v: message %q does not show %s", at, got, aplCloses)
			}
			if got := doc.Find(`textarea[name="statement"]`).Text(); got != statement {
				t.Errorf("closes%+v: statement kept as %q", at, got)
			}
			if sel, _ := doc.Find(`#ground option[selected]`).Attr("value"); sel != string(models.GroundScoringError) {
				t.Errorf("closes%+v: ground kept as %q", at, sel)
			}
			if doc.Find(`[data-testid="appeal-submit"]`).Length() != 0 {
				t.Errorf("closes%+v: a submit button after the close", at)
			}
		}
		if n := count(t, f.app, &models.Appeal{}, ""); n != 1 {
			t.Errorf("%d appeals, want 1", n)
		}
		if n := count(t, f.app, &models.StoredFile{}, "name = ?", "근거.pdf"); n != 0 {
			t.Errorf("late filings stored %d files", n)
		}
		// After the close the form is not offered, nor the link.
		doc := wantPage(t, "form after", kaist.get(f.appealPath()), http.StatusOK)
		if doc.Find(`[data-testid="appeal-form"]`).Length() != 0 || !strings.Contains(testIDText(doc, "appeal-closed"), aplCloses) {
			t.Error("after the close: the form is offered, or the closing instant not shown")
		}
		doc = wantPage(t, "decision after", kaist.get("/decisions/"+itoa(f.decision.ID)), http.StatusOK)
		if doc.Find(`[data-testid="appeal-link"]`).Length() != 0 || doc.Find(`[data-testid="appeal-window"] [data-testid="countdown"]`).Length() != 0 {
			t.Error("after the close: the decision page still offers to appeal")
		}

		// Before the announcement: impossible (a clock set back).
		f.app.clock.Set(f.decision.PublishedAt.Add(-time.Second))
		doc = wantPage(t, "early", f.post(kaist, url.Values{"ground": {"other"}, "statement": {"이른 신청"},
			"idempotency_key": {models.RandomToken(24)}}), http.StatusConflict)
		if doc.Find(`[data-testid="appeal-early"]`).Length() != 1 {
			t.Error("a filing before the announcement is not refused as early")
		}
		if n := count(t, f.app, &models.Appeal{}, ""); n != 1 {
			t.Errorf("%d appeals after the early try, want 1", n)
		}
	})
}

// TestAppealWindowWithOneOffHoliday: a temporary holiday declared on the
// last day moves the window on the decision page and for filing.
func TestAppealWindowWithOneOffHoliday(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		f.app.clock.Advance(time.Hour)
		f.holiday("2026-12-07", "임시공휴일", "Temporary holiday")
		f.app.clock.Set(time.Date(2026, 12, 8, 12, 0, 0, 0, models.KST)) // past the table's close, inside the moved one
		kaist := f.company("kaist")
		doc := wantPage(t, "decision", kaist.get("/decisions/"+itoa(f.decision.ID)), http.StatusOK)
		for id, want := range map[string]string{"appeal-last-day": "2026-12-08 (화) (본래 2026-12-07이었으나 휴일로 미뤄짐)", "appeal-closes": "2026-12-09 00:00:00 KST"} {
			if got := testIDText(doc, id); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		if !strings.Contains(testIDText(doc, "appeal-moved"), "2026-12-07") || doc.Find(`[data-testid="appeal-link"]`).Length() != 1 {
			t.Error("the moved window is not explained, or the appeal link is missing")
		}
		id := f.fileAs(kaist, "임시공휴일로 연장된 기간에 제출")
		if got := views.KST(f.appeal(id).FiledAt); got != "2026-12-08 12:00:00 KST" {
			t.Errorf("filed at %s", got)
		}
	})
}

func TestAppealNotConcerned(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		late := f.latecomer()
		for _, resp := range []*http.Response{late.get(f.appealPath()),
			f.post(late, url.Values{"ground": {"other"}, "statement": {"관계없는 기관"}, "idempotency_key": {models.RandomToken(24)}})} {
			doc := wantPage(t, "not concerned", resp, http.StatusForbidden)
			if got := testIDText(doc, "error-message"); !strings.Contains(got, "이 결과에 해당하는 신청기관") {
				t.Errorf("403 message %q", got)
			}
		}
		if n := count(t, f.app, &models.Appeal{}, ""); n != 0 {
			t.Errorf("%d appeals", n)
		}
		if doc := wantPage(t, "decision", late.get("/decisions/"+itoa(f.decision.ID)), http.StatusOK); doc.Find(`[data-testid="appeal-link"]`).Length() != 0 {
			t.Error("an organisation not concerned sees the appeal link")
		}
		// Officers do not file appeals; an unknown decision is not found.
		off := f.signIn("demo-officer")
		wantPage(t, "officer", off.get(f.appealPath()), http.StatusForbidden)
		kaist := f.company("kaist")
		wantPage(t, "unknown", kaist.get("/decisions/999999/appeal"), http.StatusNotFound)
		wantPage(t, "malformed", kaist.get("/decisions/abc/appeal"), http.StatusNotFound)
	})
}

func TestAppealDoubleSubmit(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		form := f.form(kaist, models.GroundOther, "두 번 누른 제출")
		first := f.filed("first", f.post(kaist, form, storyFile{"a.pdf", apPDF(20)}))
		second := f.filed("second", f.post(kaist, form, storyFile{"a.pdf", apPDF(20)}))
		if first != second {
			t.Errorf("double submit made appeals %d and %d", first, second)
		}
		// Even when the second arrives after the window closed.
		f.app.clock.Set(f.window.Closes.Add(time.Minute))
		kaist = f.company("kaist")
		if third := f.filed("after the close", f.post(kaist, form)); third != first {
			t.Errorf("the late repeat landed on %d, want %d", third, first)
		}
		f.app.clock.Set(f.window.Closes.Add(-time.Hour))
		kaist = f.company("kaist")

		// Two submits of another form at the same moment.
		form = f.form(kaist, models.GroundOther, "동시에 보낸 제출")
		var wg sync.WaitGroup
		locs := make([]string, 2)
		codes := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := f.post(kaist, form)
				readAll(resp)
				locs[i], codes[i] = resp.Header.Get("Location"), resp.StatusCode
			}()
		}
		wg.Wait()
		if codes[0] != http.StatusSeeOther || codes[1] != http.StatusSeeOther || locs[0] != locs[1] {
			t.Errorf("concurrent submits: %v to %q", codes, locs)
		}
		if n := count(t, f.app, &models.Appeal{}, ""); n != 2 {
			t.Errorf("%d appeals, want 2", n)
		}
		if n := count(t, f.app, &models.AuditEntry{}, "action = ?", "appeal.file"); n != 2 {
			t.Errorf("%d audit rows appeal.file, want 2", n)
		}
	})
}

func TestAppealBadEvidence(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		statement := "증빙이 잘못된 이의신청"
		for _, tc := range []struct {
			what    string
			files   []storyFile
			message string
		}{
			{"PNG as .pdf", []storyFile{{"ok.pdf", apPDF(10)}, {"scan.pdf", apPNG()}}, "scan.pdf: PDF, HWP, HWPX 파일만"},
			{"empty", []storyFile{{"empty.pdf", nil}}, "empty.pdf: 빈 파일"},
		} {
			form := f.form(kaist, models.GroundConflictOfInterest, statement)
			doc := wantPage(t, tc.what, f.post(kaist, form, tc.files...), http.StatusUnprocessableEntity)
			if got := fieldError(doc, "evidence"); !strings.Contains(got, tc.message) {
				t.Errorf("%s: message %q, want %q", tc.what, got, tc.message)
			}
			if doc.Find(`[data-testid="form-errors"]`).Length() != 1 {
				t.Errorf("%s: no error summary", tc.what)
			}
			if got := doc.Find(`textarea[name="statement"]`).Text(); got != statement {
				t.Errorf("%s: statement kept as %q", tc.what, got)
			}
			if sel, _ := doc.Find(`#ground option[selected]`).Attr("value"); sel != string(models.GroundConflictOfInterest) {
				t.Errorf("%s: ground kept as %q", tc.what, sel)
			}
			if key, _ := doc.Find(`input[name="idempotency_key"]`).Attr("value"); key != form.Get("idempotency_key") {
				t.Errorf("%s: the form's key changed", tc.what)
			}
		}
		if n := count(t, f.app, &models.Appeal{}, ""); n != 0 {
			t.Errorf("%d appeals", n)
		}
		if n := count(t, f.app, &models.StoredFile{}, "uploaded_by_id <> ?", 0); n != 2 {
			// The two business plans of the fixture, nothing more.
			t.Errorf("%d stored files, want the fixture's 2", n)
		}
		// Missing fields: the field errors, and a fresh key for a tampered one.
		doc := wantPage(t, "missing", f.post(kaist, url.Values{"ground": {"nonsense"}, "statement": {" "}, "idempotency_key": {"short"}}), http.StatusUnprocessableEntity)
		wantFieldError(t, "missing", doc, "ground", "statement", "idempotency_key")
		if key, _ := doc.Find(`input[name="idempotency_key"]`).Attr("value"); len(key) < 16 {
			t.Errorf("re-rendered key %q", key)
		}
	})
}

func TestAppealReviewAndDecideByRole(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		id := f.fileAs(kaist, "절차상 하자가 있습니다.")
		base := views.AppealHref(id)
		decide := func(c *testClient, outcome, reasons string) *http.Response {
			return c.post(base+"/decide", url.Values{"outcome": {outcome}, "reasons": {reasons}, "confirm": {"1"}})
		}

		// The company and the auditor may not act: the guard refuses.
		aud := f.signIn("demo-auditor")
		for who, c := range map[string]*testClient{"company": kaist, "auditor": aud} {
			wantPage(t, who+" review", c.post(base+"/review", nil), http.StatusForbidden)
			wantPage(t, who+" decide", decide(c, "uphold", "이유"), http.StatusForbidden)
		}
		doc := wantPage(t, "auditor reads", aud.get(base), http.StatusOK)
		if doc.Find(`[data-testid="appeal-actions"]`).Length() != 0 {
			t.Error("the auditor sees the officer's actions")
		}

		off := f.signIn("demo-officer")
		doc = wantPage(t, "officer reads", off.get(base), http.StatusOK)
		if doc.Find(`[data-testid="start-review"]`).Length() != 1 || doc.Find(`[data-testid="decide-form"]`).Length() != 0 {
			t.Error("a received appeal: want the review button only")
		}
		// Received → decided directly: 409.
		wantPage(t, "decide before review", decide(off, "dismiss", "이유"), http.StatusConflict)
		wantSeeOther(t, "review", off.post(base+"/review", nil), base+"?done=review")
		wantPage(t, "review twice", off.post(base+"/review", nil), http.StatusConflict)
		doc = wantPage(t, "under review", off.get(base+"?done=review"), http.StatusOK)
		if testIDText(doc, "notice") == "" || doc.Find(`[data-testid="decide-form"]`).Length() != 1 {
			t.Error("under review: want the notice and the decision form")
		}

		// Dismissing without reasons: the field error, the choice kept.
		doc = wantPage(t, "no reasons", decide(off, "dismiss", "  "), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-reasons"]`).Length() != 1 {
			t.Error("no reasons: no field error")
		}
		if _, ok := doc.Find(`[data-testid="outcome-dismiss"]`).Attr("checked"); !ok {
			t.Error("no reasons: the outcome is not kept")
		}
		doc = wantPage(t, "no outcome", decide(off, "", "이유만"), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-outcome"]`).Length() != 1 || doc.Find(`textarea[name="reasons"]`).Text() != "이유만" {
			t.Error("no outcome: no field error, or the reasons lost")
		}
		if a := f.appeal(id); a.Status != models.AppealUnderReview {
			t.Fatalf("status %s after refused answers", a.Status)
		}

		reasons := "평가 절차를 확인한 결과 공고와 다르지 않았습니다.\n평가위원 구성은 적법합니다."
		wantSeeOther(t, "dismiss", decide(off, "dismiss", reasons), base+"?done=dismissed")
		a := f.appeal(id)
		if a.Status != models.AppealDismissed || a.Reasons != reasons || a.DecidedAt == nil {
			t.Fatalf("after dismissal: %s, %q", a.Status, a.Reasons)
		}
		wantPage(t, "decide twice", decide(off, "uphold", "다시"), http.StatusConflict)
		for _, action := range []string{"appeal.start_review", "appeal.dismiss"} {
			if n := count(t, f.app, &models.AuditEntry{}, "action = ? AND object_id = ?", action, itoa(id)); n != 1 {
				t.Errorf("%d audit rows %s, want 1", n, action)
			}
		}

		// The company reads the answer and its reasons.
		doc = wantPage(t, "company reads", kaist.get(base), http.StatusOK)
		if got := doc.Find(`[data-testid="appeal-reasons"]`).Text(); got != reasons {
			t.Errorf("reasons shown %q", got)
		}
		if st, _ := doc.Find(`[data-testid="appeal-facts"] [data-testid="appeal-status"]`).Attr("data-status"); st != "dismissed" {
			t.Errorf("status shown %q", st)
		}
		if got := testIDText(doc, "appeal-status"); got != "기각" {
			t.Errorf("status label %q", got)
		}
		doc = wantPage(t, "public", f.app.client().get("/decisions/"+itoa(f.decision.ID)), http.StatusOK)
		if testIDText(doc, "stat-dismissed") != "1" || testIDText(doc, "stat-pending") != "0" || doc.Find(`[data-testid="under-rereview"]`).Length() != 0 {
			t.Error("public counts after a dismissal")
		}
	})
}

func TestAppealUpheldAndCorrectedDecision(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		id := f.fileAs(kaist, "점수 합산에 오류가 있습니다.")
		off := f.signIn("demo-officer")
		base := views.AppealHref(id)
		wantSeeOther(t, "review", off.post(base+"/review", nil), base+"?done=review")
		wantSeeOther(t, "uphold", off.post(base+"/decide", url.Values{"outcome": {"uphold"}, "reasons": {"합산 오류가 확인되었습니다."}, "confirm": {"1"}}), base+"?done=upheld")

		old := "/decisions/" + itoa(f.decision.ID)
		anon := f.app.client()
		doc := wantPage(t, "public", anon.get(old), http.StatusOK)
		if got := testIDText(doc, "under-rereview"); !strings.Contains(got, "재심사 중") {
			t.Errorf("under re-review banner %q", got)
		}
		for id, want := range map[string]string{"stat-filed": "1", "stat-upheld": "1", "stat-dismissed": "0", "stat-pending": "0"} {
			if got := testIDText(doc, id); got != want {
				t.Errorf("public %s = %q, want %q", id, got, want)
			}
		}

		// The ranking offers the correction.
		ranking := "/officer/calls/" + itoa(f.call.ID) + "/ranking"
		doc = wantPage(t, "ranking", off.get(ranking), http.StatusOK)
		if doc.Find(`[data-testid="ranking-rereview"]`).Length() != 1 || doc.Find(`[data-testid="correction-title"]`).Length() != 1 {
			t.Fatal("the ranking does not offer the correction")
		}
		if v, _ := doc.Find(`input[name="supersedes"]`).Attr("value"); v != itoa(f.decision.ID) {
			t.Errorf("supersedes = %q", v)
		}
		form := url.Values{"selected": {itoa(f.apps["upstage"]), itoa(f.apps["kaist"])}, "counting_rule": {"civil"},
			"notice_ko": {"이의신청 인용에 따라 정정합니다."}, "notice_en": {"Corrected after an upheld appeal."}, "confirm": {"1"}}
		// A form that does not name the decision it corrects is stale.
		wantPage(t, "no supersedes", off.post("/officer/calls/"+itoa(f.call.ID)+"/decision", form), http.StatusConflict)

		f.app.clock.Advance(2 * 24 * time.Hour) // Sunday 2026-11-29 15:01 KST
		off = f.signIn("demo-officer")
		form.Del("_csrf") // the earlier post put the other session's token in
		form.Set("supersedes", itoa(f.decision.ID))
		shownNotice(t, off, ranking, form)
		resp := off.post("/officer/calls/"+itoa(f.call.ID)+"/decision", form)
		body := readAll(resp)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/decisions/") || loc == old {
			t.Fatalf("publishing the correction: %d to %q: %s", resp.StatusCode, loc, snippet(body))
		}
		// Once corrected, nothing more to publish.
		wantPage(t, "again", off.post("/officer/calls/"+itoa(f.call.ID)+"/decision", form), http.StatusConflict)

		doc = wantPage(t, "corrected", anon.get(loc), http.StatusOK)
		if href, _ := doc.Find(`[data-testid="corrects-link"]`).Attr("href"); href != old {
			t.Errorf("corrects link %q, want %q", href, old)
		}
		if got := testIDText(doc, "corrects-link"); got != "이 결정은 #"+itoa(f.decision.ID)+"을(를) 정정합니다." {
			t.Errorf("corrects text %q", got)
		}
		// Its own window: announced Sunday 2026-11-29, last day 2026-12-09.
		if got := testIDText(doc, "appeal-closes"); got != "2026-12-10 00:00:00 KST" {
			t.Errorf("the correction closes %q", got)
		}
		if got := testIDText(doc, "decision-selected-count"); got != "2개 팀" {
			t.Errorf("the correction selects %q", got)
		}
		doc = wantPage(t, "old", anon.get(old), http.StatusOK)
		if href, _ := doc.Find(`[data-testid="superseded-link"]`).Attr("href"); href != loc {
			t.Errorf("superseded link %q, want %q", href, loc)
		}
		if doc.Find(`[data-testid="under-rereview"]`).Length() != 0 {
			t.Error("the corrected decision is still shown under re-review")
		}
		var a models.Application
		if err := f.app.db.First(&a, f.apps["kaist"]).Error; err != nil || a.Status != models.StatusSelected {
			t.Errorf("KAIST's application is %s after the correction (%v)", a.Status, err)
		}
		kaist = f.company("kaist")
		doc = wantPage(t, "kaist old", kaist.get(old), http.StatusOK)
		if doc.Find(`[data-testid="appeal-link"]`).Length() != 0 {
			t.Error("KAIST may still appeal against the corrected decision")
		}
		doc = wantPage(t, "kaist new", kaist.get(loc), http.StatusOK)
		if sel, _ := doc.Find(`[data-testid="own-status"]`).Attr("data-selected"); sel != "true" || doc.Find(`[data-testid="appeal-link"]`).Length() != 1 {
			t.Errorf("KAIST on the correction: selected %q, appeal link %d", sel, doc.Find(`[data-testid="appeal-link"]`).Length())
		}
		doc = wantPage(t, "ranking after", off.get(ranking), http.StatusOK)
		if doc.Find(`[data-testid="publish-form"] [data-testid="publish"]`).Length() != 0 {
			t.Error("the ranking still offers to publish")
		}
	})
}

func TestAppealOverdue(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		id := f.fileAs(kaist, "처리 기한 시험")
		a := f.appeal(id)
		row := `[data-testid="appeal-row"][data-id="` + itoa(id) + `"]`
		check := func(at time.Time, want string) {
			t.Helper()
			f.app.clock.Set(at)
			off := f.signIn("demo-officer")
			doc := wantPage(t, "list", off.get("/appeals"), http.StatusOK)
			if got, _ := doc.Find(row).Attr("data-overdue"); got != want {
				t.Errorf("at %s: overdue %q, want %s", views.KST(at), got, want)
			}
			if got := doc.Find(row + ` [data-testid="overdue"]`).Length(); (got == 1) != (want == "true") {
				t.Errorf("at %s: %d overdue badges", views.KST(at), got)
			}
			for id, w := range map[string]string{"appeal-organisation": "한국과학기술원(KAIST)", "appeal-answer-by": views.KST(a.AnswerBy)} {
				if got := strings.TrimSpace(doc.Find(row + ` [data-testid="` + id + `"]`).Contents().First().Text()); got != w {
					t.Errorf("%s = %q, want %q", id, got, w)
				}
			}
		}
		check(a.AnswerBy.Add(-time.Second), "false")
		check(a.AnswerBy, "true")
		off := f.signIn("demo-officer")
		if n := wantPage(t, "received", off.get("/appeals?status=received"), http.StatusOK).Find(row).Length(); n != 1 {
			t.Errorf("status=received: %d rows", n)
		}
		if n := wantPage(t, "dismissed", off.get("/appeals?status=dismissed"), http.StatusOK).Find(`[data-testid="appeal-row"]`).Length(); n != 0 {
			t.Errorf("status=dismissed: %d rows", n)
		}
		// Answered: no longer overdue.
		wantSeeOther(t, "review", off.post(views.AppealHref(id)+"/review", nil), views.AppealHref(id)+"?done=review")
		wantSeeOther(t, "dismiss", off.post(views.AppealHref(id)+"/decide", url.Values{"outcome": {"dismiss"}, "reasons": {"늦은 답변"}, "confirm": {"1"}}), views.AppealHref(id)+"?done=dismissed")
		check(a.AnswerBy.Add(time.Hour), "false")
	})
}

func TestAppealIsolation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		id := f.fileAs(kaist, "KAIST의 이의신청", storyFile{"kaist.pdf", apPDF(30)})
		upID := f.fileAs(f.company("upstage"), "업스테이지의 이의신청", storyFile{"upstage.pdf", apPDF(40)})
		a, up := f.appeal(id), f.appeal(upID)
		evidence := fmt.Sprintf("/appeals/%d/evidence/%d", id, a.Evidence[0].ID)

		upstage := f.company("upstage")
		for _, path := range []string{views.AppealHref(id), evidence, views.AppealHref(id) + "?filed=1",
			// Another appeal's evidence through the own appeal's path.
			fmt.Sprintf("/appeals/%d/evidence/%d", upID, a.Evidence[0].ID)} {
			doc := wantPage(t, path, upstage.get(path), http.StatusNotFound)
			if strings.Contains(doc.Find("main").Text(), "KAIST") {
				t.Errorf("%s: the 404 names KAIST", path)
			}
		}
		doc := wantPage(t, "list", upstage.get("/appeals"), http.StatusOK)
		if got := testIDTexts(doc, "appeal-link"); len(got) != 1 || got[0] != up.Receipt {
			t.Errorf("Upstage's list %q", got)
		}
		// The ministry and auditors see both; the anonymous visitor is sent to sign in.
		for _, subject := range []string{"demo-officer", "demo-auditor"} {
			c := f.signIn(subject)
			if n := wantPage(t, subject, c.get("/appeals"), http.StatusOK).Find(`[data-testid="appeal-row"]`).Length(); n != 2 {
				t.Errorf("%s sees %d appeals", subject, n)
			}
			resp := c.get(evidence)
			readAll(resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s downloads the evidence: %d", subject, resp.StatusCode)
			}
		}
		resp := f.app.client().get(evidence)
		readAll(resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/auth/signin") {
			t.Errorf("anonymous evidence: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestAppealPagesTranslated walks every appeal page in both languages and
// checks each status and ground has its message.
func TestAppealPagesTranslated(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		l := cat.For(lang)
		for _, s := range models.AppealStatuses {
			if m := l.T(views.AppealStatusID(s)); strings.HasPrefix(m, "[") {
				t.Errorf("%s: status %s has no message", lang, s)
			}
		}
		for _, g := range models.AppealGrounds {
			if m := l.T(views.AppealGroundID(g)); strings.HasPrefix(m, "[") {
				t.Errorf("%s: ground %s has no message", lang, g)
			}
		}
	}
	f := newAplFixture(t, testdb.SQLite)
	kaist := f.company("kaist")
	id := f.fileAs(kaist, "번역 시험", storyFile{"a.pdf", apPDF(5)})
	off := f.signIn("demo-officer")
	wantSeeOther(t, "review", off.post(views.AppealHref(id)+"/review", nil), views.AppealHref(id)+"?done=review")
	for _, lang := range i18n.Languages {
		for who, c := range map[string]*testClient{"company": kaist, "officer": off} {
			wantCode(t, "", c.post("/lang", url.Values{"lang": {lang}, "next": {"/"}}), http.StatusSeeOther)
			paths := []string{"/appeals", views.AppealHref(id), views.AppealHref(id) + "?filed=1", "/decisions/" + itoa(f.decision.ID)}
			if who == "company" {
				paths = append(paths, f.appealPath())
			} else {
				paths = append(paths, "/officer/calls/"+itoa(f.call.ID)+"/ranking")
			}
			for _, p := range paths {
				body := readAll(c.get(p))
				if i := strings.Index(body, "[appeal."); i >= 0 {
					t.Errorf("%s, %s %s: untranslated %s", who, lang, p, body[i:min(len(body), i+50)])
				}
			}
		}
	}
}
