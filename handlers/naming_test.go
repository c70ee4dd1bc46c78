package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// nmFixture is the portal with the demo story seeded (the 2025 call and its
// selection of 2025-08-04) and an officer signed in.
type nmFixture struct {
	*story
	officer  *testClient
	user     *models.User // the demo officer
	decision *models.Decision
	// agreements are the selected teams' agreements, by organisation code.
	agreements map[string]*models.Agreement
}

func newNmFixture(t *testing.T, kind testdb.Kind) *nmFixture {
	t.Helper()
	s := newStory(t, kind, nil)
	f := &nmFixture{story: s, decision: s.demoSelection(), officer: s.signIn("demo-officer"), user: s.officer()}
	// The selected teams' agreements, in force from the decision's day,
	// granting no name themselves: the tests grant them.
	f.agreements = s.agreements(f.decision, false)
	for _, code := range []string{"upstage", "naver-cloud", "kakao", "kaist"} {
		s.org(code) // in f.orgs
	}
	return f
}

// grant records a grant directly in the store, on the demo selection.
func (f *nmFixture) grant(t *testing.T, kind models.NamingKind, code, names, from string) *models.NamingGrant {
	t.Helper()
	return f.story.grant(code, f.decision, kind, names, from)
}

func (f *nmFixture) grantCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := f.app.db.Model(&models.NamingGrant{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// nmText is the text of s with its spaces collapsed; list items are
// separated by a space.
func nmText(s *goquery.Selection) string {
	if li := s.Find("li"); li.Length() > 0 {
		return strings.Join(li.Map(func(_ int, s *goquery.Selection) string { return strings.TrimSpace(s.Text()) }), " ")
	}
	return strings.Join(strings.Fields(s.Text()), " ")
}

func nmGrantForm(kind, holder, names, from, to, basis, decision string) url.Values {
	return url.Values{"kind": {kind}, "holder_id": {holder}, "names": {names}, "valid_from": {from},
		"valid_to": {to}, "basis": {basis}, "decision_id": {decision}}
}

func TestNamingGrantToSelectedTeam(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)
		up := f.orgs["upstage"]

		// The form pre-filled for Upstage: its names, today to the end of its agreement, the agreement.
		resp := f.officer.get("/officer/naming?holder=" + itoa(up.ID))
		wantCode(t, "GET /officer/naming?holder", resp, http.StatusOK)
		doc := f.officer.page(resp)
		if n := doc.Find(`[data-testid="naming-holder"]`).Length(); n != 5 {
			t.Errorf("%d selected teams listed, want 5", n)
		}
		form := doc.Find(`[data-testid="grant-form"]`)
		if v, _ := form.Find(`select[name="holder_id"] option[selected]`).Attr("value"); v != itoa(up.ID) {
			t.Errorf("holder pre-selected %q, want Upstage %d", v, up.ID)
		}
		if got := form.Find(`textarea[name="names"]`).Text(); got != "업스테이지\nUpstage" {
			t.Errorf("names pre-filled %q", got)
		}
		if v, _ := form.Find(`input[name="valid_from"]`).Attr("value"); v != models.DateOf(f.now()).String() {
			t.Errorf("valid from pre-filled %q, want today", v)
		}
		if v, _ := form.Find(`input[name="valid_to"]`).Attr("value"); v != "2027-12-31" {
			t.Errorf("valid to pre-filled %q, want the agreement's last day", v)
		}
		if got := form.Find(`textarea[name="basis"]`).Text(); !strings.Contains(got, "협약 "+f.agreements["upstage"].Number) || strings.Contains(got, "수동 부여") {
			t.Errorf("basis pre-filled %q", got)
		}

		// Granting K-AI 모델 for two product names.
		resp = f.officer.post("/officer/naming", nmGrantForm("model", itoa(up.ID), "Solar Pro\r\n\r\n Solar Mini ",
			"2025-08-04", "", "2025-08-04 정예팀 선정 결정", itoa(f.decision.ID)))
		wantCode(t, "POST /officer/naming", resp, http.StatusSeeOther)
		gs, err := models.ListGrants(t.Context(), f.app.db)
		if err != nil || len(gs) != 1 {
			t.Fatalf("grants = %d, %v; want 1", len(gs), err)
		}
		g := gs[0]
		if loc := resp.Header.Get("Location"); loc != "/officer/naming?done=granted#grant-"+itoa(g.ID) {
			t.Errorf("redirect to %q", loc)
		}
		if g.Kind != models.NamingModel || g.HolderID != up.ID || g.Names != "Solar Pro\nSolar Mini" || g.ValidFrom != "2025-08-04" ||
			g.ValidTo != "2027-12-31" || g.DecisionID == nil || *g.DecisionID != f.decision.ID || g.AgreementID == nil || *g.AgreementID != f.agreements["upstage"].ID {
			t.Errorf("grant stored as %+v", g)
		}
		if n := auditRows(t, f.app, "naming.grant", itoa(g.ID)); n != 1 {
			t.Errorf("%d naming.grant audit rows, want 1", n)
		}

		doc = f.officer.page(f.officer.get("/officer/naming?done=granted"))
		if doc.Find(`[data-testid="notice"]`).Length() != 1 {
			t.Error("no notice after the grant")
		}
		row := doc.Find(`[data-testid="grant-row"][data-grant="` + itoa(g.ID) + `"]`)
		if st, _ := row.Find(`[data-testid="grant-status"]`).Attr("data-status"); st != "current" {
			t.Errorf("grant status %q, want current", st)
		}
		if got := nmText(row.Find(`[data-testid="grant-kind"]`)); got != "K-AI 모델" {
			t.Errorf("kind shown %q", got)
		}

		// The public registry lists it among the current holders.
		anon := f.app.client()
		resp = anon.get("/k-ai")
		wantCode(t, "GET /k-ai", resp, http.StatusOK)
		doc = anon.page(resp)
		cur := doc.Find(`[data-testid="current-row"][data-grant="` + itoa(g.ID) + `"]`)
		if cur.Length() != 1 {
			t.Fatal("the grant is not among the current holders")
		}
		for id, want := range map[string]string{"grant-holder": "업스테이지", "grant-kind": "K-AI 모델",
			"grant-names": "Solar Pro Solar Mini", "grant-agreement": "근거 협약 " + f.agreements["upstage"].Number + " (2025-08-04 ~ 2027-12-31)",
			"grant-from": "2025-08-04", "grant-until": "2027-12-31"} {
			if got := nmText(cur.Find(`[data-testid="` + id + `"]`)); got != want {
				t.Errorf("registry %s = %q, want %q", id, got, want)
			}
		}
		if doc.Find(`[data-testid="registry-past"]`).Length() != 0 {
			t.Error("a past holder is listed, but none has ended")
		}
		if doc.Find(`#api[data-testid="api-doc"]`).Length() != 1 || doc.Find(`a[href="#api"]`).Length() != 1 {
			t.Error("the registry does not document the API, or does not link to it")
		}
		if href, _ := doc.Find(`[data-testid="api-example"]`).Attr("href"); !strings.HasPrefix(href, "/api/v1/k-ai/verify?") {
			t.Errorf("API example link %q", href)
		}
	})
}

