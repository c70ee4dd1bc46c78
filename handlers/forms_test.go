package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// Forms: the error summary (views/form.templ), a form sent after the
// session ended kept for its user (savedform.go), the warning before the
// session ends with its keep-alive, and the confirmation of irreversible
// actions (confirm.go).

// formFields returns the hidden fields of the form posting to action on a
// page: the tokens and what the form carries (version, idempotency key).
func formFields(t *testing.T, doc *goquery.Document, action string) url.Values {
	t.Helper()
	form := doc.Find(`form[action="` + action + `"]`)
	if form.Length() != 1 {
		t.Fatalf("%d forms posting to %s, want 1", form.Length(), action)
	}
	v := url.Values{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		v.Add(name, val)
	})
	if v.Get("_csrf") == "" || v.Get("_owner") == "" {
		t.Fatalf("the form posting to %s carries _csrf %q and _owner %q", action, v.Get("_csrf"), v.Get("_owner"))
	}
	return v
}

// postRaw posts a form exactly as given (no fresh CSRF token), as multipart
// with an evidence file when file is not nil.
func (c *testClient) postRaw(path string, form url.Values, file []byte) *http.Response {
	c.app.t.Helper()
	var req *http.Request
	if file == nil {
		req, _ = http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		// As a browser sends the portal's forms: the token first (the
		// upload routes read it from the first part), then the fields.
		for _, v := range form["_csrf"] {
			w.WriteField("_csrf", v)
		}
		for k, vs := range form {
			if k == "_csrf" {
				continue
			}
			for _, v := range vs {
				w.WriteField(k, v)
			}
		}
		fw, _ := w.CreateFormFile("evidence", "회의록.pdf")
		fw.Write(file)
		w.Close()
		req, _ = http.NewRequest(http.MethodPost, c.app.srv.URL+path, &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
	}
	return c.do(req)
}

// signInDemoTo signs in through the demo sign-in with next and checks it
// lands there.
func (c *testClient) signInDemoTo(t *testing.T, subject, next string) {
	t.Helper()
	u := demoUser(t, c.app, subject)
	wantSeeOther(t, "", c.post("/auth/demo", url.Values{"user_id": {itoa(u.ID)}, "next": {next}}), next)
}

// formsCall is an open call of the tests' own, open for weeks.
func formsCall(t *testing.T, app *testApp) *models.Call {
	t.Helper()
	now := app.clock.Now()
	return storyOf(t, app).saveCall(&models.Call{TitleKO: "보관 시험 공모", TitleEN: "Kept forms call",
		OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(30 * 24 * time.Hour), Slots: 2,
		Criteria:  []models.Criterion{{NameKO: "기술력", NameEN: "Technology", Weight: 100, MaxScore: 10}},
		Documents: []models.RequiredDocument{{NameKO: "사업계획서", NameEN: "Business plan", Required: true}}})
}

func savedForms(t *testing.T, app *testApp) int64 {
	t.Helper()
	return count(t, app, &models.SavedForm{}, "1 = 1")
}

// TestFormKeptAfterSessionExpiry: for each form whose text is kept, the
// user types, the session ends for inactivity, they submit: nothing is
// submitted, they are sent to sign in with the form's page to return to,
// and after signing in again the page shows the form filled in as sent,
// with the notice that it was not submitted; once only.
func TestFormKeptAfterSessionExpiry(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		ctx := t.Context()
		call := formsCall(t, app)
		upstage := demoUser(t, app, "demo-company-upstage")
		draft := &models.Application{CallID: call.ID, TitleKO: "원래 제목", TitleEN: "Old title", Summary: "원래 요약"}
		if err := models.CreateApplication(ctx, app.db, draft, upstage, app.clock.Now()); err != nil {
			t.Fatal(err)
		}
		callPath := fmt.Sprintf("/officer/calls/%d", call.ID)
		cases := []struct {
			name, subject, page, action string
			typed                       url.Values
			check                       map[string]string // selector → value or text
		}{
			{"new call", "demo-officer", "/officer/calls/new", "/officer/calls",
				url.Values{"title_ko": {"새 공모 초안"}, "title_en": {"A new call"}, "description_ko": {"길게 쓴 설명"},
					"opens_at": {"2027-01-04T09:00"}, "closes_at": {"2027-02-01T18:00"}, "slots": {"3"},
					"criteria.0.name_ko": {"기술력"}, "criteria.0.name_en": {"Technology"}, "criteria.0.weight": {"100"}, "criteria.0.max_score": {"10"}},
				map[string]string{`#title_ko`: "새 공모 초안", `#description_ko`: "길게 쓴 설명", `#slots`: "3", `[id="criteria.0"]`: "기술력"}},
			{"edited call", "demo-officer", callPath + "/edit", callPath,
				url.Values{"title_ko": {"고친 공모명"}, "title_en": {"Kept forms call"}, "opens_at": {"2026-11-27T13:00"},
					"closes_at": {"2026-12-27T14:00"}, "slots": {"2"}},
				map[string]string{`#title_ko`: "고친 공모명"}},
			{"new application", "demo-company-kaist", fmt.Sprintf("/calls/%d/apply", call.ID), fmt.Sprintf("/calls/%d/apply", call.ID),
				url.Values{"title_ko": {"카이스트 과제"}, "title_en": {"KAIST project"}, "summary": {"밤새 쓴 요약"}},
				map[string]string{`#title_ko`: "카이스트 과제", `#summary`: "밤새 쓴 요약"}},
			{"draft application", "demo-company-upstage", fmt.Sprintf("/applications/%d", draft.ID), fmt.Sprintf("/applications/%d", draft.ID),
				url.Values{"title_ko": {"새 제목"}, "title_en": {"New title"}, "summary": {"고친 요약"}},
				map[string]string{`#title_ko`: "새 제목", `#summary`: "고친 요약", `input[name="version"]`: itoa(uint(draft.Version))}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := app.client()
				c.signInDemo(tc.subject)
				doc := wantPage(t, "the form", c.get(tc.page), http.StatusOK)
				form := formFields(t, doc, tc.action)
				for k, v := range tc.typed {
					form[k] = v
				}
				app.clock.Advance(app.cfg.SessionIdle + time.Minute)

				resp := c.postRaw(tc.action, form, nil)
				wantSeeOther(t, "", resp, "/auth/signin?kept=1&next="+url.QueryEscape(tc.page))
				if n := savedForms(t, app); n != 1 {
					t.Fatalf("%d kept forms, want 1", n)
				}
				doc = wantPage(t, "sign-in", c.get("/auth/signin?kept=1&next="+url.QueryEscape(tc.page)), http.StatusOK)
				if doc.Find(`[data-testid="session-ended-kept"]`).Length() != 1 {
					t.Error("the sign-in page does not say the text was kept")
				}
				c.signInDemoTo(t, tc.subject, tc.page)
				doc = wantPage(t, "the form again", c.get(tc.page), http.StatusOK)
				scope := doc.Find(`form[action="` + tc.action + `"]`)
				if scope.Find(`[data-testid="form-restored"]`).Length() != 1 {
					t.Error("no notice that the text was restored and not submitted")
				}
				for sel, want := range tc.check {
					el := scope.Find(sel)
					got, ok := el.Attr("value")
					if !ok {
						got = el.Text()
					}
					if got != want {
						t.Errorf("%s restored as %q, want %q", sel, got, want)
					}
				}
				if n := savedForms(t, app); n != 0 {
					t.Errorf("%d kept forms after restoring, want 0", n)
				}
				doc = wantPage(t, "the form a third time", c.get(tc.page), http.StatusOK)
				if doc.Find(`[data-testid="form-restored"]`).Length() != 0 {
					t.Error("restored twice")
				}
			})
		}
		// Nothing was submitted on anyone's behalf.
		if n := count(t, app, &models.Call{}, "title_ko IN ?", []string{"새 공모 초안", "고친 공모명"}); n != 0 {
			t.Errorf("%d calls saved from kept forms", n)
		}
		if n := count(t, app, &models.Application{}, "title_ko IN ?", []string{"카이스트 과제", "새 제목"}); n != 0 {
			t.Errorf("%d applications saved from kept forms", n)
		}
	})
}

