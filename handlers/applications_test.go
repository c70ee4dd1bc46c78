package handlers

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The company side of applications, through the real router: drafting,
// the consortium, documents, submission at the close instant, withdrawal,
// stale edits, isolation between companies and the published result.

// apKST is Korea Standard Time for the test's instants.
var apKST = time.FixedZone("KST", 9*60*60)

// apCloses is the close instant of the test call: 2026-11-30 18:00:00 KST;
// the clock starts inside its window (2026-11-27 14:00 KST).
var apCloses = time.Date(2026, 11, 30, 18, 0, 0, 0, apKST)

const apClosesText = "2026-11-30 18:00:00 KST"

// apFixture is the portal with a call of its own, open now.
type apFixture struct {
	*story
	t       *testing.T
	call    *models.Call
	officer *models.User
	upstage *models.Organisation
	kaist   *models.Organisation
	kakao   *models.Organisation
}

func newApFixture(t *testing.T, kind testdb.Kind, env map[string]string) *apFixture {
	t.Helper()
	// The clock jumps days ahead (to the close instant, to the review); the
	// browsers stay signed in meanwhile.
	all := map[string]string{"PORTAL_SESSION_IDLE": "720h", "PORTAL_SESSION_MAX_AGE": "720h"}
	for k, v := range env {
		all[k] = v
	}
	s := newStory(t, kind, all)
	f := &apFixture{story: s, t: t, officer: s.officer(), upstage: s.org("upstage"), kaist: s.org("kaist"), kakao: s.org("kakao")}
	f.call = s.saveCall(&models.Call{TitleKO: "시험 공모", TitleEN: "Test call",
		OpensAt: testStart.Add(-24 * time.Hour), ClosesAt: apCloses, Slots: 5,
		Criteria: []models.Criterion{
			{NameKO: "기술력", NameEN: "Technology", Weight: 60, MaxScore: 100},
			{NameKO: "파급력", NameEN: "Impact", Weight: 40, MaxScore: 100},
		},
		Documents: []models.RequiredDocument{
			{NameKO: "사업계획서", NameEN: "Business plan", Required: true},
			{NameKO: "보안 서약서", NameEN: "Security pledge", Required: false},
		},
	})
	return f
}

// planDoc is the call's required document.
func (f *apFixture) planDoc() uint { return f.call.Documents[0].ID }

// create starts an application through the form and returns its id.
func (f *apFixture) create(c *testClient, title string) uint {
	f.t.Helper()
	resp := c.post(fmt.Sprintf("/calls/%d/apply", f.call.ID), url.Values{
		"title_ko": {title}, "title_en": {"Project " + title}, "summary": {title + " 요약"}})
	readAll(resp)
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("create application: status %d", resp.StatusCode)
	}
	var id uint
	if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/applications/%d?done=created", &id); err != nil {
		f.t.Fatalf("create application: Location %q", resp.Header.Get("Location"))
	}
	return id
}

// complete creates an application with its required document.
func (f *apFixture) complete(c *testClient, title string) uint {
	f.t.Helper()
	id := f.create(c, title)
	wantSeeOther(f.t, "upload", f.upload(c, id, f.planDoc(), "plan.pdf", apPDF(200)), fmt.Sprintf("/applications/%d?done=uploaded", id))
	return id
}

// upload posts a file as a browser does; a nil content sends no file part.
func (f *apFixture) upload(c *testClient, appID, rdID uint, name string, content []byte) *http.Response {
	f.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrfToken())
	w.WriteField("required_document_id", itoa(rdID))
	if content != nil {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			f.t.Fatal(err)
		}
		fw.Write(content)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/applications/%d/documents", f.app.srv.URL, appID), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func (f *apFixture) load(id uint) *models.Application {
	f.t.Helper()
	a, err := models.GetApplication(f.t.Context(), f.app.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// storedContents counts the file contents in the portal's file store.
func (f *apFixture) storedContents() int {
	f.t.Helper()
	n := 0
	root := filepath.Join(f.app.cfg.DataDir, "files")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func apPDF(n int) []byte {
	return []byte("%PDF-1.7\n" + strings.Repeat("x", n) + "\n%%EOF\n")
}

func apPNG() []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
}

func apHWP() []byte {
	return append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, bytes.Repeat([]byte{1}, 600)...)
}

