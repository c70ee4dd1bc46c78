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
)

// auditPage fetches an audit page and checks its status.
func auditPage(t *testing.T, c *testClient, path string, want int) *goquery.Document {
	t.Helper()
	resp := c.get(path)
	if resp.StatusCode != want {
		body := readAll(resp)
		t.Fatalf("GET %s: status %d, want %d: %.400s", path, resp.StatusCode, want, body)
	}
	return c.page(resp)
}

// TestAuditPageLocalised: the audit page says what each row records in the
// reader's language, through the catalogue (action, object type, actor's
// role, summary sentence), and still shows the stored summary unchanged as
// the record's own text; the chain stays whole.
func TestAuditPageLocalised(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, _ := newStoryApp(t, kind)
		c := app.client()
		c.signInDemo("demo-auditor")
		ko, en := app.h.cat.For("ko"), app.h.cat.For("en")
		stored := map[string]models.AuditEntry{}
		var rows []models.AuditEntry
		if err := app.db.Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			stored[itoa(r.ID)] = r
		}

		doc := auditPage(t, c, "/audit?action=decision.publish", http.StatusOK)
		if doc.Find(`[data-testid="chain-ok"]`).Length() != 1 {
			t.Error("the chain does not verify")
		}
		row := doc.Find(`[data-testid="audit-row"]`)
		if row.Length() != 1 {
			t.Fatalf("decision.publish rows = %d, want 1", row.Length())
		}
		r := stored[strings.TrimSpace(row.Find("td").First().Text())]
		for id, want := range map[string]string{
			"audit-summary": ko.T("audit.event.decision.publish"), // 선정 결과를 공표했습니다.
			"audit-action":  ko.T("audit.kind.decision.publish"),
			"audit-object":  ko.T("audit.type.decision") + " " + r.ObjectID,
			"audit-actor":   "김정책 · " + ko.T("role.officer"),
			"audit-record":  r.Summary, // as stored, in full
		} {
			if got := strings.Join(strings.Fields(row.Find(`[data-testid="`+id+`"]`).Text()), " "); got != strings.Join(strings.Fields(want), " ") {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		if !strings.HasPrefix(r.Summary, "selection for call") {
			t.Errorf("the stored summary changed: %q", r.Summary)
		}

		// Every row on the Korean page reads in Korean: a sentence from the
		// catalogue, never the stored English text, never a fallback.
		page := auditPage(t, c, "/audit", http.StatusOK)
		page.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
			action, _ := s.Attr("data-action")
			got := strings.TrimSpace(s.Find(`[data-testid="audit-summary"]`).Text())
			if got != ko.T("audit.event."+action) {
				t.Errorf("row %s summary %q, want the catalogue's %q", action, got, ko.T("audit.event."+action))
			}
			objectType, _ := s.Attr("data-object")
			if obj := s.Find(`[data-testid="audit-object"]`).Text(); !strings.HasPrefix(obj, ko.T("audit.type."+objectType)) {
				t.Errorf("row %s object %q is not named in Korean", action, obj)
			}
		})
		if sys := page.Find(`[data-action="system.seed_demo"] [data-testid="audit-actor"]`); sys.Length() > 0 && strings.TrimSpace(sys.First().Text()) != "시스템" {
			t.Errorf("system actor shown as %q", sys.First().Text())
		}

		// The same row in English.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/audit"}}).Body.Close()
		doc = auditPage(t, c, "/audit?action=decision.publish", http.StatusOK)
		if got := strings.TrimSpace(doc.Find(`[data-testid="audit-summary"]`).Text()); got != en.T("audit.event.decision.publish") {
			t.Errorf("English summary %q, want %q", got, en.T("audit.event.decision.publish"))
		}
		if got := strings.TrimSpace(doc.Find(`[data-testid="audit-actor"]`).Text()); got != "김정책 · "+en.T("role.officer") {
			t.Errorf("English actor %q", got)
		}
	})
}