// TestAppealKeptAfterSessionExpiry is the case the issue names: an appeal
// typed against its deadline, with a file, sent after the session ended.
// Another user signing in on the same browser does not get it; its author
// does, and files it. Then the security cases: a form without a genuine
// owner, another user's form in a live session, and a form that is not
// kept are refused as before, and nothing is kept.
func TestAppealKeptAfterSessionExpiry(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		app := f.app
		c := f.company("kaist")
		page := f.appealPath()
		doc := wantPage(t, "the appeal form", c.get(page), http.StatusOK)
		form := formFields(t, doc, page)
		statement := "평가위원회 구성이 공고문과 달랐습니다. 마감 직전에 작성했습니다."
		form.Set("ground", string(models.GroundProceduralDefect))
		form.Set("statement", statement)
		app.clock.Advance(app.cfg.SessionIdle + time.Minute)

		resp := c.postRaw(page, form, demo.PDF([]string{"evidence"}))
		wantSeeOther(t, "", resp, "/auth/signin?kept=1&next="+url.QueryEscape(page))
		if n := count(t, app, &models.Appeal{}, "1 = 1"); n != 0 {
			t.Fatalf("%d appeals filed by an expired session", n)
		}

		// Someone else signs in on this browser: nothing for them.
		c.signInDemoTo(t, "demo-company-upstage", page)
		doc = wantPage(t, "the form for another user", c.get(page), http.StatusOK)
		if doc.Find(`[data-testid="form-restored"]`).Length() != 0 || doc.Find(`#statement`).Text() != "" {
			t.Fatal("another user got the kept appeal")
		}
		if n := savedForms(t, app); n != 1 {
			t.Fatalf("%d kept forms after another user's visit, want 1", n)
		}

		// Its author signs in again: the appeal is back, not filed, files to attach again.
		c.signInDemoTo(t, "demo-company-kaist", page)
		doc = wantPage(t, "the form restored", c.get(page), http.StatusOK)
		if got := doc.Find(`#statement`).Text(); got != statement {
			t.Errorf("statement restored as %q", got)
		}
		if v, _ := doc.Find(`#ground option[selected]`).Attr("value"); v != string(models.GroundProceduralDefect) {
			t.Errorf("ground restored as %q", v)
		}
		if got := apValue(doc, `input[name="idempotency_key"]`); got != form.Get("idempotency_key") {
			t.Errorf("idempotency key %q, want the form's %q", got, form.Get("idempotency_key"))
		}
		if doc.Find(`[data-testid="form-restored"]`).Length() != 1 || doc.Find(`[data-testid="form-restored-files"]`).Length() != 1 {
			t.Error("no notice of the restored text and of the file to attach again")
		}
		if n := count(t, app, &models.Appeal{}, "1 = 1"); n != 0 {
			t.Fatalf("%d appeals after restoring, want 0: restoring never submits", n)
		}
		// The user submits it.
		id := f.filed("the restored appeal", f.post(c, url.Values{"ground": {string(models.GroundProceduralDefect)},
			"statement": {statement}, "idempotency_key": {apValue(doc, `input[name="idempotency_key"]`)}}))
		if a := f.appeal(id); a.Statement != statement {
			t.Errorf("filed %q", a.Statement)
		}

		// Refused as before, nothing kept.
		doc = wantPage(t, "the form", c.get(page), http.StatusOK)
		good := formFields(t, doc, page)
		kaist := func() *testClient { return c }
		officer := func() *testClient { return f.signIn("demo-officer") } // signed in just before it posts
		upstageOwner := app.h.formOwner(demoUser(t, app, "demo-company-upstage").ID)
		for _, tc := range []struct {
			name   string
			client func() *testClient
			path   string
			change func(url.Values)
			expire bool
		}{
			{"forged owner", kaist, page, func(v url.Values) { v.Set("_owner", strings.Split(v.Get("_owner"), ".")[0]+".forged") }, true},
			{"no owner", kaist, page, func(v url.Values) { v.Del("_owner") }, true},
			{"another user's form in a live session", officer, "/officer/calls", func(v url.Values) { v.Set("_owner", upstageOwner) }, false},
			{"a form that is not kept", kaist, fmt.Sprintf("/applications/%d/members", f.apps["kaist"]), func(url.Values) {}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := url.Values{}
				for k, vs := range good {
					v[k] = vs
				}
				v.Set("statement", "보관되면 안 되는 글")
				tc.change(v)
				client := tc.client()
				if tc.expire {
					app.clock.Advance(app.cfg.SessionIdle + time.Minute)
				}
				resp := client.postRaw(tc.path, v, nil)
				wantErrorPage(t, client, resp, http.StatusForbidden, "error.csrf")
				if n := savedForms(t, app); n != 0 {
					t.Errorf("%d kept forms, want 0", n)
				}
			})
		}
	})
}

