package handlers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// invoiceLine stores a line for the allocation's month as it stands after
// an auditor returned it, for pages that need one whatever the clock (the
// rules enter a month only once it is over).
func (s *story) invoiceLine(a *models.Allocation, month string) *models.InvoiceLine {
	s.t.Helper()
	l := models.InvoiceLine{AllocationID: a.ID, OrganisationID: a.OrganisationID, Provider: "KT Cloud", Month: month,
		BilledHours: 100, Availability: 99, State: models.ReportReturned, ReturnNote: "청구서 번호를 적어 주십시오.",
		EnteredByID: s.officer().ID, SubmittedAt: s.now()}
	if err := s.app.db.Create(&l).Error; err != nil {
		s.t.Fatal(err)
	}
	return &l
}

// uploadInvoices posts a CSV file to the officers' import.
func uploadInvoices(c *testClient, content string) *http.Response {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrfToken())
	fw, _ := w.CreateFormFile("file", "kt-2026-11.csv")
	fw.Write([]byte(content))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+"/officer/invoices/import", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// TestInvoiceJourney: an officer's form keeps its input on errors; a file
// with faults is refused whole, each fault named by row and column; the
// right file is imported and verified: the whole month billed for GPUs
// busy half of it is verified (a provider bills the time delivered, not
// used), billing beyond the block is a discrepancy; the auditor filters
// the queue by kind, returns a line and signs the corrected one off; a team
// sees nothing of it.
func TestInvoiceJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		u := newUsageStory(t, kind)
		officer := u.signIn("demo-officer")
		doc := wantPage(t, "invoices", officer.get("/officer/invoices"), http.StatusOK)
		if doc.Find("[data-testid=no-invoices]").Length() != 1 || doc.Find("#allocation_id option").Length() < 3 {
			t.Fatalf("empty list: %q", testIDText(doc, "invoice-form"))
		}

		bad := url.Values{"allocation_id": {itoa(u.alloc.ID)}, "month": {"2026-12"}, "billed_gpu_hours": {"many"},
			"availability_pct": {"120"}, "reference": {"KT-1"}}
		doc = wantPage(t, "bad line", officer.post("/officer/invoices", bad), http.StatusUnprocessableEntity)
		wantFieldError(t, "bad line", doc, "month", "billed_gpu_hours", "availability_pct")
		if v := doc.Find("#billed_gpu_hours").AttrOr("value", ""); v != "many" {
			t.Errorf("input not kept: %q", v)
		}

		wrong := fmt.Sprintf("allocation_id,month,billed_gpu_hours,availability_pct\n%d,2026-11,5760,100\n%d,2026-1,x,100\n", u.alloc.ID, u.alloc.ID)
		resp := uploadInvoices(officer, wrong)
		doc = wantPage(t, "wrong file", resp, http.StatusUnprocessableEntity)
		var faults []string
		doc.Find("[data-testid=import-fault]").Each(func(_ int, s *goquery.Selection) {
			faults = append(faults, s.AttrOr("data-row", "")+":"+s.AttrOr("data-column", ""))
		})
		if fmt.Sprint(faults) != "[3:month 3:billed_gpu_hours]" {
			t.Errorf("faults %v", faults)
		}
		if n := count(t, u.app, &models.InvoiceLine{}, "1 = 1"); n != 0 {
			t.Fatalf("%d lines from a refused file", n)
		}
		var kaistAlloc models.Allocation
		if err := u.app.db.Where("organisation_id = ?", u.org("kaist").ID).First(&kaistAlloc).Error; err != nil {
			t.Fatal(err)
		}
		// 8 GPUs × 720 h = 5,760 GPU-hours delivered to each team; KAIST's is billed beyond it.
		right := fmt.Sprintf("allocation_id,month,billed_gpu_hours,availability_pct,reference\n%d,2026-11,5760,100,KT-11-1\n%d,2026-11,6000,100,KT-11-2\n",
			u.alloc.ID, kaistAlloc.ID)
		wantSeeOther(t, "import", uploadInvoices(officer, right), "/auditor/usage-reports?kind=invoice")
		var own, other models.InvoiceLine
		u.app.db.Where("allocation_id = ?", u.alloc.ID).First(&own)
		u.app.db.Where("allocation_id = ?", kaistAlloc.ID).First(&other)
		if own.Outcome != models.OutcomeVerified || other.Outcome != models.OutcomeDiscrepancy {
			t.Fatalf("outcomes %q %q", own.Outcome, other.Outcome)
		}
		corrected := url.Values{"allocation_id": {itoa(u.alloc.ID)}, "month": {"2026-11"}, "billed_gpu_hours": {"5700"},
			"availability_pct": {"99"}, "reference": {"KT-11-1R"}}
		doc = wantPage(t, "twice", officer.post("/officer/invoices", corrected), http.StatusUnprocessableEntity)
		wantFieldError(t, "twice", doc, "allocation_id")

		auditor := u.signIn("demo-auditor")
		doc = wantPage(t, "queue of invoices", auditor.get("/auditor/usage-reports?kind=invoice"), http.StatusOK)
		if doc.Find("[data-testid=queue-row][data-kind=invoice]").Length() != 2 || doc.Find("[data-testid=queue-row][data-kind=report]").Length() != 0 {
			t.Errorf("queue: %q", testIDText(doc, "report-queue"))
		}
		doc = wantPage(t, "queue of reports", auditor.get("/auditor/usage-reports?kind=report"), http.StatusOK)
		if doc.Find("[data-testid=queue-row][data-kind=invoice]").Length() != 0 {
			t.Error("invoices among the reports")
		}
		wantCode(t, "queue, bad kind", auditor.get("/auditor/usage-reports?kind=bill"), http.StatusBadRequest)

		path := fmt.Sprintf("/invoices/%d", own.ID)
		wantPage(t, "return, confirm", auditor.post(path+"/return", url.Values{"note": {"번호를 확인하십시오."}}), http.StatusOK)
		wantSeeOther(t, "return", auditor.post(path+"/return", url.Values{"note": {"번호를 확인하십시오."}, "confirm": {"1"}}), path)
		doc = wantPage(t, "returned", officer.get(path), http.StatusOK)
		if testIDText(doc, "return-note") == "" {
			t.Error("the note is not shown")
		}
		wantSeeOther(t, "corrected", officer.post("/officer/invoices", corrected), path)
		doc = wantPage(t, "corrected", auditor.get(path), http.StatusOK)
		if o := doc.Find("[data-testid=verification-facts] [data-testid=report-outcome]").AttrOr("data-outcome", ""); o != models.OutcomeVerified ||
			doc.Find("[data-testid=verification-row]").Length() != 2 {
			t.Errorf("corrected: %q, %d verifications", o, doc.Find("[data-testid=verification-row]").Length())
		}
		// The result records the availability tolerance it applied (the default).
		if tol := testIDText(doc, "v-availability-tolerance"); !strings.Contains(tol, "±2.0") {
			t.Errorf("availability tolerance: %q", tol)
		}
		// The month per day: the bill spread evenly over November's 30 days
		// beside the GPU-hours the telemetry observed (8 GPUs all day).
		days := doc.Find("[data-testid=invoice-days] [data-testid=day-row]")
		if days.Length() != 30 || doc.Find("[data-testid=invoice-days] svg[role=img]").Length() != 1 {
			t.Fatalf("%d days: %q", days.Length(), testIDText(doc, "invoice-days"))
		}
		first := days.First()
		if c, o := first.Find("[data-testid=day-claimed]").Text(), first.Find("[data-testid=day-observed]").Text(); c != "190.0" || o != "192.0" {
			t.Errorf("first day: billed %q, observed %q", c, o)
		}
		if note := testIDText(doc, "even-spread"); !strings.Contains(note, "5,700.0") || !strings.Contains(note, "190.0") ||
			doc.Find("[data-testid=invoice-days] svg line.usage-line-claimed").Length() != 1 {
			t.Errorf("the even spread is not said: %q", note)
		}
		doc = wantPage(t, "discrepancy", auditor.get(fmt.Sprintf("/invoices/%d", other.ID)), http.StatusOK)
		if o := doc.Find("[data-testid=verification-facts] [data-testid=report-outcome]").AttrOr("data-outcome", ""); o != models.OutcomeDiscrepancy ||
			doc.Find(`[data-testid=check-row][data-figure="capacity"][data-ok="false"]`).Length() != 1 {
			t.Errorf("outcome %q: %q", o, testIDText(doc, "verification-checks"))
		}
		wantSeeOther(t, "sign off", auditor.post(path+"/sign-off", url.Values{"confirm": {"1"}}), path)
		if n := auditRows(t, u.app, "invoice.sign_off", itoa(own.ID)); n != 1 {
			t.Errorf("%d sign-off audit rows", n)
		}
		company := u.signIn("demo-company-upstage")
		wantCode(t, "the team reads the line", company.get(path), http.StatusForbidden)
		wantCode(t, "the team's list", company.get("/officer/invoices"), http.StatusForbidden)
	})
}