// apHWPX is a ZIP whose first entry is the stored mimetype of HWPX.
func apHWPX(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("application/hwp+zip"))
	w, _ = zw.Create("Contents/section0.xml")
	w.Write([]byte("<hs:sec/>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// apBRN returns a business registration number starting with the nine
// digits whose check digit is right (valid) or wrong.
func apBRN(t *testing.T, nine string, valid bool) string {
	t.Helper()
	for d := '0'; d <= '9'; d++ {
		_, err := models.ParseBusinessRegNo(nine + string(d))
		if (err == nil) == valid {
			return nine[:3] + "-" + nine[3:5] + "-" + nine[5:] + string(d)
		}
	}
	t.Fatalf("no business registration number for %s", nine)
	return ""
}

func apValue(doc *goquery.Document, sel string) string {
	v, _ := doc.Find(sel).Attr("value")
	return v
}

func TestApplicationDraftJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		c := f.signIn("demo-company-upstage")

		// The list offers the open call.
		doc := wantPage(t, "my applications", c.get("/company/applications"), http.StatusOK)
		if doc.Find(fmt.Sprintf(`[data-testid="open-call"][data-id="%d"] [data-testid="apply"]`, f.call.ID)).Length() != 1 {
			t.Fatal("my applications: no apply link for the open call")
		}

		// The form, then an empty submission: field errors, input kept.
		wantPage(t, "new form", c.get(fmt.Sprintf("/calls/%d/apply", f.call.ID)), http.StatusOK)
		doc = wantPage(t, "empty create", c.post(fmt.Sprintf("/calls/%d/apply", f.call.ID),
			url.Values{"title_ko": {"독자 모델"}, "title_en": {""}, "summary": {""}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-title_en"]`).Length() != 1 || doc.Find(`[data-testid="error-summary"]`).Length() != 1 {
			t.Error("empty create: no field errors for title_en and summary")
		}
		if got := apValue(doc, `input[name="title_ko"]`); got != "독자 모델" {
			t.Errorf("empty create: title_ko kept as %q", got)
		}

		id := f.create(c, "독자 모델")
		page := fmt.Sprintf("/applications/%d", id)
		doc = wantPage(t, "draft", c.get(page+"?done=created"), http.StatusOK)
		if st, _ := doc.Find(`[data-testid="application-status"]`).Attr("data-status"); st != "draft" {
			t.Errorf("draft: status %q", st)
		}
		if testIDText(doc, "notice") == "" {
			t.Error("draft: no notice after creation")
		}
		if got := testIDText(doc, "call-closes"); got != apClosesText {
			t.Errorf("draft: close instant %q, want %q", got, apClosesText)
		}
		// A second application of the same organisation to the call leads to the first.
		wantSeeOther(t, "apply again", c.get(fmt.Sprintf("/calls/%d/apply", f.call.ID)), page)

		// Edit the draft.
		version := apValue(doc, `[data-testid="application-form"] input[name="version"]`)
		wantSeeOther(t, "save", c.post(page, url.Values{"version": {version}, "title_ko": {"독자 파운데이션 모델"},
			"title_en": {"Sovereign foundation model"}, "summary": {"한국어 특화 모델"}}), page+"?done=saved")
		if a := f.load(id); a.TitleKO != "독자 파운데이션 모델" || a.Summary != "한국어 특화 모델" {
			t.Errorf("save: stored %q / %q", a.TitleKO, a.Summary)
		}
		doc = wantPage(t, "invalid save", c.post(page, url.Values{"version": {"2"}, "title_ko": {""},
			"title_en": {"Kept"}, "summary": {"요약 유지"}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-title_ko"]`).Length() != 1 || apValue(doc, `input[name="title_en"]`) != "Kept" ||
			strings.TrimSpace(doc.Find(`textarea[name="summary"]`).Text()) != "요약 유지" {
			t.Error("invalid save: no error for title_ko or the input was not kept")
		}

		// Members: an organisation from the list, a new one, bad numbers.
		wantSeeOther(t, "add existing", c.post(page+"/members", url.Values{
			"organisation_id": {itoa(f.kakao.ID)}, "role": {models.MemberData}}), page+"?done=member_invited")
		brn := apBRN(t, "123456789", true)
		wantSeeOther(t, "add new", c.post(page+"/members", url.Values{
			"name_ko": {"새싹데이터"}, "name_en": {"Saessak Data"}, "business_reg_no": {brn}, "role": {models.MemberResearch}}), page+"?done=member_invited")
		var created models.Organisation
		if err := f.app.db.Where("name_ko = ?", "새싹데이터").First(&created).Error; err != nil {
			t.Fatalf("new organisation not registered: %v", err)
		}
		if created.BusinessRegNo != strings.ReplaceAll(brn, "-", "") {
			t.Errorf("new organisation's number %q, want %q", created.BusinessRegNo, brn)
		}
		if n := auditRows(t, f.app, "organisation.create", itoa(created.ID)); n != 1 {
			t.Errorf("organisation.create audit rows: %d", n)
		}
		// The same number again finds the organisation: it is already a member.
		doc = wantPage(t, "same number", c.post(page+"/members", url.Values{
			"name_ko": {"다른 이름"}, "name_en": {"Other"}, "business_reg_no": {brn}, "role": {models.MemberModel}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-business_reg_no"]`).Length() != 1 {
			t.Error("same number: no field error")
		}
		bad := apBRN(t, "123456789", false)
		doc = wantPage(t, "bad check digit", c.post(page+"/members", url.Values{
			"name_ko": {"오류기관"}, "name_en": {"Typo Inc"}, "business_reg_no": {bad}, "role": {models.MemberModel}}), http.StatusUnprocessableEntity)
		checkDigitMsg := fieldError(doc, "business_reg_no")
		if !strings.Contains(checkDigitMsg, "검증번호") {
			t.Errorf("bad check digit: message %q", checkDigitMsg)
		}
		if apValue(doc, `input[name="name_ko"]`) != "오류기관" || apValue(doc, `input[name="business_reg_no"]`) != bad {
			t.Error("bad check digit: the input was not kept")
		}
		if sel, _ := doc.Find(`select[name="role"] option[selected]`).Attr("value"); sel != models.MemberModel {
			t.Errorf("bad check digit: role kept as %q", sel)
		}
		doc = wantPage(t, "bad format", c.post(page+"/members", url.Values{
			"name_ko": {"오류기관"}, "name_en": {"Typo Inc"}, "business_reg_no": {"12-345"}, "role": {models.MemberModel}}), http.StatusUnprocessableEntity)
		if msg := fieldError(doc, "business_reg_no"); msg == "" || msg == checkDigitMsg {
			t.Errorf("bad format: message %q should differ from the check digit's", msg)
		}
		doc = wantPage(t, "lead role", c.post(page+"/members", url.Values{
			"organisation_id": {itoa(f.kaist.ID)}, "role": {models.MemberLead}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-role"]`).Length() != 1 {
			t.Error("lead role: no field error")
		}

		// Invited, nobody joined yet; Kakao's user accepts, the new organisation has no user yet.
		if n := len(f.load(id).Members); n != 1 {
			t.Errorf("before any acceptance: %d members, want the lead alone", n)
		}
		var inv models.ConsortiumRequest
		if err := f.app.db.Where("application_id = ? AND organisation_id = ?", id, f.kakao.ID).First(&inv).Error; err != nil {
			t.Fatal(err)
		}
		st := storyOf(t, f.app)
		st.demoCompany("kakao")
		kakao := st.signIn("demo-company-kakao")
		wantSeeOther(t, "Kakao accepts", kakao.post(fmt.Sprintf("/consortium/requests/%d/accept", inv.ID), nil),
			"/company/consortium?done=accepted")

		doc = wantPage(t, "members", c.get(page), http.StatusOK)
		rows := doc.Find(`[data-testid="member-row"]`)
		if rows.Length() != 2 {
			t.Fatalf("members: %d rows, want 2 (lead, Kakao)", rows.Length())
		}
		if r, _ := rows.First().Attr("data-role"); r != models.MemberLead {
			t.Errorf("members: first row is %q, want the lead", r)
		}
		kakaoRow := doc.Find(fmt.Sprintf(`[data-testid="member-row"][data-org-id="%d"]`, f.kakao.ID))
		if r, _ := kakaoRow.Attr("data-role"); r != models.MemberData {
			t.Errorf("members: Kakao's role %q", r)
		}
		// Remove Kakao.
		action, _ := kakaoRow.Find("form").Attr("action")
		wantSeeOther(t, "remove", c.post(action, nil), page+"?done=member_removed")
		if n := len(f.load(id).Members); n != 1 {
			t.Errorf("after removal: %d members", n)
		}

		// Submitting without the required document lists what is missing.
		doc = wantPage(t, "incomplete submit", c.post(page+"/submit", nil), http.StatusUnprocessableEntity)
		if !strings.Contains(doc.Find(`[data-testid="missing"]`).Text(), "사업계획서") {
			t.Errorf("incomplete submit: missing list %q", doc.Find(`[data-testid="missing"]`).Text())
		}
		if f.load(id).Status != models.StatusDraft {
			t.Error("incomplete submit changed the status")
		}

		// Upload the plan: accepted, with its hash.
		content := apPDF(1000)
		wantSeeOther(t, "upload", f.upload(c, id, f.planDoc(), "사업계획서.pdf", content), page+"?done=uploaded")
		sum := sha256.Sum256(content)
		doc = wantPage(t, "uploaded", c.get(page), http.StatusOK)
		row := doc.Find(fmt.Sprintf(`[data-testid="document-row"][data-required-id="%d"]`, f.planDoc()))
		if got := strings.TrimSpace(row.Find(`[data-testid="document-sha256"]`).Text()); got != hex.EncodeToString(sum[:]) {
			t.Errorf("uploaded: hash %q", got)
		}
		if got := strings.TrimSpace(row.Find(`[data-testid="document-download"]`).Text()); got != "사업계획서.pdf" {
			t.Errorf("uploaded: name %q", got)
		}
		if b, _ := row.Find(`[data-testid="document-size"]`).Attr("data-bytes"); b != itoa(uint(len(content))) {
			t.Errorf("uploaded: size %q, want %d", b, len(content))
		}

		// Submit: the receipt and the instant, to the second.
		wantSeeOther(t, "submit", c.post(page+"/submit", nil), page+"?done=submitted")
		doc = wantPage(t, "submitted", c.get(page+"?done=submitted"), http.StatusOK)
		if st, _ := doc.Find(`[data-testid="application-status"]`).Attr("data-status"); st != "submitted" {
			t.Errorf("submitted: status %q", st)
		}
		if got, want := testIDText(doc, "application-receipt"), fmt.Sprintf("KAI-20261127-%05d", id); got != want {
			t.Errorf("submitted: receipt %q, want %q", got, want)
		}
		if got := testIDText(doc, "application-submitted-at"); got != "2026-11-27 14:00:00 KST" {
			t.Errorf("submitted: time %q", got)
		}
		if doc.Find(`[data-testid="application-form"], [data-testid="member-form"], [data-testid="upload-form"]`).Length() != 0 {
			t.Error("submitted: the page still offers editing")
		}
		// Editing after submission is refused and changes nothing.
		resp := c.post(page, url.Values{"version": {"9"}, "title_ko": {"바뀜"}, "title_en": {"x"}, "summary": {"x"}})
		readAll(resp)
		if resp.StatusCode != http.StatusConflict || f.load(id).TitleKO != "독자 파운데이션 모델" {
			t.Errorf("edit after submit: status %d", resp.StatusCode)
		}

		// The list shows it with its receipt.
		doc = wantPage(t, "list", c.get("/company/applications"), http.StatusOK)
		if !strings.Contains(doc.Find(`[data-testid="my-application-row"]`).Text(), fmt.Sprintf("KAI-20261127-%05d", id)) {
			t.Error("list: no row with the receipt")
		}

		// Withdraw before the close.
		f.app.clock.Advance(time.Hour)
		wantSeeOther(t, "withdraw", c.post(page+"/withdraw", url.Values{"confirm": {"1"}}), page+"?done=withdrawn")
		if a := f.load(id); a.Status != models.StatusWithdrawn {
			t.Errorf("withdraw: status %s", a.Status)
		}
		if n := auditRows(t, f.app, "application.withdraw", itoa(id)); n != 1 {
			t.Errorf("withdraw audit rows: %d", n)
		}
	})
}

func TestApplicationUploadRefusals(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, map[string]string{"PORTAL_MAX_UPLOAD_BYTES": "2048"})
		c := f.signIn("demo-company-upstage")
		id := f.create(c, "업로드 시험")
		page := fmt.Sprintf("/applications/%d", id)

		for _, tc := range []struct {
			what, name string
			content    []byte
			message    string
		}{
			{"PNG renamed .pdf", "scan.pdf", apPNG(), "PDF, HWP, HWPX 파일만"},
			{"too large", "big.pdf", apPDF(4096), "2 KB 이하"},
			{"empty", "empty.pdf", []byte{}, "빈 파일"},
			{"no file", "", nil, "파일을 선택"},
		} {
			doc := wantPage(t, tc.what, f.upload(c, id, f.planDoc(), tc.name, tc.content), http.StatusUnprocessableEntity)
			row := doc.Find(fmt.Sprintf(`[data-testid="document-upload-row"][data-required-id="%d"]`, f.planDoc()))
			if msg := strings.TrimSpace(row.Find(`[data-testid="error-file"]`).Text()); !strings.Contains(msg, tc.message) {
				t.Errorf("%s: message %q, want it to contain %q", tc.what, msg, tc.message)
			}
			if doc.Find(`[data-testid="form-errors"]`).Length() != 1 {
				t.Errorf("%s: no error summary", tc.what)
			}
		}
		var files int64
		f.app.db.Model(&models.StoredFile{}).Count(&files)
		if files != 0 || f.storedContents() != 0 || len(f.load(id).Documents) != 0 {
			t.Fatalf("refused uploads left %d file rows, %d contents", files, f.storedContents())
		}

		// An unknown document of the form.
		resp := f.upload(c, id, 999999, "plan.pdf", apPDF(10))
		readAll(resp)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("unknown document: status %d", resp.StatusCode)
		}

		// Path traversal in the name: stored under its last element.
		wantSeeOther(t, "traversal", f.upload(c, id, f.planDoc(), "../../evil.pdf", apPDF(100)), page+"?done=uploaded")
		a := f.load(id)
		if len(a.Documents) != 1 || a.Documents[0].File.Name != "evil.pdf" {
			t.Fatalf("traversal: documents %+v", a.Documents)
		}
		doc := wantPage(t, "after traversal", c.get(page), http.StatusOK)
		if got := testIDText(doc, "document-download"); got != "evil.pdf" {
			t.Errorf("traversal: shown as %q", got)
		}
		if f.storedContents() != 1 {
			t.Errorf("traversal: %d contents stored, want 1", f.storedContents())
		}
	})
}

func TestApplicationSubmitAtClose(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		upstage := f.signIn("demo-company-upstage")
		kaist := f.signIn("demo-company-kaist")
		early := f.complete(upstage, "마감 직전")
		late := f.complete(kaist, "마감 직후")

		// One second before the close: accepted.
		f.app.clock.Set(apCloses.Add(-time.Second))
		wantSeeOther(t, "submit 1s before", upstage.post(fmt.Sprintf("/applications/%d/submit", early), nil), fmt.Sprintf("/applications/%d?done=submitted", early))
		if a := f.load(early); a.Status != models.StatusSubmitted || apKSTText(*a.SubmittedAt) != "2026-11-30 17:59:59 KST" {
			t.Errorf("1s before: %s at %v", a.Status, a.SubmittedAt)
		}

		// One second after: refused with the close instant, the draft untouched.
		before := f.load(late)
		f.app.clock.Set(apCloses.Add(time.Second))
		resp := kaist.post(fmt.Sprintf("/applications/%d/submit", late), nil)
		doc := wantPage(t, "submit 1s after", resp, http.StatusConflict)
		if msg := doc.Find("main").Text(); !strings.Contains(msg, apClosesText) {
			t.Errorf("1s after: the message does not show the close instant %q:\n%s", apClosesText, msg)
		}
		after := f.load(late)
		if after.Status != models.StatusDraft || after.Version != before.Version || after.Receipt != "" ||
			after.SubmittedAt != nil || !after.UpdatedAt.Equal(before.UpdatedAt) || after.TitleKO != before.TitleKO {
			t.Errorf("1s after: the draft changed: %+v → %+v", before, after)
		}
		if n := auditRows(t, f.app, "application.submit", itoa(late)); n != 0 {
			t.Errorf("1s after: %d submit audit rows", n)
		}
		// The draft page still shows it, with the close instant; withdrawing is too late as well.
		doc = wantPage(t, "draft after close", kaist.get(fmt.Sprintf("/applications/%d", late)), http.StatusOK)
		if !strings.Contains(testIDText(doc, "alert"), apClosesText) || doc.Find(`[data-testid="application-form"]`).Length() != 0 {
			t.Error("draft after close: no close notice, or still editable")
		}
		resp = kaist.post(fmt.Sprintf("/applications/%d/withdraw", late), nil)
		if body := readAll(resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, apClosesText) {
			t.Errorf("withdraw after close: status %d", resp.StatusCode)
		}
		resp = upstage.post(fmt.Sprintf("/applications/%d/withdraw", early), nil)
		readAll(resp)
		if resp.StatusCode != http.StatusConflict || f.load(early).Status != models.StatusSubmitted {
			t.Errorf("withdraw a submission after close: status %d", resp.StatusCode)
		}
		// Starting an application after the close is refused too.
		resp = upstage.get(fmt.Sprintf("/calls/%d/apply", f.call.ID))
		if body := readAll(resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, apClosesText) {
			t.Errorf("apply after close: status %d", resp.StatusCode)
		}
	})
}

// apKSTText formats an instant as the pages do.
func apKSTText(t time.Time) string { return t.In(apKST).Format("2006-01-02 15:04:05") + " KST" }

func TestApplicationDoubleSubmit(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		c := f.signIn("demo-company-upstage")
		id := f.complete(c, "두 번 누름")
		path := fmt.Sprintf("/applications/%d/submit", id)
		tok := c.csrfToken()

		// Two clicks at once: both land on the same page; one submission.
		var wg sync.WaitGroup
		resps := make([]*http.Response, 2)
		for i := range resps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, f.app.srv.URL+path, strings.NewReader(url.Values{"_csrf": {tok}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resps[i] = resp
			}()
		}
		wg.Wait()
		want := fmt.Sprintf("/applications/%d?done=submitted", id)
		for i, resp := range resps {
			if resp == nil {
				t.Fatal("a request failed")
			}
			wantSeeOther(t, fmt.Sprintf("click %d", i+1), resp, want)
		}
		// And a third, later.
		wantSeeOther(t, "click 3", c.post(path, nil), want)
		if n := auditRows(t, f.app, "application.submit", itoa(id)); n != 1 {
			t.Errorf("%d application.submit audit rows, want 1", n)
		}
		a := f.load(id)
		if a.Status != models.StatusSubmitted || a.Receipt != fmt.Sprintf("KAI-20261127-%05d", id) {
			t.Errorf("status %s, receipt %q", a.Status, a.Receipt)
		}
		doc := wantPage(t, "after double submit", c.get(want), http.StatusOK)
		if testIDText(doc, "application-receipt") != a.Receipt {
			t.Error("the page does not show the receipt")
		}
	})
}