// TestFormKeptOIDC: the same after single sign-on: the provider sends the
// user back to the form's page, which shows the kept text.
func TestFormKeptOIDC(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		p := newTestProvider(t, testStart, providerConfig{})
		app, _ := newOIDCApp(t, kind, p)
		c := app.client()
		wantSeeOther(t, "", c.oidcSignIn(p, officerKim, "/officer/calls/new"), "/officer/calls/new")
		doc := wantPage(t, "the call form", c.get("/officer/calls/new"), http.StatusOK)
		form := formFields(t, doc, "/officer/calls")
		form.Set("title_ko", "단일 로그인 뒤 되살린 공모")
		app.clock.Advance(app.cfg.SessionIdle + time.Minute)
		p.m.FastForward(app.cfg.SessionIdle + time.Minute)
		wantSeeOther(t, "", c.postRaw("/officer/calls", form, nil), "/auth/signin?kept=1&next="+url.QueryEscape("/officer/calls/new"))
		wantSeeOther(t, "", c.oidcSignIn(p, officerKim, "/officer/calls/new"), "/officer/calls/new")
		doc = wantPage(t, "the call form again", c.get("/officer/calls/new"), http.StatusOK)
		if got := apValue(doc, `#title_ko`); got != "단일 로그인 뒤 되살린 공모" {
			t.Errorf("title restored as %q", got)
		}
		if doc.Find(`[data-testid="form-restored"]`).Length() != 1 {
			t.Error("no restored notice")
		}
	})
}

