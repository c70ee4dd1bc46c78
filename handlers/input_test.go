package handlers

import (
	"encoding/json"
	"fmt"
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

// Bad text (invalid UTF-8, NUL, too long) typed into any form is a field
// error with the input kept, and in a query string a 400 saying why, on
// SQLite and PostgreSQL alike: never a 500, whatever the database accepts.

// inBad are the bad characters every text field is tried with, each
// between two pieces of good text that must come back in the kept input.
var inBad = map[string]string{"NUL": "\x00", "invalid UTF-8": "\xff\xfe", "escape": "\x1b"}

const inHead, inTail = "앞부분-head", "tail-뒷부분"

// inFieldError checks a 422 whose page marks field with messageID and keeps
// the input named input (an input's value or a textarea's text) with the
// good text around the bad character.
func inFieldError(t *testing.T, app *testApp, what string, resp *http.Response, field, messageID, input string, kept ...string) {
	t.Helper()
	body := readAll(resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("%s: status %d, want 422: %s", what, resp.StatusCode, snippet(body))
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	want := app.h.cat.For("ko").T(messageID)
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-` + field + `"]`).First().Text()); got != want {
		t.Errorf("%s: error on %s = %q, want %q", what, field, got, want)
	}
	if input == "" {
		return
	}
	sel := doc.Find(`[name="` + input + `"]`).First()
	value, ok := sel.Attr("value")
	if !ok {
		value = sel.Text()
	}
	for _, k := range kept {
		if !strings.Contains(value, k) {
			t.Errorf("%s: %s kept as %q, want it to hold %q", what, input, value, k)
		}
	}
}

func TestBadTextInFormsIsAFieldError(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		app, ctx := f.app, t.Context()
		officer, admin, upstage, kaist := f.signIn("demo-officer"), f.signIn("demo-admin"), f.company("upstage"), f.company("kaist")
		calls := func() (n int64) { app.db.Model(&models.Call{}).Count(&n); return n }
		before := calls()

		for name, bad := range inBad {
			typed := inHead + bad + inTail

			// The call form: a title, a description, a criterion's name.
			form := offCallForm(typed, "2027-01-04T09:00", "2027-02-01T18:00", 5, [][4]string{
				{"기술력", "Technology", "60", "10"}, {"사업성", "Business", "40", "10"}})
			inFieldError(t, app, "call title with "+name, officer.post("/officer/calls", form), "title_ko", models.MsgTextInvalid, "title_ko", inHead, inTail)
			form = offCallForm("공모", "2027-01-04T09:00", "2027-02-01T18:00", 5, [][4]string{
				{"기술력", "Technology", "60", "10"}, {"사업성", "Business", "40", "10"}})
			form.Set("description_en", typed)
			inFieldError(t, app, "call description with "+name, officer.post("/officer/calls", form), "description_en", models.MsgTextInvalid, "description_en", inHead, inTail)
			form.Set("description_en", "")
			form.Set("criteria.1.name_en", typed)
			inFieldError(t, app, "criterion name with "+name, officer.post("/officer/calls", form), "criteria.1", models.MsgTextInvalid, "criteria.1.name_en", inHead, inTail)

			// The appeal form.
			fields := f.form(upstage, models.GroundProceduralDefect, typed)
			inFieldError(t, app, "appeal statement with "+name, f.post(upstage, fields), "statement", models.MsgTextInvalid, "statement", inHead, inTail)

			// A reviewer's comment.
			as, err := models.ListAssignments(ctx, app.db, f.apps["kaist"])
			if err != nil || len(as) != 1 {
				t.Fatalf("assignments: %v", err)
			}
			cr := f.call.Criteria[0].ID
			resp := officer.post(fmt.Sprintf("/reviews/%d/scores", as[0].ID), url.Values{
				fmt.Sprintf("score.%d", cr): {"7"}, fmt.Sprintf("comment.%d", cr): {typed}})
			inFieldError(t, app, "review comment with "+name, resp, fmt.Sprintf("score.%d", cr), models.MsgTextInvalid, fmt.Sprintf("comment.%d", cr), inHead, inTail)

			// A naming grant, to the selected team.
			up := f.decision.Entries[0].OrganisationID
			resp = officer.post("/officer/naming", nmGrantForm(string(models.NamingModel), itoa(up), "Solar Pro", "2026-12-01", "", typed, ""))
			inFieldError(t, app, "grant basis with "+name, resp, "basis", models.MsgTextInvalid, "basis", inHead, inTail)
			resp = officer.post("/officer/naming", nmGrantForm(string(models.NamingModel), itoa(up), "Solar\n"+typed, "2026-12-01", "", "선정 결정", ""))
			inFieldError(t, app, "grant names with "+name, resp, "names", models.MsgTextInvalid, "names", inHead, inTail)

			// A one-off holiday.
			resp = admin.post("/admin/holidays", holForm("2027-03-02", typed, "Holiday"))
			inFieldError(t, app, "holiday name with "+name, resp, "name_ko", models.MsgTextInvalid, "name_ko", inHead, inTail)

			// A cluster.
			resp = admin.post("/admin/clusters", url.Values{"name": {"c-" + name}, "provider": {typed}, "region": {"KR"},
				"gpu_model": {"NVIDIA B200"}, "gpu_count": {"8"}, "source_kind": {models.SourceSimulator}, "poll_seconds": {"15"}})
			inFieldError(t, app, "cluster provider with "+name, resp, "provider", models.MsgTextInvalid, "provider", inHead, inTail)
		}
		// The reasons of an officer's answer to an appeal.
		appeal := views.AppealHref(f.fileAs(upstage, "평가 절차에 하자가 있습니다."))
		wantCode(t, "", officer.post(appeal+"/review", nil), http.StatusSeeOther)
		for name, bad := range inBad {
			typed := inHead + bad + inTail
			resp := officer.post(appeal+"/decide", url.Values{"outcome": {string(models.AppealDismiss)}, "reasons": {typed}})
			inFieldError(t, app, "appeal reasons with "+name, resp, "reasons", models.MsgTextInvalid, "reasons", inHead, inTail)
		}

		if after := calls(); after != before {
			t.Errorf("%d calls were stored from bad forms", after-before)
		}

		// A call title of 301 characters is too long on both databases, and kept.
		long := strings.Repeat("가", models.MaxCallTitle+1)
		form := offCallForm(long, "2027-01-04T09:00", "2027-02-01T18:00", 5, [][4]string{{"기술력", "Technology", "100", "10"}})
		inFieldError(t, app, "call title of 301 characters", officer.post("/officer/calls", form), "title_ko", models.MsgTooLong, "title_ko", long)
		form.Set("title_ko", strings.Repeat("가", models.MaxCallTitle))
		form.Set("title_en", strings.Repeat("a", models.MaxCallTitle))
		wantCode(t, "", officer.post("/officer/calls", form), http.StatusSeeOther)

		// Weights that are not numbers in (0, 100] are the criterion's error.
		for _, w := range []string{"NaN", "Inf", "-Inf", "-20", "1e309"} {
			form := offCallForm("가중치", "2027-01-04T09:00", "2027-02-01T18:00", 5, [][4]string{
				{"기술력", "Technology", w, "10"}, {"사업성", "Business", "100", "10"}})
			resp := officer.post("/officer/calls", form)
			body := readAll(resp)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("weight %s: status %d, want 422", w, resp.StatusCode)
				continue
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			if doc.Find(`[data-testid="error-criteria.0"]`).Length() != 1 {
				t.Errorf("weight %s: no error on the criterion's row", w)
			}
			if got, _ := doc.Find(`input[name="criteria.0.weight"]`).Attr("value"); got != w {
				t.Errorf("weight %s kept as %q", w, got)
			}
		}

		// An open call to apply to: the apply form, the draft's fields and a new consortium member.
		now := app.clock.Now()
		open := f.newCall("열린 공모", now.Add(-time.Hour), now.Add(72*time.Hour))
		apply := fmt.Sprintf("/calls/%d/apply", open.ID)
		for name, bad := range inBad {
			typed := inHead + bad + inTail
			resp := kaist.post(apply, url.Values{"title_ko": {typed}, "title_en": {"Model"}, "summary": {"요약"}})
			inFieldError(t, app, "application title with "+name, resp, "title_ko", models.MsgTextInvalid, "title_ko", inHead, inTail)
			resp = kaist.post(apply, url.Values{"title_ko": {"모델"}, "title_en": {"Model"}, "summary": {typed}})
			inFieldError(t, app, "application summary with "+name, resp, "summary", models.MsgTextInvalid, "summary", inHead, inTail)
		}
		resp := kaist.post(apply, url.Values{"title_ko": {"모델"}, "title_en": {"Model"}, "summary": {"첫 줄\r\n\t둘째 줄"}})
		wantCode(t, "", resp, http.StatusSeeOther)
		var draft uint
		if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/applications/%d?done=created", &draft); err != nil {
			t.Fatalf("apply: Location %q", resp.Header.Get("Location"))
		}
		for name, bad := range inBad {
			typed := inHead + bad + inTail
			resp := kaist.post(fmt.Sprintf("/applications/%d", draft), url.Values{"title_ko": {"모델"}, "title_en": {typed},
				"summary": {"요약"}, "version": {"1"}})
			inFieldError(t, app, "draft English title with "+name, resp, "title_en", models.MsgTextInvalid, "title_en", inHead, inTail)
			resp = kaist.post(fmt.Sprintf("/applications/%d/members", draft), url.Values{"name_ko": {typed}, "name_en": {"New member"},
				"business_reg_no": {apBRN(t, "123456789", true)}, "role": {models.MemberModel}})
			inFieldError(t, app, "member name with "+name, resp, "name_ko", models.MsgTextInvalid, "name_ko", inHead, inTail)
		}

		// An allocation's note.
		cl := &models.Cluster{Name: "alloc-test", Provider: "KT Cloud", Region: "KR", GPUModel: "NVIDIA B200", GPUCount: 8,
			SourceKind: models.SourceSimulator, PollSeconds: 15}
		if _, err := models.SaveCluster(ctx, app.db, nil, cl, false, f.officer, now); err != nil {
			t.Fatal(err)
		}
		for name, bad := range inBad {
			typed := inHead + bad + inTail
			resp := officer.post("/officer/allocations/new", url.Values{"cluster_id": {itoa(cl.ID)}, "organisation_id": {itoa(f.decision.Entries[0].OrganisationID)},
				"block_kind": {models.BlockCustom}, "gpu_count": {"1"}, "from": {"2026-12-01"}, "to": {"2026-12-31"},
				"uuids": {"GPU-1"}, "note": {typed}})
			inFieldError(t, app, "allocation note with "+name, resp, "note", models.MsgTextInvalid, "note", inHead, inTail)
		}
	})
}