// TestAuditPageFilters: the audit page filters by actor, action, object
// type and KST date range, pages through the result keeping the filter,
// and answers a filter it cannot use with a field error (400), never a 500.
func TestAuditPageFilters(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, _ := newStoryApp(t, kind)
		c := app.client()
		c.signInDemo("demo-auditor")
		count := func(f models.AuditFilter) int64 {
			t.Helper()
			_, n, err := models.ListAudit(t.Context(), app.db, f)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		shown := func(doc *goquery.Document, attr string) map[string]int {
			out := map[string]int{}
			doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
				v, _ := s.Attr(attr)
				out[v]++
			})
			return out
		}

		// Action.
		doc := auditPage(t, c, "/audit?action=review.score", http.StatusOK)
		if got := shown(doc, "data-action"); len(got) != 1 || got["review.score"] == 0 {
			t.Errorf("action=review.score shows %v", got)
		}
		if sel, _ := doc.Find(`select[name="action"] option[selected]`).Attr("value"); sel != "review.score" {
			t.Errorf("the action filter is not kept: %q", sel)
		}

		// Object type, with paging that keeps the filter.
		apps := count(models.AuditFilter{ObjectType: "application"})
		if apps <= auditPageSize {
			t.Fatalf("only %d application rows: the story should give more than a page", apps)
		}
		doc = auditPage(t, c, "/audit?object=application", http.StatusOK)
		if got := shown(doc, "data-object"); len(got) != 1 || got["application"] != auditPageSize {
			t.Errorf("object=application, page 1 shows %v", got)
		}
		next, _ := doc.Find(`[data-testid="audit-next"]`).Attr("href")
		if u, err := url.Parse(next); err != nil || u.Query().Get("object") != "application" || u.Query().Get("page") != "2" {
			t.Fatalf("next page link %q does not keep the filter", next)
		}
		doc = auditPage(t, c, next, http.StatusOK)
		if got := shown(doc, "data-object"); len(got) != 1 || int64(got["application"]) != min(apps-auditPageSize, auditPageSize) {
			t.Errorf("object=application, page 2 shows %v of %d", got, apps)
		}
		if prev, _ := doc.Find(`[data-testid="audit-prev"]`).Attr("href"); !strings.Contains(prev, "object=application") {
			t.Errorf("previous page link %q does not keep the filter", prev)
		}

		// Actor: part of the name, any case; with an action.
		doc = auditPage(t, c, "/audit?actor="+url.QueryEscape("심사")+"&action=review.score", http.StatusOK)
		want := count(models.AuditFilter{Actor: "한심사", Action: "review.score"})
		if want == 0 {
			t.Fatal("the first demo reviewer scored nothing")
		}
		doc.Find(`[data-testid="audit-actor"]`).Each(func(_ int, s *goquery.Selection) {
			if !strings.HasPrefix(s.Text(), "한심사") {
				t.Errorf("actor=심사 shows %q", s.Text())
			}
		})
		if got := doc.Find(`[data-testid="audit-row"]`).Length(); int64(got) != min(want, auditPageSize) {
			t.Errorf("actor=심사&action=review.score: %d rows, want %d", got, min(want, auditPageSize))
		}
		if got := auditPage(t, c, "/audit?actor=OFFICER", http.StatusOK).Find(`[data-testid="audit-row"]`).Length(); got == 0 {
			t.Error("actor=OFFICER (upper case) finds nothing")
		}
		if got := auditPage(t, c, "/audit?actor=%25", http.StatusOK).Find(`[data-testid="audit-row"]`).Length(); got != 0 {
			t.Errorf("actor=%% matched %d rows: the wildcard is not escaped", got)
		}

		// Date range in KST, both ends included: the decision day holds the
		// publication (10:00 KST) and the day before holds none of it.
		doc = auditPage(t, c, "/audit?from=2025-08-04&to=2025-08-04&action=decision.publish", http.StatusOK)
		if doc.Find(`[data-testid="audit-row"]`).Length() != 1 {
			t.Error("from=to=2025-08-04 does not find the decision published that day")
		}
		doc = auditPage(t, c, "/audit?to=2025-08-03&action=decision.publish", http.StatusOK)
		if doc.Find(`[data-testid="audit-row"]`).Length() != 0 {
			t.Error("to=2025-08-03 finds the decision of 2025-08-04")
		}
		dayStart := time.Date(2025, 7, 21, 0, 0, 0, 0, models.KST)
		doc = auditPage(t, c, "/audit?from=2025-07-21&to=2025-07-21", http.StatusOK)
		if want := count(models.AuditFilter{From: dayStart, To: dayStart.AddDate(0, 0, 1)}); int64(doc.Find(`[data-testid="audit-row"]`).Length()) != min(want, auditPageSize) || want == 0 {
			t.Errorf("2025-07-21: %d rows shown, %d in the trail", doc.Find(`[data-testid="audit-row"]`).Length(), want)
		}
		doc.Find(`[data-testid="audit-at"]`).Each(func(_ int, s *goquery.Selection) {
			if !strings.HasPrefix(s.Text(), "2025-07-21 ") {
				t.Errorf("a row of %s in the range 2025-07-21", s.Text())
			}
		})

		// Filters that cannot be used: a field error, the input kept, no rows.
		for _, tc := range []struct{ query, field string }{
			{"action=no.such", "action"},
			{"object=nothing", "object"},
			{"from=2025-13-01", "from"},
			{"to=yesterday", "to"},
			{"from=2025-08-05&to=2025-08-04", "to"},
			{"page=abc", "page"},
			{"page=0", "page"},
			{"page=99999999999999999999", "page"},
			{"actor=" + strings.Repeat("가", 101), "actor"},
		} {
			doc := auditPage(t, c, "/audit?"+tc.query, http.StatusBadRequest)
			wantFieldError(t, tc.query, doc, tc.field)
			if doc.Find(`[data-testid="form-errors"]`).Length() != 1 || doc.Find(`[data-testid="audit-row"]`).Length() != 0 {
				t.Errorf("%s: no error summary, or rows listed", tc.query)
			}
		}
		// Bytes no text may hold (NUL, invalid UTF-8) are refused for every
		// page before it runs (checkQuery): 400, nothing listed.
		for _, q := range []string{"actor=%00", "actor=%ff%fe", "from=%00"} {
			doc := auditPage(t, c, "/audit?"+q, http.StatusBadRequest)
			if doc.Find(`[data-testid="audit-row"]`).Length() != 0 {
				t.Errorf("%s: rows listed", q)
			}
		}
		doc = auditPage(t, c, "/audit?from=2025-08-05&to=2025-08-04&actor=%ED%95%9C", http.StatusBadRequest)
		if v, _ := doc.Find(`input[name="from"]`).Attr("value"); v != "2025-08-05" {
			t.Errorf("from kept as %q", v)
		}
		if v, _ := doc.Find(`input[name="actor"]`).Attr("value"); v != "한" {
			t.Errorf("actor kept as %q", v)
		}
	})
}