func TestApplicationStaleEdit(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		first := f.signIn("demo-company-upstage")
		second := f.signIn("demo-company-upstage") // the same user in another browser
		id := f.create(first, "원래 제목")
		page := fmt.Sprintf("/applications/%d", id)
		v1 := apValue(wantPage(t, "load 1", first.get(page), http.StatusOK), `input[name="version"]`)
		v2 := apValue(wantPage(t, "load 2", second.get(page), http.StatusOK), `input[name="version"]`)
		if v1 != v2 {
			t.Fatalf("versions %q and %q", v1, v2)
		}
		wantSeeOther(t, "first save", first.post(page, url.Values{"version": {v1}, "title_ko": {"첫째가 고친 제목"},
			"title_en": {"First"}, "summary": {"첫째 요약"}}), page+"?done=saved")

		doc := wantPage(t, "stale save", second.post(page, url.Values{"version": {v2}, "title_ko": {"둘째가 고친 제목"},
			"title_en": {"Second"}, "summary": {"둘째 요약"}}), http.StatusConflict)
		if !strings.Contains(testIDText(doc, "alert"), "다른 사용자가 먼저 수정했습니다") {
			t.Errorf("stale save: alert %q", testIDText(doc, "alert"))
		}
		if apValue(doc, `input[name="title_ko"]`) != "둘째가 고친 제목" || strings.TrimSpace(doc.Find(`textarea[name="summary"]`).Text()) != "둘째 요약" {
			t.Error("stale save: the second user's input was not kept")
		}
		if !strings.Contains(doc.Find(`[data-testid="stale-latest"]`).Text(), "첫째가 고친 제목") {
			t.Error("stale save: the latest version is not shown")
		}
		if a := f.load(id); a.TitleKO != "첫째가 고친 제목" {
			t.Fatalf("stale save overwrote: %q", a.TitleKO)
		}
		// Saving again from the re-rendered form, now knowingly, works.
		v3 := apValue(doc, `input[name="version"]`)
		wantSeeOther(t, "save again", second.post(page, url.Values{"version": {v3}, "title_ko": {"둘째가 고친 제목"},
			"title_en": {"Second"}, "summary": {"둘째 요약"}}), page+"?done=saved")
		if a := f.load(id); a.TitleKO != "둘째가 고친 제목" {
			t.Errorf("save again: %q", a.TitleKO)
		}
	})
}

