package handlers

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestUsageSummaryAndExports: the auditor's summary of November shows
// Upstage's reported, measured and billed GPU-hours; the summary and the
// reports and invoice lines of the period download as CSV and XLSX with
// their verification numbers; a bad period re-renders the form.
func TestUsageSummaryAndExports(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		u := newUsageStory(t, kind)
		ctx := t.Context()
		if _, _, err := models.SubmitUsageReport(ctx, u.app.db, u.alloc.ID, u.month, usageInput(2880, 60), u.companyUser("upstage"), u.now()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := models.EnterInvoiceLine(ctx, u.app.db, models.InvoiceInput{AllocationID: itoa(u.alloc.ID), Month: "2026-11",
			BilledHours: "5760", Availability: "100"}, u.officer(), u.now()); err != nil {
			t.Fatal(err)
		}
		auditor := u.signIn("demo-auditor")
		doc := wantPage(t, "summary", auditor.get("/auditor/usage-summary?month=2026-11"), http.StatusOK)
		row := doc.Find(`[data-testid=summary-row][data-org="` + itoa(u.org("upstage").ID) + `"]`)
		if row.Length() != 1 || row.Find("[data-testid=s-measured]").Text() != "2,880.0" ||
			!strings.HasPrefix(row.Find("[data-testid=s-reported]").Text(), "2,880.0") ||
			!strings.HasPrefix(row.Find("[data-testid=s-billed]").Text(), "5,760.0") {
			t.Errorf("Upstage's row: %q", row.Text())
		}
		// Both the report and the invoice line are verified: the row sums the
		// figures their latest results recorded, and says so.
		if src := row.Find("[data-testid=s-source]"); src.AttrOr("data-recorded", "") != "1" || src.AttrOr("data-current", "") != "0" ||
			testIDText(doc, "summary-sources") == "" {
			t.Errorf("sources: %q", src.Text())
		}
		if doc.Find(`nav a[href="/auditor/usage-summary"]`).Length() == 0 {
			t.Error("the navigation does not link the summary")
		}

		resp := auditor.get("/auditor/usage-summary/export?month=2026-11&format=csv")
		wantCode(t, "summary csv", resp, http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(readAll(resp), "\ufeff"))).ReadAll()
		if err != nil || len(recs) < 3 || recs[len(recs)-1][1] != "합계" {
			t.Fatalf("summary csv: %v %v", recs, err)
		}
		if recs[0][5] != "기록된 값의 배정 수" || recs[len(recs)-1][5] == "0" {
			t.Errorf("summary csv, recorded: %v", recs)
		}

		for _, format := range []string{"csv", "xlsx"} {
			resp := auditor.get("/auditor/usage-export?from=2026-10&to=2026-11&format=" + format)
			wantCode(t, "export "+format, resp, http.StatusOK)
			var rows [][]string
			body := readAll(resp)
			if format == "csv" {
				rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
			} else {
				x, xerr := excelize.OpenReader(strings.NewReader(body))
				if xerr != nil {
					t.Fatal(xerr)
				}
				rows, err = x.GetRows(x.GetSheetName(0))
				x.Close()
			}
			if err != nil || len(rows) != 3 {
				t.Fatalf("%s: %d rows %v", format, len(rows), err)
			}
			kinds := rows[1][0] + "/" + rows[2][0]
			if kinds != "사용 보고서/공급사 청구" || rows[1][11] != "검증 완료" || rows[2][11] != "검증 완료" || rows[1][17] != "2880" {
				t.Errorf("%s rows: %v", format, rows[1:])
			}
		}
		doc = wantPage(t, "bad period", auditor.get("/auditor/usage-export?"+url.Values{"from": {"2026-11"}, "to": {"2026-09"}}.Encode()),
			http.StatusUnprocessableEntity)
		wantFieldError(t, "bad period", doc, "to")
		if v := doc.Find("#from").AttrOr("value", ""); v != "2026-11" {
			t.Errorf("from not kept: %q", v)
		}
		company := u.signIn("demo-company-upstage")
		wantCode(t, "the team's export", company.get("/auditor/usage-export?from=2026-11&to=2026-11"), http.StatusForbidden)
	})
}