// TestKeptFormExpires: a kept form waits savedFormTTL for its user, no longer.
func TestKeptFormExpires(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	c.signInDemo("demo-officer")
	doc := wantPage(t, "the call form", c.get("/officer/calls/new"), http.StatusOK)
	form := formFields(t, doc, "/officer/calls")
	form.Set("title_ko", "늦게 돌아온 공모")
	app.clock.Advance(app.cfg.SessionIdle + time.Minute)
	wantSeeOther(t, "", c.postRaw("/officer/calls", form, nil), "/auth/signin?kept=1&next="+url.QueryEscape("/officer/calls/new"))
	app.clock.Advance(savedFormTTL)
	c.signInDemoTo(t, "demo-officer", "/officer/calls/new")
	doc = wantPage(t, "the call form", c.get("/officer/calls/new"), http.StatusOK)
	if apValue(doc, `#title_ko`) != "" || doc.Find(`[data-testid="form-restored"]`).Length() != 0 {
		t.Error("a kept form was restored after it expired")
	}
	if n, err := models.DeleteExpiredSavedForms(t.Context(), app.db, app.clock.Now()); err != nil || n != 1 {
		t.Errorf("cleanup removed %d, %v; want 1", n, err)
	}
}

// TestSessionWarningAndKeepAlive: pages say when the session ends; only a
// POST to /auth/keepalive with the CSRF header (the warning's button)
// moves the end; a session nobody keeps alive ends on time.
func TestSessionWarningAndKeepAlive(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, map[string]string{"PORTAL_SESSION_IDLE": "30m", "PORTAL_SESSION_MAX_AGE": "12h"})
		c := app.client()
		c.signInDemo("demo-company-kaist")
		doc := wantPage(t, "dashboard", c.get("/company"), http.StatusOK)
		w := doc.Find(`[data-testid="session-warning"]`)
		ends, _ := w.Attr("data-ends")
		warn, _ := w.Attr("data-warn-seconds")
		if want := app.clock.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339); ends != want || warn != "300" {
			t.Errorf("warning ends %q warns %q s before, want %q and 300", ends, warn, want)
		}
		if w.Find(`[data-testid="session-keepalive"]`).Length() != 1 {
			t.Error("no stay-signed-in button")
		}
		csrf, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
		keepAlive := func(token string) *http.Response {
			req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/auth/keepalive", nil)
			req.Header.Set("X-CSRF-Token", token)
			return c.do(req)
		}
		app.clock.Advance(29 * time.Minute)
		if resp := keepAlive("wrong"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("keep-alive without the token: %d", resp.StatusCode)
		}
		resp := keepAlive(csrf)
		var st sessionState
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("keep-alive: %d, %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		if want := app.clock.Now().Add(30 * time.Minute); !st.Ends.Equal(want) || !st.Renewable {
			t.Errorf("keep-alive says the session ends at %v (renewable %v), want %v", st.Ends, st.Renewable, want)
		}
		app.clock.Advance(29 * time.Minute) // 58 minutes after sign-in, 29 after the keep-alive
		if resp := c.get("/company"); resp.StatusCode != http.StatusOK {
			t.Errorf("after keeping the session alive: %d, want 200", resp.StatusCode)
		}
		// Pages alone keep nothing alive once the user stops: 31 idle minutes end it.
		app.clock.Advance(31 * time.Minute)
		resp = c.get("/company")
		readAll(resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after 31 idle minutes: %d, want 303 to sign in", resp.StatusCode)
		}

		// Near the absolute expiry, nothing can extend the session: no button.
		short := newTestApp(t, kind, map[string]string{"PORTAL_SESSION_IDLE": "30m", "PORTAL_SESSION_MAX_AGE": "20m"})
		s := short.client()
		s.signInDemo("demo-officer")
		doc = wantPage(t, "dashboard", s.get("/officer"), http.StatusOK)
		if ends, _ := doc.Find(`[data-testid="session-warning"]`).Attr("data-ends"); ends != short.clock.Now().Add(20*time.Minute).UTC().Format(time.RFC3339) {
			t.Errorf("ends %q, want the absolute expiry", ends)
		}
		if doc.Find(`[data-testid="session-keepalive"]`).Length() != 0 {
			t.Error("a stay-signed-in button that cannot help")
		}
		if anon := short.client(); wantPage(t, "home", anon.get("/"), http.StatusOK).Find(`[data-testid="session-warning"]`).Length() != 0 {
			t.Error("a session warning for a visitor who is not signed in")
		}
	})
}