func TestApplicationIsolationAndDownloads(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		kaist := f.signIn("demo-company-kaist")
		upstage := f.signIn("demo-company-upstage")
		id := f.create(kaist, "카이스트 비공개 과제")
		page := fmt.Sprintf("/applications/%d", id)
		content := apPDF(300)
		wantSeeOther(t, "upload", f.upload(kaist, id, f.planDoc(), "사업계획서 최종본.pdf", content), page+"?done=uploaded")
		a := f.load(id)
		docPath := fmt.Sprintf("%s/documents/%d", page, a.Documents[0].ID)

		// Download by the lead: an attachment with the right headers.
		resp := kaist.get(docPath)
		body := readAll(resp)
		if resp.StatusCode != http.StatusOK || body != string(content) {
			t.Fatalf("download: status %d, %d bytes", resp.StatusCode, len(body))
		}
		h := resp.Header
		if h.Get("Content-Type") != "application/pdf" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download: Content-Type %q, nosniff %q", h.Get("Content-Type"), h.Get("X-Content-Type-Options"))
		}
		cd := h.Get("Content-Disposition")
		wantStar := "filename*=UTF-8''" + url.PathEscape("사업계획서 최종본.pdf")
		if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, wantStar) || strings.ContainsFunc(cd, func(r rune) bool { return r > 0x7e }) {
			t.Errorf("download: Content-Disposition %q, want an ASCII attachment with %q", cd, wantStar)
		}

		// HWP and HWPX, by content; a new upload replaces the earlier file.
		for _, tc := range []struct {
			name, ctype string
			content     []byte
		}{
			{"계획.hwp", "application/x-hwp", apHWP()},
			{"계획.hwpx", "application/hwp+zip", apHWPX(t)},
			{"plan.hwp", "application/hwp+zip", apHWPX(t)}, // named .hwp, but HWPX inside
		} {
			wantSeeOther(t, tc.name, f.upload(kaist, id, f.planDoc(), tc.name, tc.content), page+"?done=uploaded")
			docs := f.load(id).Documents
			if len(docs) != 1 {
				t.Fatalf("%s: %d documents, want 1 (replaced)", tc.name, len(docs))
			}
			resp := kaist.get(fmt.Sprintf("%s/documents/%d", page, docs[0].ID))
			got := readAll(resp)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ctype || got != string(tc.content) {
				t.Errorf("%s: status %d, Content-Type %q", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment;") {
				t.Errorf("%s: not an attachment", tc.name)
			}
		}
		docPath = fmt.Sprintf("%s/documents/%d", page, f.load(id).Documents[0].ID)
		// An ASCII name goes as it is; the displayed name got the sniffed kind's extension.
		if cd := kaist.get(docPath).Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="plan.hwp.hwpx"`) {
			t.Errorf("ASCII name: Content-Disposition %q", cd)
		}

		// Upstage sees nothing of it: the same 404 as for nothing at all.
		for _, path := range []string{page, docPath, "/applications/999999", "/applications/abc"} {
			resp := upstage.get(path)
			body := readAll(resp)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "카이스트 비공개 과제") || strings.Contains(body, "%PDF") {
				t.Errorf("Upstage GET %s: status %d", path, resp.StatusCode)
			}
		}
		for _, path := range []string{page, page + "/members", page + "/submit", page + "/withdraw",
			fmt.Sprintf("%s/members/%d/delete", page, a.Members[0].ID)} {
			resp := upstage.post(path, url.Values{"title_ko": {"탈취"}, "title_en": {"x"}, "summary": {"x"}, "version": {"2"},
				"organisation_id": {itoa(f.upstage.ID)}, "role": {models.MemberModel}})
			readAll(resp)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("Upstage POST %s: status %d, want 404", path, resp.StatusCode)
			}
		}
		resp = f.upload(upstage, id, f.planDoc(), "x.pdf", apPDF(10))
		readAll(resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("Upstage upload to KAIST: status %d", resp.StatusCode)
		}
		after := f.load(id)
		if after.TitleKO != "카이스트 비공개 과제" || len(after.Members) != 1 || after.Status != models.StatusDraft ||
			after.Documents[0].File.Name != "plan.hwp.hwpx" {
			t.Errorf("Upstage's requests changed KAIST's application: %+v", after)
		}
		if strings.Contains(readAll(upstage.get("/company/applications")), "카이스트 비공개 과제") {
			t.Error("Upstage's list shows KAIST's application")
		}

		// The ministry and auditors read it, without forms, and download.
		for _, subject := range []string{"demo-officer", "demo-admin", "demo-auditor"} {
			c := f.signIn(subject)
			pg := wantPage(t, subject, c.get(page), http.StatusOK)
			if testIDText(pg, "application-title-ko") != "카이스트 비공개 과제" {
				t.Errorf("%s: title %q", subject, testIDText(pg, "application-title-ko"))
			}
			if n := pg.Find(`main form`).Length(); n != 0 {
				t.Errorf("%s: the read-only page has %d forms", subject, n)
			}
			resp := c.get(docPath)
			readAll(resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s download: status %d", subject, resp.StatusCode)
			}
		}
	})
}

func TestApplicationResultAfterDecision(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newApFixture(t, kind, nil)
		ctx := t.Context()
		upstage := f.signIn("demo-company-upstage")
		kaist := f.signIn("demo-company-kaist")
		upID := f.complete(upstage, "업스테이지 과제")
		kaID := f.complete(kaist, "카이스트 과제")
		wantSeeOther(t, "submit Upstage", upstage.post(fmt.Sprintf("/applications/%d/submit", upID), nil), fmt.Sprintf("/applications/%d?done=submitted", upID))
		wantSeeOther(t, "submit KAIST", kaist.post(fmt.Sprintf("/applications/%d/submit", kaID), nil), fmt.Sprintf("/applications/%d?done=submitted", kaID))
		ids := map[uint]float64{upID: 95, kaID: 70}

		// Before publication nothing is shown.
		if n := wantPage(t, "before", upstage.get(fmt.Sprintf("/applications/%d", upID)), http.StatusOK).
			Find(`[data-testid="application-result"]`).Length(); n != 0 {
			t.Error("a result is shown before publication")
		}

		f.app.clock.Set(apCloses.Add(24 * time.Hour))
		now := f.app.clock.Now()
		for id, score := range ids {
			f.score(&models.Application{ID: id}, f.call, f.officer, score, score)
		}
		if _, err := models.PublishSelection(ctx, f.app.db, models.PublishInput{CallID: f.call.ID, Selected: []uint{upID},
			NoticeKO: "선정 결과를 알립니다.", NoticeEN: "Selection result.", CountingRule: models.RuleAnnouncementDay},
			f.officer, now); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			c        *testClient
			id       uint
			selected string
			rank     string
			outcome  string
		}{
			{upstage, upID, "true", "1", "선정"},
			{kaist, kaID, "false", "2", "미선정"},
		} {
			doc := wantPage(t, "result", tc.c.get(fmt.Sprintf("/applications/%d", tc.id)), http.StatusOK)
			res := doc.Find(`[data-testid="application-result"]`)
			if sel, _ := res.Attr("data-selected"); sel != tc.selected {
				t.Errorf("application %d: selected %q, want %q", tc.id, sel, tc.selected)
			}
			if r, _ := res.Find(`[data-testid="result-rank"]`).Attr("data-rank"); r != tc.rank {
				t.Errorf("application %d: rank %q, want %q", tc.id, r, tc.rank)
			}
			if got := testIDText(doc, "result-outcome"); got != tc.outcome {
				t.Errorf("application %d: outcome %q, want %q", tc.id, got, tc.outcome)
			}
		}
		// Neither sees the other's result.
		resp := upstage.get(fmt.Sprintf("/applications/%d", kaID))
		readAll(resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("Upstage on KAIST's result: status %d", resp.StatusCode)
		}
	})
}