// A query string with bad text answers 400 saying why (JSON on the API),
// never a 500; good Korean text still searches.
func TestBadQueryStringIs400(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		app := f.app
		officer, upstage := f.signIn("demo-officer"), f.company("upstage")
		anon := app.client()
		list := fmt.Sprintf("/officer/calls/%d/applications", f.call.ID)
		ko := app.h.cat.For("ko").T(msgBadQuery)
		for _, tc := range []struct {
			c    *testClient
			path string
		}{
			{officer, list + "?q=%00"},
			{officer, list + "?q=upstage%00"},
			{officer, list + "?q=%FF%FE"},
			{officer, list + "?status=%00"},
			{officer, list + "?sort=%00title"},
			{officer, "/appeals?status=submitted%00"},
			{upstage, "/appeals?status=%C3"},
			{officer, "/audit?page=1%00"},
			{anon, "/k-ai?name=Solar%00"},
			{anon, "/decisions?x%00=1"},
			{anon, "/auth/signin?next=/dashboard%00"},
		} {
			resp := tc.c.get(tc.path)
			body := readAll(resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s: status %d, want 400", tc.path, resp.StatusCode)
				continue
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			if !strings.Contains(doc.Text(), ko) {
				t.Errorf("GET %s: the page does not say why: %s", tc.path, snippet(body))
			}
		}
		resp := anon.get("/api/v1/k-ai/verify?name=Solar%00Pro")
		var answer map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusBadRequest ||
			answer["error_ko"] != ko || answer["error"] == "" {
			t.Errorf("verify API with NUL: status %d, %v, %v", resp.StatusCode, answer, err)
		}
		resp.Body.Close()

		// Good text, Korean or escaped, still works.
		for _, path := range []string{list + "?q=" + url.QueryEscape("카이스트"), list + "?q=%20upstage%20", "/k-ai?name=" + url.QueryEscape("솔라")} {
			c := officer
			if strings.HasPrefix(path, "/k-ai") {
				c = anon
			}
			if resp := c.get(path); resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
			} else {
				resp.Body.Close()
			}
		}
	})
}
