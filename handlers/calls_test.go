package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The officers' call form: validation with the input kept, KST instants,
// stale edits, frozen criteria; and the public notice.

// offNewCall posts a call and returns it as stored.
func offNewCall(t *testing.T, app *testApp, c *testClient, form url.Values) *models.Call {
	t.Helper()
	resp := c.post("/officer/calls", form)
	wantCode(t, "", resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/calls/")
	if !ok {
		t.Fatalf("create redirects to %q", loc)
	}
	var call models.Call
	if err := app.db.First(&call, id).Error; err != nil {
		t.Fatal(err)
	}
	full, err := models.GetCall(context.Background(), app.db, call.ID)
	if err != nil {
		t.Fatal(err)
	}
	return full
}

func TestCallCreateValidation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		c := app.client()
		c.signInDemo("demo-officer")
		var before int64
		app.db.Model(&models.Call{}).Count(&before)

		// Weights that add up to 90, a close before the open, a criterion
		// without its English name on row 3 (row 2 left blank), a bad slot count.
		form := offCallForm("검증 공모", "2025-07-21T18:00:00", "2025-07-01T09:00:00", 5, [][4]string{
			{"기술력", "Technology", "60", "10"}, {}, {"사업성", "", "30", "10"}})
		form.Set("slots", "다섯")
		resp := c.post("/officer/calls", form)
		wantCode(t, "", resp, http.StatusUnprocessableEntity)
		doc := c.page(resp)
		ko := app.h.cat.For("ko")
		for field, msg := range map[string]string{
			"criteria":   "call.error.weights_sum",
			"closes_at":  "call.error.close_before_open",
			"criteria.2": "call.error.criterion_name",
			"slots":      "form.number",
		} {
			if got := strings.TrimSpace(doc.Find(`[data-testid="error-` + field + `"]`).Text()); got != ko.T(msg) {
				t.Errorf("error on %s: %q, want %q", field, got, ko.T(msg))
			}
		}
		if doc.Find(`[data-testid="form-errors"]`).Length() != 1 {
			t.Error("no error summary")
		}
		// Everything typed is kept, in the rows it was typed in.
		for name, want := range map[string]string{
			"title_ko": "검증 공모", "opens_at": "2025-07-21T18:00:00", "closes_at": "2025-07-01T09:00:00", "slots": "다섯",
			"criteria.0.name_ko": "기술력", "criteria.0.weight": "60", "criteria.2.name_ko": "사업성", "criteria.2.weight": "30",
			"documents.0.name_ko": "사업계획서",
		} {
			if got, _ := doc.Find(`input[name="` + name + `"]`).Attr("value"); got != want {
				t.Errorf("%s kept as %q, want %q", name, got, want)
			}
		}
		if got := doc.Find(`textarea[name="description_ko"]`).Text(); got != "설명" {
			t.Errorf("description kept as %q", got)
		}
		if _, ok := doc.Find(`input[name="documents.0.required"]`).Attr("checked"); !ok {
			t.Error("required box not kept")
		}
		var after int64
		app.db.Model(&models.Call{}).Count(&after)
		if after != before {
			t.Errorf("an invalid call was saved")
		}

		// No criteria at all, and an unparsable instant.
		form = offCallForm("", "어제", "2025-07-21T18:00:00", 5, nil)
		resp = c.post("/officer/calls", form)
		wantCode(t, "", resp, http.StatusUnprocessableEntity)
		doc = c.page(resp)
		for field, msg := range map[string]string{"criteria": "call.error.no_criteria", "opens_at": "form.datetime", "title_ko": "form.required"} {
			if got := strings.TrimSpace(doc.Find(`[data-testid="error-` + field + `"]`).Text()); got != ko.T(msg) {
				t.Errorf("error on %s: %q, want %q", field, got, ko.T(msg))
			}
		}
	})
}