// TestReportQueuePaging: the auditors' queue says how many rows match and
// pages through them, its links keeping the filter.
func TestReportQueuePaging(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		u := newUsageStory(t, kind)
		n := models.QueuePageSize + 2
		for i := range n {
			l := models.InvoiceLine{AllocationID: u.alloc.ID, OrganisationID: u.alloc.OrganisationID, Provider: "KT Cloud",
				Month: fmt.Sprintf("%d-%02d", 2010+i/12, 1+i%12), State: models.ReportSubmitted, EnteredByID: u.officer().ID,
				SubmittedAt: u.now()}
			if err := u.app.db.Create(&l).Error; err != nil {
				t.Fatal(err)
			}
		}
		auditor := u.signIn("demo-auditor")
		team := itoa(u.alloc.OrganisationID)
		doc := wantPage(t, "page 1", auditor.get("/auditor/usage-reports?kind=invoice&team="+team), http.StatusOK)
		rows := doc.Find("[data-testid=queue-row]").Length()
		next := doc.Find("[data-testid=page-next]").AttrOr("href", "")
		if c := doc.Find("[data-testid=queue-count]").AttrOr("data-total", ""); c != itoa(uint(n)) || rows != models.QueuePageSize {
			t.Fatalf("page 1: %s matching, %d rows", c, rows)
		}
		want := "/auditor/usage-reports?kind=invoice&page=2&team=" + team
		if next != want {
			t.Fatalf("next %q, want %q", next, want)
		}
		doc = wantPage(t, "page 2", auditor.get(next), http.StatusOK)
		if rows := doc.Find("[data-testid=queue-row]").Length(); rows != 2 || doc.Find("[data-testid=page-next]").Length() != 0 ||
			doc.Find("[data-testid=page-prev]").AttrOr("href", "") != "/auditor/usage-reports?kind=invoice&team="+team {
			t.Errorf("page 2: %d rows, %q", rows, testIDText(doc, "queue-pager"))
		}
		wantCode(t, "bad page", auditor.get("/auditor/usage-reports?page=0"), http.StatusBadRequest)
	})
}