// TestAuditPagesVerifyFromCheckpoint: the audit page and the auditor's
// dashboard verify only the rows added since the last check (counted in
// rows read, not time), say so, and walk the whole chain when asked.
func TestAuditPagesVerifyFromCheckpoint(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app, _ := newStoryApp(t, kind)
		c := app.client()
		c.signInDemo("demo-auditor")
		var total int64
		if err := app.db.Model(&models.AuditEntry{}).Count(&total).Error; err != nil {
			t.Fatal(err)
		}
		var last models.AuditEntry
		if err := app.db.Order("id DESC").Take(&last).Error; err != nil {
			t.Fatal(err)
		}
		verified := func(path string) (from, read, full string) {
			t.Helper()
			doc := auditPage(t, c, path, http.StatusOK)
			if doc.Find(`[data-testid="chain-ok"]`).Length() != 1 {
				t.Fatalf("GET %s: the chain does not verify", path)
			}
			p := doc.Find(`[data-testid="chain-verified"]`)
			if doc.Find(`[data-testid="verify-all"]`).AttrOr("href", "") != "/audit?verify=all" {
				t.Errorf("GET %s: no link to verify the whole chain", path)
			}
			return p.AttrOr("data-from", ""), p.AttrOr("data-read", ""), p.AttrOr("data-full", "")
		}

		// The first check since the story was loaded walks every row.
		if from, read, full := verified("/audit"); from != "0" || read != itoa(uint(total)) || full != "true" {
			t.Errorf("first /audit: from %s, read %s, full %s; want every one of %d rows", from, read, full, total)
		}
		// Later ones read only the checkpoint's row.
		for _, path := range []string{"/audit", "/auditor", "/audit?action=decision.publish"} {
			if from, read, full := verified(path); from != itoa(last.ID) || read != "1" || full != "false" {
				t.Errorf("GET %s: from %s, read %s, full %s; want only row %d read", path, from, read, full, last.ID)
			}
		}
		// Asked, the page walks the whole chain again.
		if from, read, full := verified("/audit?verify=all"); from != "0" || read != itoa(uint(total)) || full != "true" {
			t.Errorf("/audit?verify=all: from %s, read %s, full %s; want every one of %d rows", from, read, full, total)
		}
	})
}