func TestCallCreateKST(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		// The server's own zone must not matter.
		old := time.Local
		time.Local = time.FixedZone("EST", -5*60*60)
		t.Cleanup(func() { time.Local = old })

		app := newTestApp(t, kind, nil)
		c := app.client()
		c.signInDemo("demo-officer")
		call := offNewCall(t, app, c, offCallForm("KST 공모", "2025-06-20T09:00", "2025-07-21T18:00:00", 5, [][4]string{
			{"기술력", "Technology", "40", "10"}, {"사업성", "Business", "35.5", "100"}, {}, {"파급효과", "Impact", "24.5", "5"}}))
		if want := time.Date(2025, 7, 21, 9, 0, 0, 0, time.UTC); !call.ClosesAt.Equal(want) {
			t.Errorf("closes %v, want %v", call.ClosesAt.UTC(), want)
		}
		if want := time.Date(2025, 6, 20, 0, 0, 0, 0, time.UTC); !call.OpensAt.Equal(want) {
			t.Errorf("opens %v, want %v (seconds left out by the browser are zero)", call.OpensAt.UTC(), want)
		}
		if len(call.Criteria) != 3 || call.Criteria[2].NameKO != "파급효과" || call.Criteria[1].Weight != 35.5 || call.Criteria[2].MaxScore != 5 {
			t.Errorf("criteria %+v (the blank row is dropped)", call.Criteria)
		}
		if len(call.Documents) != 1 || !call.Documents[0].Required {
			t.Errorf("documents %+v", call.Documents)
		}
		if n := auditRows(t, app, "call.create", itoa(call.ID)); n != 1 {
			t.Errorf("%d call.create audit rows", n)
		}

		// The notice shows the instants in KST to the second, for anyone.
		anon := app.client()
		doc := anon.page(anon.get("/calls/" + itoa(call.ID)))
		if got := strings.TrimSpace(doc.Find(`[data-testid="call-closes"]`).Text()); got != "2025-07-21 18:00:00 KST" {
			t.Errorf("notice closes %q", got)
		}
		if n := doc.Find(`[data-testid="call-criterion"]`).Length(); n != 3 {
			t.Errorf("notice shows %d criteria", n)
		}
		if st, _ := doc.Find(`[data-testid="call-state"]`).Attr("data-state"); st != "closed" {
			t.Errorf("state %q, want closed", st)
		}
		if doc.Find(`[data-testid="apply"]`).Length() != 0 || doc.Find(`[data-testid="call-tabs"]`).Length() != 0 {
			t.Error("anonymous notice shows the apply link or the officers' tabs")
		}
		// The edit form shows them back in KST.
		doc = c.page(c.get("/officer/calls/" + itoa(call.ID) + "/edit"))
		if got, _ := doc.Find(`input[name="closes_at"]`).Attr("value"); got != "2025-07-21T18:00:00" {
			t.Errorf("edit form closes_at %q", got)
		}
		if got, _ := doc.Find(`input[name="closes_at"]`).Attr("step"); got != "1" {
			t.Errorf("closes_at step %q, want 1 (seconds)", got)
		}
	})
}

func TestCallNoticeApplyLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	officer := app.client()
	officer.signInDemo("demo-officer")
	now := app.clock.Now().In(models.KST)
	call := offNewCall(t, app, officer, offCallForm("열린 공모", now.Add(-time.Hour).Format("2006-01-02T15:04:05"),
		now.Add(time.Hour).Format("2006-01-02T15:04:05"), 5, [][4]string{{"기술력", "Technology", "100", "10"}}))
	company := app.client()
	company.signInDemo("demo-company-upstage")
	doc := company.page(company.get("/calls/" + itoa(call.ID)))
	if href, _ := doc.Find(`[data-testid="apply"]`).Attr("href"); href != "/calls/"+itoa(call.ID)+"/apply" {
		t.Errorf("apply link %q while open", href)
	}
	if st, _ := doc.Find(`[data-testid="call-state"]`).Attr("data-state"); st != "open" {
		t.Errorf("state %q, want open", st)
	}
	app.clock.Set(call.ClosesAt)
	doc = company.page(company.get("/calls/" + itoa(call.ID)))
	if doc.Find(`[data-testid="apply"]`).Length() != 0 {
		t.Error("apply link at the close instant")
	}
	// Officers get their tabs; English titles in English. (An hour went by:
	// the first session has expired.)
	officer = app.client()
	officer.signInDemo("demo-officer")
	wantCode(t, "", officer.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}), http.StatusSeeOther)
	doc = officer.page(officer.get("/calls/" + itoa(call.ID)))
	if doc.Find(`[data-testid="call-tabs"] a`).Length() != 5 {
		t.Error("officer notice without the five tabs")
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="page-title"]`).Text()); got != "열린 공모 (EN)" {
		t.Errorf("English title %q", got)
	}
	wantCode(t, "", officer.get("/calls/999999"), http.StatusNotFound)
	wantCode(t, "", officer.get("/calls/abc"), http.StatusNotFound)
}

func TestCallStaleEdit(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		first := app.client()
		first.signInDemo("demo-officer")
		second := app.client()
		second.signInDemo("demo-admin")
		call := offNewCall(t, app, first, offCallForm("원래 공모", "2025-09-01T09:00:00", "2025-09-30T18:00:00", 5,
			[][4]string{{"기술력", "Technology", "100", "10"}}))
		edit := "/officer/calls/" + itoa(call.ID)

		// Both open the form at version 1.
		for _, c := range []*testClient{first, second} {
			doc := c.page(c.get(edit + "/edit"))
			if v, _ := doc.Find(`input[name="version"]`).Attr("value"); v != "1" {
				t.Fatalf("form version %q, want 1", v)
			}
		}
		a := offCallForm("첫째 수정", "2025-09-01T09:00:00", "2025-09-30T18:00:00", 5, [][4]string{{"기술력", "Technology", "100", "10"}})
		a.Set("version", "1")
		wantCode(t, "", first.post(edit, a), http.StatusSeeOther)

		b := offCallForm("둘째 수정", "2025-09-01T09:00:00", "2025-10-31T18:00:00", 7, [][4]string{{"기술력", "Technology", "100", "10"}})
		b.Set("version", "1")
		resp := second.post(edit, b)
		wantCode(t, "", resp, http.StatusConflict)
		doc := second.page(resp)
		if got := strings.TrimSpace(doc.Find(`[data-testid="form-stale"]`).Text()); got != app.h.cat.For("ko").T("form.stale") {
			t.Errorf("stale message %q", got)
		}
		if v, _ := doc.Find(`input[name="title_ko"]`).Attr("value"); v != "둘째 수정" {
			t.Errorf("stale form lost the typed title: %q", v)
		}
		if v, _ := doc.Find(`input[name="slots"]`).Attr("value"); v != "7" {
			t.Errorf("stale form lost the typed slots: %q", v)
		}
		got, err := models.GetCall(context.Background(), app.db, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TitleKO != "첫째 수정" || got.Version != 2 || got.Slots != 5 {
			t.Errorf("stored call %q v%d slots %d, want the first edit at version 2", got.TitleKO, got.Version, got.Slots)
		}
		// Reloaded at version 2, the second edit goes through.
		b.Set("version", "2")
		wantCode(t, "", second.post(edit, b), http.StatusSeeOther)
		if n := auditRows(t, app, "call.update", itoa(call.ID)); n != 2 {
			t.Errorf("%d call.update audit rows, want 2", n)
		}
	})
}

func TestCallCriteriaFrozen(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 1)
		c := f.app.client()
		c.signInDemo("demo-officer")
		edit := "/officer/calls/" + itoa(f.call.ID)
		form := offCallForm(f.call.TitleKO, kstInput(f.call.OpensAt), kstInput(f.call.ClosesAt), 5,
			[][4]string{{"기술력", "Technology", "60", "10"}, {"사업성", "Business", "40", "10"}})
		form.Set("version", itoa(uint(f.call.Version)))
		resp := c.post(edit, form)
		wantCode(t, "", resp, http.StatusConflict)
		doc := c.page(resp)
		if doc.Find(`[data-testid="criteria-frozen"]`).Length() != 1 {
			t.Error("no message that the criteria are fixed")
		}
		if v, _ := doc.Find(`input[name="criteria.0.weight"]`).Attr("value"); v != "60" {
			t.Errorf("typed weight not kept: %q", v)
		}
		// The same criteria with another title are fine.
		form = offCallForm("새 제목", kstInput(f.call.OpensAt), kstInput(f.call.ClosesAt), 5, [][4]string{
			{"기술력", "Technology", "50", "10"}, {"사업성", "Business", "30", "10"}, {"파급효과", "Impact", "20", "10"}})
		form.Set("version", itoa(uint(f.call.Version)))
		wantCode(t, "", c.post(edit, form), http.StatusSeeOther)
		// The edit keeps the criteria and documents that applications and
		// scores refer to.
		a, err := models.GetApplication(context.Background(), f.app.db, f.apps[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Call.TitleKO != "새 제목" {
			t.Errorf("title %q after the edit", a.Call.TitleKO)
		}
		if missing := a.Missing(&a.Call); missing.Any() {
			t.Errorf("after editing the call the submitted application misses %v", missing)
		}
		for i, cr := range a.Call.Criteria {
			if cr.ID != f.call.Criteria[i].ID {
				t.Errorf("criterion %d changed id %d → %d", i, f.call.Criteria[i].ID, cr.ID)
			}
		}
	})
}