// TestErrorSummary: a failed form lists exactly its errors at the top, each
// linking to an element that exists; only the fields in error are marked;
// required fields are marked for everyone.
func TestErrorSummary(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	call := formsCall(t, app)
	officer := app.client()
	officer.signInDemo("demo-officer")
	kaist := app.client()
	kaist.signInDemo("demo-company-kaist")

	callForm := offCallForm("", "2025-07-21T18:00:00", "다음 주", 5, [][4]string{
		{"기술력", "Technology", "60", "10"}, {}, {"사업성", "", "30", "10"}})
	callForm.Set("slots", "다섯")
	for _, tc := range []struct {
		name   string
		c      *testClient
		path   string
		form   url.Values
		fields []string
	}{
		{"call", officer, "/officer/calls", callForm, []string{"title_ko", "closes_at", "slots", "criteria", "criteria.2"}},
		{"application", kaist, fmt.Sprintf("/calls/%d/apply", call.ID), url.Values{"title_en": {"Only English"}}, []string{"title_ko", "summary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := wantPage(t, "failed form", tc.c.post(tc.path, tc.form), http.StatusUnprocessableEntity)
			summary := doc.Find(`[data-testid="form-errors"]`)
			if summary.Length() != 1 {
				t.Fatalf("%d error summaries, want 1", summary.Length())
			}
			if _, ok := summary.Attr("tabindex"); !ok {
				t.Error("the summary cannot take the focus")
			}
			var linked []string
			summary.Find(`a[data-testid="error-link"]`).Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				id := strings.TrimPrefix(href, "#")
				linked = append(linked, id)
				if doc.Find(`[id="`+id+`"]`).Length() != 1 {
					t.Errorf("summary links to %s, which is not on the page once", href)
				}
				if strings.TrimSpace(a.Text()) != strings.TrimSpace(doc.Find(`[id="`+id+`-error"]`).Text()) {
					t.Errorf("summary entry %q differs from the field's message", a.Text())
				}
			})
			slices.Sort(linked)
			want := slices.Clone(tc.fields)
			slices.Sort(want)
			if !slices.Equal(linked, want) {
				t.Errorf("summary lists %v, want %v", linked, want)
			}
			// Only the fields in error are marked.
			doc.Find(`[aria-invalid="true"], .is-error`).Each(func(_ int, s *goquery.Selection) {
				name, _ := s.Attr("name")
				id, _ := s.Attr("id")
				inError := slices.Contains(want, id) || slices.ContainsFunc(want, func(f string) bool {
					return strings.HasPrefix(name, f+".")
				})
				if !inError {
					t.Errorf("%s (id %q) is marked in error but is not", name, id)
				}
			})
			if n := doc.Find(`[aria-invalid="false"]`).Length(); n != 0 {
				t.Errorf("%d controls say aria-invalid=false", n)
			}
		})
	}

	// Required fields: marked in the label, and required + aria-required on the control.
	doc := wantPage(t, "new call", officer.get("/officer/calls/new"), http.StatusOK)
	for _, id := range []string{"title_ko", "title_en", "opens_at", "closes_at", "slots"} {
		el := doc.Find(`#` + id)
		_, req := el.Attr("required")
		aria, _ := el.Attr("aria-required")
		if !req || aria != "true" || doc.Find(`label[for="`+id+`"] .portal-required`).Length() != 1 {
			t.Errorf("%s: required %v, aria-required %q, or no mark in its label", id, req, aria)
		}
	}
	for _, id := range []string{"description_ko", "description_en"} {
		if _, req := doc.Find(`#` + id).Attr("aria-required"); req {
			t.Errorf("%s is optional but marked required", id)
		}
	}
	if doc.Find(`[data-testid="required-note"]`).Length() != 1 {
		t.Error("no note explaining the required mark")
	}
}