func TestNamingGrantRefused(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)

		// Kakao applied but was not selected.
		kakao := f.orgs["kakao"]
		resp := f.officer.post("/officer/naming", nmGrantForm("company", itoa(kakao.ID), "카카오\nKakao",
			"2025-08-04", "", "수동 부여", ""))
		wantCode(t, "grant to Kakao", resp, http.StatusUnprocessableEntity)
		doc := f.officer.page(resp)
		if got := nmText(doc.Find(`[data-testid="error-holder_id"]`)); !strings.Contains(got, "효력을 가지는 협약이 없습니다") {
			t.Errorf("holder error %q, want the not-selected message", got)
		}
		form := doc.Find(`[data-testid="grant-form"]`)
		if v, _ := form.Find(`select[name="holder_id"] option[selected]`).Attr("value"); v != itoa(kakao.ID) {
			t.Errorf("holder kept as %q, want Kakao %d", v, kakao.ID)
		}
		if got := form.Find(`textarea[name="names"]`).Text(); got != "카카오\nKakao" {
			t.Errorf("names kept as %q", got)
		}
		if n := f.grantCount(t); n != 0 {
			t.Errorf("%d grants after a refusal", n)
		}

		// Field errors, with everything typed kept.
		resp = f.officer.post("/officer/naming", nmGrantForm("brand", "", "  \n ", "2025-13-01", "someday", "", "999999"))
		wantCode(t, "invalid grant", resp, http.StatusUnprocessableEntity)
		doc = f.officer.page(resp)
		if doc.Find(`[data-testid="form-errors"]`).Length() != 1 {
			t.Error("no error summary")
		}
		for _, field := range []string{"kind", "holder_id", "names", "valid_from", "valid_to", "basis", "decision_id"} {
			if doc.Find(`[data-testid="error-`+field+`"]`).Length() != 1 {
				t.Errorf("no error for %s", field)
			}
		}
		form = doc.Find(`[data-testid="grant-form"]`)
		if v, _ := form.Find(`input[name="valid_from"]`).Attr("value"); v != "2025-13-01" {
			t.Errorf("valid_from kept as %q", v)
		}
		if v, _ := form.Find(`input[name="valid_to"]`).Attr("value"); v != "someday" {
			t.Errorf("valid_to kept as %q", v)
		}

		// An end before the start.
		up := f.orgs["upstage"]
		resp = f.officer.post("/officer/naming", nmGrantForm("company", itoa(up.ID), "업스테이지", "2025-08-04", "2025-08-01", "근거", ""))
		wantCode(t, "end before start", resp, http.StatusUnprocessableEntity)
		doc = f.officer.page(resp)
		if got := nmText(doc.Find(`[data-testid="error-valid_to"]`)); !strings.Contains(got, "시작일") {
			t.Errorf("valid_to error %q", got)
		}
		if v, _ := doc.Find(`select[name="holder_id"] option[selected]`).Attr("value"); v != itoa(up.ID) {
			t.Errorf("holder kept as %q", v)
		}
		if n := f.grantCount(t); n != 0 {
			t.Errorf("%d grants after refusals", n)
		}
	})
}

