package handlers

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// postHolidayList uploads a list as the import form does.
func postHolidayList(t *testing.T, c *testClient, base, year, name string, data []byte) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrfToken())
	w.WriteField("year", year)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/holidays/imports", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// TestHolidayListImportJourney: on 2025-08-10, with the demo decision's
// window open (last day Thursday 08-14), an administrator imports KASI's
// 2025 list that also names 08-14 a holiday, sees that day as added and the
// decision's window as the one it would move, and confirms. The decision
// page then shows the new closing time, which holidays it used, and when
// and why it moved; the audit trail records the move.
func TestHolidayListImportJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)
		f.app.clock.Set(time.Date(2025, 8, 10, 10, 0, 0, 0, models.KST))
		admin := f.app.client()
		admin.signInDemo("demo-admin")

		// A file that is not a list: the reason, where, and the year kept.
		resp := postHolidayList(t, admin, f.app.srv.URL, "2025", "bad.csv", []byte("date,name\n2025-13-01,없는 날\n"))
		wantCode(t, "import a bad file", resp, http.StatusUnprocessableEntity)
		doc := admin.page(resp)
		if got := nmText(doc.Find(`[data-testid="error-file"]`)); !strings.Contains(got, "날짜를 읽을 수 없습니다") || !strings.Contains(got, "2025-13-01") {
			t.Errorf("bad file error %q", got)
		}
		if v, _ := doc.Find(`[data-testid="holiday-import-form"] input[name="year"]`).Attr("value"); v != "2025" {
			t.Errorf("year kept as %q", v)
		}

		var kasi strings.Builder
		kasi.WriteString(`<response><header><resultCode>00</resultCode><resultMsg>NORMAL SERVICE.</resultMsg></header><body><items>`)
		hs := models.KoreanHolidays.Year(2025)
		for _, h := range hs {
			kasi.WriteString(`<item><dateKind>01</dateKind><dateName>` + h.Name + `</dateName><isHoliday>Y</isHoliday><locdate>` +
				strings.ReplaceAll(h.Date.String(), "-", "") + `</locdate><seq>1</seq></item>`)
		}
		kasi.WriteString(`<item><dateKind>01</dateKind><dateName>임시공휴일</dateName><isHoliday>Y</isHoliday><locdate>20250814</locdate><seq>1</seq></item>`)
		kasi.WriteString(`</items><totalCount>` + itoa(uint(len(hs)+1)) + `</totalCount></body></response>`)
		resp = postHolidayList(t, admin, f.app.srv.URL, "2025", "getRestDeInfo-2025.xml", []byte(kasi.String()))
		wantCode(t, "import", resp, http.StatusSeeOther)
		listPath := resp.Header.Get("Location")
		if !strings.HasPrefix(listPath, "/admin/holidays/imports/") {
			t.Fatalf("import redirects to %q", listPath)
		}
		resp = admin.get(listPath)
		wantCode(t, "review", resp, http.StatusOK)
		doc = admin.page(resp)
		if doc.Find(`[data-testid="diff-row"][data-date="2025-08-14"][data-status="added"]`).Length() != 1 {
			t.Error("2025-08-14 is not shown as added")
		}
		if n := doc.Find(`[data-testid="diff-row"]:not([data-status="same"])`).Length(); n != 1 {
			t.Errorf("%d changed rows, want 1", n)
		}
		if doc.Find(`[data-testid="move"][data-decision="`+itoa(f.decision.ID)+`"]`).Length() != 1 {
			t.Error("the open window it would move is not listed")
		}
		if src, _ := doc.Find(`[data-testid="current-source"] [data-source]`).Attr("data-source"); src != "builtin" {
			t.Errorf("current source %q, want builtin", src)
		}
		// Still pending: nothing moved yet.
		w, err := models.DecisionWindow(t.Context(), f.app.db, f.decision, f.app.clock.Now())
		if err != nil || w.LastDay.String() != "2025-08-14" {
			t.Fatalf("pending list moved the window: %v %v", w.LastDay, err)
		}

		confirmAt := f.app.clock.Now()
		resp = admin.post(listPath+"/confirm", nil)
		wantCode(t, "confirm", resp, http.StatusSeeOther)
		wantCode(t, "confirm twice", admin.post(listPath+"/confirm", nil), http.StatusConflict)
		if n := auditRows(t, f.app, "holiday.list.confirm", strings.TrimPrefix(listPath, "/admin/holidays/imports/")); n != 1 {
			t.Errorf("%d confirm audit rows", n)
		}
		f.app.clock.Advance(time.Hour)

		// 08-14 (list), 08-15 광복절, the weekend: Monday 08-18, closing 08-19 00:00.
		public := f.app.client()
		doc = public.page(public.get("/decisions/" + itoa(f.decision.ID)))
		if got := nmText(doc.Find(`[data-testid="appeal-closes"]`)); got != "2025-08-19 00:00:00 KST" {
			t.Errorf("closes %q", got)
		}
		if src, _ := doc.Find(`[data-testid="window-holiday-source"] [data-source]`).Attr("data-source"); src != "list" {
			t.Errorf("the window's holiday source is %q, want list", src)
		}
		move := nmText(doc.Find(`[data-testid="window-move"]`))
		for _, want := range []string{views.KST(confirmAt), "2025-08-15 00:00:00 KST", "2025-08-19 00:00:00 KST", "2025년 공식 공휴일 목록"} {
			if !strings.Contains(move, want) {
				t.Errorf("move %q lacks %q", move, want)
			}
		}

		// In English, holiday names and the cause are English.
		en := f.app.client()
		wantCode(t, "lang", en.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}), http.StatusSeeOther)
		doc = en.page(en.get("/decisions/" + itoa(f.decision.ID)))
		if move := nmText(doc.Find(`[data-testid="window-move"]`)); !strings.Contains(move, "official list of 2025") {
			t.Errorf("English move %q", move)
		}
		f.app.clock.Set(time.Date(2026, 11, 27, 14, 0, 0, 0, models.KST))
		admin = f.app.client()
		admin.signInDemo("demo-admin")
		admin.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		doc = admin.page(admin.get("/admin/holidays"))
		if got := nmText(doc.Find(`[data-testid="builtin-holiday"][data-date="2026-07-17"] [data-testid="holiday-name"]`)); got != "Constitution Day" {
			t.Errorf("2026-07-17 in English: %q", got)
		}
		if got := nmText(doc.Find(`[data-testid="builtin-holiday"][data-date="2027-07-19"] [data-testid="holiday-name"]`)); !strings.HasPrefix(got, "Substitute holiday (Constitution Day)") {
			t.Errorf("2027-07-19 in English: %q", got)
		}
		if doc.Find(`[data-testid="holiday-list"]`).Length() != 1 {
			t.Error("the imported list is not listed")
		}
	})
}