// TestConfirmIrreversible: withdrawing an application and answering an
// appeal (publishing: TestRankingAndPublish) change nothing without the
// confirmation page's final button; "go back" keeps what was typed.
func TestConfirmIrreversible(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		t.Run("withdraw", func(t *testing.T) {
			f := newApFixture(t, kind, nil)
			c := f.signIn("demo-company-upstage")
			page := fmt.Sprintf("/applications/%d", f.create(c, "철회 시험"))
			doc := wantPage(t, "withdraw unconfirmed", c.post(page+"/withdraw", nil), http.StatusOK)
			if doc.Find(`[data-testid="confirm"]`).Length() != 1 || doc.Find(`[data-testid="confirm-withdraw-final"]`).Length() != 1 {
				t.Fatal("no confirmation page saying it cannot be undone")
			}
			if v, _ := doc.Find(`[data-testid="confirm-form"] [data-testid="confirm-submit"]`).Attr("value"); v != "1" {
				t.Errorf("final button sends confirm=%q", v)
			}
			if href, _ := doc.Find(`[data-testid="confirm-back"]`).Attr("href"); href != page {
				t.Errorf("back goes to %q", href)
			}
			if st := count(t, f.app, &models.Application{}, "status = ?", models.StatusWithdrawn); st != 0 {
				t.Fatal("withdrawn without confirmation")
			}
			wantSeeOther(t, "withdraw confirmed", c.post(page+"/withdraw", url.Values{"confirm": {"1"}}), page+"?done=withdrawn")
			if st := count(t, f.app, &models.Application{}, "status = ?", models.StatusWithdrawn); st != 1 {
				t.Fatal("not withdrawn after confirmation")
			}
		})
		t.Run("decide appeal", func(t *testing.T) {
			f := newAplFixture(t, kind)
			id := f.fileAs(f.company("kaist"), "검토해 주십시오.")
			off := f.signIn("demo-officer")
			base := views.AppealHref(id)
			wantSeeOther(t, "review", off.post(base+"/review", nil), base+"?done=review")
			reasons := "공고문 제5조에 따라 하자가 없습니다."
			doc := wantPage(t, "decide unconfirmed", off.post(base+"/decide", url.Values{"outcome": {"dismiss"}, "reasons": {reasons}}), http.StatusOK)
			if got := testIDText(doc, "confirm-reasons"); got != reasons {
				t.Errorf("confirmation shows reasons %q", got)
			}
			if o, _ := doc.Find(`[data-testid="confirm-outcome"]`).Attr("data-outcome"); o != "dismiss" {
				t.Errorf("confirmation shows outcome %q", o)
			}
			if f.appeal(id).Status != models.AppealUnderReview {
				t.Fatal("decided without confirmation")
			}
			// Back to change it: the form again, with the reasons kept.
			back := url.Values{"outcome": {"dismiss"}, "reasons": {reasons}, "edit": {"1"}}
			doc = wantPage(t, "back to edit", off.post(base+"/decide", back), http.StatusOK)
			if got := doc.Find(`#reasons`).Text(); got != reasons {
				t.Errorf("reasons after going back: %q", got)
			}
			if f.appeal(id).Status != models.AppealUnderReview {
				t.Fatal("decided by going back")
			}
			wantSeeOther(t, "decide confirmed", off.post(base+"/decide", url.Values{"outcome": {"dismiss"}, "reasons": {reasons}, "confirm": {"1"}}), base+"?done=dismissed")
			if a := f.appeal(id); a.Status != models.AppealDismissed || a.Reasons != reasons {
				t.Errorf("after confirmation: %s %q", a.Status, a.Reasons)
			}
		})
	})
}