func TestNamingRevoke(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)
		g := f.grant(t, models.NamingModel, "upstage", "Solar Pro", "2025-08-04")
		path := "/officer/naming/" + itoa(g.ID) + "/revoke"

		// No reason: refused with the date kept.
		resp := f.officer.post(path, url.Values{"revoked_on": {"2026-06-30"}, "reason": {"  "}})
		wantCode(t, "revoke without a reason", resp, http.StatusUnprocessableEntity)
		doc := f.officer.page(resp)
		row := doc.Find(`[data-testid="grant-row"][data-grant="` + itoa(g.ID) + `"]`)
		if row.Find(`[data-testid="error-reason"]`).Length() != 1 {
			t.Error("no error for the missing reason")
		}
		if _, open := row.Find("details").Attr("open"); !open {
			t.Error("the refused revocation form is not open")
		}
		if v, _ := row.Find(`input[name="revoked_on"]`).Attr("value"); v != "2026-06-30" {
			t.Errorf("date kept as %q", v)
		}
		// A date before the grant starts, and a malformed one.
		for _, on := range []string{"2025-08-03", "2026-06-31"} {
			resp = f.officer.post(path, url.Values{"revoked_on": {on}, "reason": {"탈락"}})
			wantCode(t, "revoke on "+on, resp, http.StatusUnprocessableEntity)
			doc = f.officer.page(resp)
			if doc.Find(`[data-testid="error-revoked_on"]`).Length() != 1 {
				t.Errorf("revoke on %s: no date error", on)
			}
			if got := doc.Find(`textarea[name="reason"]`).Text(); got != "탈락" {
				t.Errorf("revoke on %s: reason kept as %q", on, got)
			}
		}

		// Revoked from 2026-06-30 on elimination.
		reason := "2026년 상반기 단계평가 탈락"
		resp = f.officer.post(path, url.Values{"revoked_on": {"2026-06-30"}, "reason": {reason}})
		wantCode(t, "revoke", resp, http.StatusSeeOther)
		if n := auditRows(t, f.app, "naming.revoke", itoa(g.ID)); n != 1 {
			t.Errorf("%d naming.revoke audit rows, want 1", n)
		}
		if n := f.grantCount(t); n != 1 {
			t.Errorf("%d grants after the revocation, want the row kept", n)
		}
		doc = f.officer.page(f.officer.get("/officer/naming"))
		row = doc.Find(`[data-testid="grant-row"][data-grant="` + itoa(g.ID) + `"]`)
		if st, _ := row.Find(`[data-testid="grant-status"]`).Attr("data-status"); st != "revoked" {
			t.Errorf("status %q, want revoked", st)
		}
		if got := nmText(row.Find(`[data-testid="grant-revocation"]`)); !strings.Contains(got, "2026-06-30") || !strings.Contains(got, reason) {
			t.Errorf("revocation shown as %q", got)
		}
		if row.Find(`[data-testid="revoke-form"]`).Length() != 0 {
			t.Error("a revoked grant still offers the revocation form")
		}

		// The registry shows it under past holders, ended the day before.
		anon := f.app.client()
		doc = anon.page(anon.get("/k-ai"))
		if doc.Find(`[data-testid="current-row"][data-grant="`+itoa(g.ID)+`"]`).Length() != 0 {
			t.Error("a revoked grant is still among the current holders")
		}
		past := doc.Find(`[data-testid="past-row"][data-grant="` + itoa(g.ID) + `"]`)
		if past.Length() != 1 {
			t.Fatal("the revoked grant is not among the past holders")
		}
		if got := nmText(past.Find(`[data-testid="grant-end"]`)); got != "2026-06-29" {
			t.Errorf("end date %q, want the day before the revocation", got)
		}
		if got := nmText(past.Find(`[data-testid="grant-reason"]`)); !strings.Contains(got, reason) {
			t.Errorf("reason %q", got)
		}
		if got := nmText(past.Find(`[data-testid="grant-holder"]`)); got != "업스테이지" {
			t.Errorf("holder %q", got)
		}

		// Twice: a conflict; a grant that does not exist: not found.
		resp = f.officer.post(path, url.Values{"revoked_on": {"2026-07-01"}, "reason": {"again"}})
		wantCode(t, "revoke twice", resp, http.StatusConflict)
		resp = f.officer.post("/officer/naming/999999/revoke", url.Values{"revoked_on": {"2026-07-01"}, "reason": {"x"}})
		wantCode(t, "revoke a missing grant", resp, http.StatusNotFound)
		resp = f.officer.post("/officer/naming/abc/revoke", url.Values{"revoked_on": {"2026-07-01"}, "reason": {"x"}})
		wantCode(t, "revoke grant abc", resp, http.StatusNotFound)
	})
}