// TestSubmittedFieldsStreamsMultipart: a multipart body nobody parsed yet
// is read part by part: text fields kept, files named and discarded, and
// nothing written to disk; an over-long field ends the reading.
func TestSubmittedFieldsStreamsMultipart(t *testing.T) {
	t.Parallel()
	build := func(statement string) *http.Request {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("_owner", "7.mac")
		w.WriteField("statement", statement)
		fw, _ := w.CreateFormFile("evidence", "a.pdf")
		fw.Write(bytes.Repeat([]byte("x"), 1<<20))
		w.CreateFormFile("empty", "")
		w.WriteField("ground", "procedural_defect")
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, "/x", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return req
	}
	fields, files := submittedFields(build("이유"), nil)
	if fields.Get("statement") != "이유" || fields.Get("ground") != "procedural_defect" || fields.Get("_owner") != "7.mac" {
		t.Errorf("fields %v", fields)
	}
	if !slices.Equal(files, []string{"evidence"}) {
		t.Errorf("files %v, want [evidence]", files)
	}
	fields, _ = submittedFields(build(strings.Repeat("가", savedFieldMax)), nil)
	if fields.Has("statement") || fields.Has("ground") {
		t.Errorf("an over-long field was kept, or the reading went on: %v", fields)
	}
}

// TestFormKeptStaleTokenSameUser: signed out and in again in another tab,
// the user submits a form from before: its token is stale, but it is
// theirs, so it comes straight back filled in, not submitted.
func TestFormKeptStaleTokenSameUser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, nil)
	c := app.client()
	c.signInDemo("demo-officer")
	doc := wantPage(t, "the call form", c.get("/officer/calls/new"), http.StatusOK)
	form := formFields(t, doc, "/officer/calls")
	form.Set("title_ko", "다른 탭에서 다시 로그인한 뒤")
	c.signInDemo("demo-officer") // a new session: a new token
	wantSeeOther(t, "", c.postRaw("/officer/calls", form, nil), "/officer/calls/new")
	doc = wantPage(t, "the call form", c.get("/officer/calls/new"), http.StatusOK)
	if apValue(doc, `#title_ko`) != "다른 탭에서 다시 로그인한 뒤" || doc.Find(`[data-testid="form-restored"]`).Length() != 1 {
		t.Error("the form was not filled in again")
	}
	if n := count(t, app, &models.Call{}, "title_ko = ?", "다른 탭에서 다시 로그인한 뒤"); n != 0 {
		t.Error("a stale form was submitted")
	}
}