// verifyAnswer is the API's JSON, with the nullable fields as pointers.
type verifyAnswer struct {
	Name   string `json:"name"`
	Date   string `json:"date"`
	Valid  bool   `json:"valid"`
	Status string `json:"status"`
	Holder *struct {
		NameKO string `json:"name_ko"`
		NameEN string `json:"name_en"`
	} `json:"holder"`
	Kind      *string  `json:"kind"`
	KindLabel *string  `json:"kind_label"`
	Names     []string `json:"names"`
	ValidFrom *string  `json:"valid_from"`
	ValidTo   *string  `json:"valid_to"`
	RevokedOn *string  `json:"revoked_on"`
	Reason    *string  `json:"reason"`
	Agreement *struct {
		Number string `json:"number"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"agreement"`
	Error   string `json:"error"`
	ErrorKO string `json:"error_ko"`
}

func nmVerify(t *testing.T, c *testClient, query url.Values, status int) (verifyAnswer, *http.Response) {
	t.Helper()
	resp := c.get("/api/v1/k-ai/verify?" + query.Encode())
	body := readAll(resp)
	if resp.StatusCode != status {
		t.Fatalf("verify %v: status %d, want %d: %s", query, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("verify %v: Content-Type %q", query, ct)
	}
	var a verifyAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("verify %v: %v in %s", query, err, body)
	}
	return a, resp
}

func TestNamingVerifyAPI(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newNmFixture(t, kind)
		g := f.grant(t, models.NamingModel, "upstage", "Solar Pro", "2025-08-04")
		anon := f.app.client()
		q := func(name, date string) url.Values {
			v := url.Values{"name": {name}}
			if date != "" {
				v.Set("date", date)
			}
			return v
		}

		// Valid today (2026-11-27 KST), with the public-API headers.
		a, resp := nmVerify(t, anon, q("Solar Pro", ""), http.StatusOK)
		if !a.Valid || a.Status != "valid" || a.Date != "2026-11-27" || a.Name != "Solar Pro" {
			t.Errorf("today: %+v", a)
		}
		if a.Holder == nil || a.Holder.NameKO != "업스테이지" || a.Holder.NameEN != "Upstage" {
			t.Errorf("holder %+v", a.Holder)
		}
		if a.Kind == nil || *a.Kind != "model" || a.KindLabel == nil || *a.KindLabel != "K-AI 모델" {
			t.Errorf("kind %v / %v", a.Kind, a.KindLabel)
		}
		if a.ValidFrom == nil || *a.ValidFrom != "2025-08-04" || a.ValidTo == nil || *a.ValidTo != "2027-12-31" || a.RevokedOn != nil || a.Reason != nil {
			t.Errorf("period: from %v to %v revoked %v reason %v", a.ValidFrom, a.ValidTo, a.RevokedOn, a.Reason)
		}
		if len(a.Names) != 1 || a.Names[0] != "Solar Pro" {
			t.Errorf("names %v", a.Names)
		}
		hd := resp.Header
		if hd.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("Access-Control-Allow-Origin %q", hd.Get("Access-Control-Allow-Origin"))
		}
		if cc := hd.Get("Cache-Control"); !strings.Contains(cc, "max-age=60") {
			t.Errorf("Cache-Control %q", cc)
		}
		if hd.Get("Content-Security-Policy") == "" || hd.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("the security headers are missing on the API")
		}

		// Case, spaces and punctuation do not matter.
		for _, name := range []string{"solar pro", "SOLAR-PRO", "  Solar   Pro ", "solarpro"} {
			if a, _ := nmVerify(t, anon, q(name, ""), http.StatusOK); !a.Valid {
				t.Errorf("%q: not valid", name)
			}
		}

		// Before the grant starts.
		a, _ = nmVerify(t, anon, q("Solar Pro", "2025-08-03"), http.StatusOK)
		if a.Valid || a.Status != "not_yet_valid" || a.Date != "2025-08-03" {
			t.Errorf("the day before it starts: %+v", a)
		}
		if a, _ = nmVerify(t, anon, q("Solar Pro", "2025-08-04"), http.StatusOK); !a.Valid {
			t.Error("not valid on its first day")
		}

		// Revoked from 2026-12-01 (eliminated).
		reason := "2026년 하반기 단계평가 탈락"
		if err := models.RevokeName(t.Context(), f.app.db, g.ID, "2026-12-01", reason, f.user, f.app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		a, _ = nmVerify(t, anon, q("solar pro", "2026-11-30"), http.StatusOK)
		if !a.Valid || a.RevokedOn == nil || *a.RevokedOn != "2026-12-01" {
			t.Errorf("the day before the revocation: %+v", a)
		}
		for _, date := range []string{"2026-12-01", "2027-03-01"} {
			a, _ = nmVerify(t, anon, q("Solar Pro", date), http.StatusOK)
			if a.Valid || a.Status != "revoked" || a.RevokedOn == nil || *a.RevokedOn != "2026-12-01" ||
				a.Reason == nil || *a.Reason != reason || a.Holder == nil {
				t.Errorf("on %s after the revocation: %+v", date, a)
			}
		}

		// An unknown name is an answer, not an error.
		a, _ = nmVerify(t, anon, q("Nonexistent Model", "2026-11-27"), http.StatusOK)
		if a.Valid || a.Status != "unknown" || a.Holder != nil || a.Kind != nil || a.Name != "Nonexistent Model" {
			t.Errorf("unknown name: %+v", a)
		}

		// Bad dates and a missing name: 400 with a message.
		for _, date := range []string{"2026-02-30", "20261128", "tomorrow", "2026-11-28T00:00:00+09:00"} {
			a, resp = nmVerify(t, anon, q("Solar Pro", date), http.StatusBadRequest)
			if !strings.Contains(a.Error, "YYYY-MM-DD") || a.ErrorKO == "" {
				t.Errorf("date %q: error %q / %q", date, a.Error, a.ErrorKO)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("date %q: Cache-Control %q on an error", date, cc)
			}
		}
		for _, query := range []url.Values{{}, {"name": {"   "}}, {"date": {"2026-11-27"}}} {
			if a, _ = nmVerify(t, anon, query, http.StatusBadRequest); !strings.Contains(a.Error, "name") {
				t.Errorf("%v: error %q", query, a.Error)
			}
		}

		// The default date is today in KST: 23:30 UTC is already the next day.
		f.app.clock.Set(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC))
		a, _ = nmVerify(t, anon, q("Solar Pro", ""), http.StatusOK)
		if a.Date != "2026-11-28" || !a.Valid {
			t.Errorf("at 2026-11-27 23:30 UTC: %+v, want the date 2026-11-28", a)
		}

		// The registry's lookup gives the same answers.
		for _, c := range []struct {
			name, date, valid, status string
		}{
			{"solar pro", "2026-11-30", "true", "valid"},
			{"Solar Pro", "2026-12-01", "false", "revoked"},
			{"Solar Pro", "2025-08-03", "false", "not_yet_valid"},
			{"Nonexistent", "", "false", "unknown"},
		} {
			resp := anon.get("/k-ai?" + q(c.name, c.date).Encode())
			wantCode(t, "lookup "+c.name, resp, http.StatusOK)
			doc := anon.page(resp)
			ans := doc.Find(`[data-testid="lookup-answer"]`)
			if v, _ := ans.Attr("data-valid"); v != c.valid {
				t.Errorf("lookup %q on %q: valid %q, want %s", c.name, c.date, v, c.valid)
			}
			if s, _ := ans.Attr("data-status"); s != c.status {
				t.Errorf("lookup %q on %q: status %q, want %s", c.name, c.date, s, c.status)
			}
		}
		doc := anon.page(anon.get("/k-ai?name=Solar+Pro&date=2026-12-01"))
		if got := nmText(doc.Find(`[data-testid="lookup-revoked-on"]`)); got != "2026-12-01" {
			t.Errorf("lookup shows revoked on %q", got)
		}
		resp = anon.get("/k-ai?name=Solar+Pro&date=2026-13-01")
		wantCode(t, "lookup with a bad date", resp, http.StatusBadRequest)
		doc = anon.page(resp)
		if doc.Find(`[data-testid="lookup-error"]`).Length() != 1 {
			t.Error("the lookup does not explain the bad date")
		}
		if v, _ := doc.Find(`#lookup-date`).Attr("value"); v != "2026-13-01" {
			t.Errorf("lookup date kept as %q", v)
		}
	})
}

// TestSeedDemoNamingRegistry: the demo grants show in the registry and the API.
func TestSeedDemoNamingRegistry(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		s.demoSelection()
		f := &nmFixture{story: s}
		for range 2 {
			if err := demo.SeedAgreements(t.Context(), f.app.db, f.app.h.files, f.app.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		anon := f.app.client()
		doc := anon.page(anon.get("/k-ai"))
		if n := doc.Find(`[data-testid="current-row"]`).Length(); n != 10 {
			t.Errorf("%d current holders, want 10 (company and model for 5 teams)", n)
		}
		a, _ := nmVerify(t, anon, url.Values{"name": {"naver cloud"}}, http.StatusOK)
		if !a.Valid || a.Kind == nil || *a.Kind != "company" || a.KindLabel == nil || *a.KindLabel != "K-AI 기업" {
			t.Errorf("Naver Cloud: %+v", a)
		}
		if a, _ := nmVerify(t, anon, url.Values{"name": {"카카오"}}, http.StatusOK); a.Valid {
			t.Error("Kakao (not selected) may use K-AI")
		}
	})
}
