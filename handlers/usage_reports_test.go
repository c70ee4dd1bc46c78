package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// usageInput is a report of the figures given.
func usageInput(hours, util float64) models.ReportInput {
	return models.ReportInput{GPUHours: fmt.Sprint(hours), MeanUtil: fmt.Sprint(util), Purpose: "한국어 기반 모델 사전학습",
		Workloads: "pretraining", JobNames: "slurm:1201"}
}

// usageDraft saves a draft usage report of the allocation's month, by its team.
func (s *story) usageDraft(a *models.Allocation, month string) *models.UsageReport {
	s.t.Helper()
	m, err := models.ParseMonth(month)
	if err != nil {
		s.t.Fatal(err)
	}
	org := s.app.db
	var o models.Organisation
	if err := org.First(&o, a.OrganisationID).Error; err != nil {
		s.t.Fatal(err)
	}
	r, errs, err := models.SaveUsageReport(s.t.Context(), s.app.db, a.ID, m, usageInput(100, 50), s.companyUser(o.Code), s.now())
	if err != nil {
		s.t.Fatalf("usage draft: %v %v", err, errs)
	}
	return r
}

// usageStory is a team (Upstage) with an allocation of a node of eight
// GPUs for November 2026, telemetry for every hour of it (every GPU busy
// half of each hour at 60 %), and the clock on 3 December.
type usageStory struct {
	*story
	alloc *models.Allocation
	month models.Month
}

func newUsageStory(t *testing.T, kind testdb.Kind) *usageStory {
	t.Helper()
	s := newStory(t, kind, nil)
	ctx := t.Context()
	c, gpus := s.cluster("kt-b200-usage", 2)
	a, errs, err := models.CreateAllocation(ctx, s.app.db, models.AllocationInput{OrganisationID: s.org("upstage").ID,
		ClusterID: c.ID, BlockKind: models.BlockCustom, GPUCount: 8, From: "2026-11-01", To: "2026-12-31", OwnGPUs: true,
		Nodes: []string{"kt-gn001"}}, s.officer(), s.now())
	if err != nil {
		t.Fatalf("allocate: %v %v", err, errs)
	}
	if _, _, err := models.CreateAllocation(ctx, s.app.db, models.AllocationInput{OrganisationID: s.org("kaist").ID,
		ClusterID: c.ID, BlockKind: models.BlockCustom, GPUCount: 8, From: "2026-11-01", To: "2026-12-31", OwnGPUs: true,
		Nodes: []string{"kt-gn002"}}, s.officer(), s.now()); err != nil {
		t.Fatal(err)
	}
	var rows []models.GPURollup
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, models.KST)
	for h := start; h.Before(start.AddDate(0, 1, 0)); h = h.Add(time.Hour) {
		for _, g := range gpus {
			rows = append(rows, models.GPURollup{DeviceKey: g.UUID, UUID: g.UUID, Hour: h.UTC(), ClusterID: c.ID, Node: g.Node,
				Model: g.Model, ObservedS: 3600, ActiveS: 1800, UtilSum: 3600 * 60, EnergyJ: 3.6e6, Samples: 240, BusyThresholdPct: 5})
		}
	}
	if err := models.UpsertRollups(ctx, s.app.db, rows, s.now()); err != nil {
		t.Fatal(err)
	}
	s.app.clock.Set(time.Date(2026, 12, 3, 10, 0, 0, 0, models.KST))
	m, _ := models.ParseMonth("2026-11")
	return &usageStory{story: s, alloc: a, month: m}
}

// formPath is the team's form for the allocation's November.
func (u *usageStory) formPath() string {
	return fmt.Sprintf("/usage-reports/allocations/%d/2026-11", u.alloc.ID)
}

func reportForm(hours, util string) url.Values {
	return url.Values{"gpu_hours": {hours}, "mean_util": {util}, "purpose": {"한국어 기반 모델 사전학습"},
		"workloads": {"pretraining run 3"}, "job_names": {"slurm:1201"}, "action": {"submit"}}
}

// TestUsageReportJourney: the team's form keeps its input on errors,
// an honest report is verified on submit, the auditor returns it (after a
// confirmation) and the team's inflated revision is a discrepancy; the
// officer's settings page records a version; another team sees nothing.
func TestUsageReportJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		u := newUsageStory(t, kind)
		company := u.signIn("demo-company-upstage")

		// The team's list: November with nothing reported yet.
		doc := wantPage(t, "the team's months", company.get("/company/usage-reports"), http.StatusOK)
		row := doc.Find(fmt.Sprintf(`[data-testid=report-month][data-allocation="%d"][data-month="2026-11"]`, u.alloc.ID))
		if row.Length() != 1 || row.Find("[data-testid=rm-allocated]").Text() != "5,760.0" || row.Find("[data-testid=report-state]").AttrOr("data-state", "x") != "" {
			t.Fatalf("November row: %q", row.Text())
		}

		// Bad input is refused with the fields named and everything typed kept.
		bad := reportForm("lots", "150")
		doc = wantPage(t, "bad report", company.post(u.formPath(), bad), http.StatusUnprocessableEntity)
		wantFieldError(t, "bad report", doc, "gpu_hours", "mean_util")
		if v, _ := doc.Find("#gpu_hours").Attr("value"); v != "lots" || doc.Find("#purpose").Text() != "한국어 기반 모델 사전학습" {
			t.Errorf("input not kept: %q %q", v, doc.Find("#purpose").Text())
		}

		// The honest report: 8 GPUs × 720 h × half busy = 2,880 GPU-hours at 60 %: verified.
		resp := company.post(u.formPath(), reportForm("2880", "60"))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", resp.StatusCode, snippet(readAll(resp)))
		}
		loc := resp.Header.Get("Location")
		doc = wantPage(t, "result", company.get(loc), http.StatusOK)
		if o := doc.Find("[data-testid=verification-facts] [data-testid=report-outcome]").AttrOr("data-outcome", ""); o != models.OutcomeVerified {
			t.Fatalf("outcome %q", o)
		}
		// A bar a day of what was measured; the claim, which has no figure
		// per day, is one line: the monthly total spread evenly, and said so.
		if n := doc.Find("[data-testid=day-row]").Length(); n != 30 || doc.Find("[data-testid=day-chart] svg rect").Length() != 30 ||
			doc.Find("[data-testid=day-chart] svg line.usage-line-claimed").Length() != 1 {
			t.Errorf("days: %d rows, %d bars", n, doc.Find("[data-testid=day-chart] svg rect").Length())
		}
		if note := testIDText(doc, "even-spread"); !strings.Contains(note, "2,880.0") || !strings.Contains(note, "96.0") ||
			!strings.Contains(doc.Find("#day-chart-caption").Text(), "균등") {
			t.Errorf("the even spread is not said: %q, %q", note, doc.Find("#day-chart-caption").Text())
		}
		if got := testIDText(doc, "v-coverage"); got == "" || doc.Find("[data-testid=no-gaps]").Length() != 1 {
			t.Errorf("coverage %q, gaps %q", got, doc.Find("[data-testid=gaps]").Text())
		}
		if doc.Find("[data-testid=audit-actions]").Length() != 0 {
			t.Error("the team sees the auditor's actions")
		}
		var r models.UsageReport
		if err := u.app.db.Where("allocation_id = ?", u.alloc.ID).First(&r).Error; err != nil {
			t.Fatal(err)
		}

		// Another team does not see it.
		other := u.signIn("demo-company-kaist")
		wantCode(t, "another team's report", other.get(loc), http.StatusNotFound)
		wantCode(t, "another team's form", other.get(u.formPath()), http.StatusNotFound)

		// The auditor's queue has it; the return asks for confirmation first.
		auditor := u.signIn("demo-auditor")
		doc = wantPage(t, "queue", auditor.get("/auditor/usage-reports?outcome=verified&month=2026-11"), http.StatusOK)
		if doc.Find(fmt.Sprintf(`[data-testid=queue-row][data-report="%d"]`, r.ID)).Length() != 1 {
			t.Fatalf("queue: %q", testIDText(doc, "report-queue"))
		}
		doc = wantPage(t, "queue, discrepancies", auditor.get("/auditor/usage-reports?outcome=discrepancy"), http.StatusOK)
		if doc.Find("[data-testid=queue-row]").Length() != 0 {
			t.Error("a verified report among the discrepancies")
		}
		wantCode(t, "queue, bad outcome", auditor.get("/auditor/usage-reports?outcome=maybe"), http.StatusBadRequest)
		doc = wantPage(t, "return without a note", auditor.post(loc+"/return", url.Values{"note": {""}}), http.StatusUnprocessableEntity)
		wantFieldError(t, "return without a note", doc, "note")
		doc = wantPage(t, "return, confirm", auditor.post(loc+"/return", url.Values{"note": {"작업 이름을 모두 적어 주십시오."}}), http.StatusOK)
		if doc.Find("[data-testid=confirm]").Length() != 1 || testIDText(doc, "confirm-note") != "작업 이름을 모두 적어 주십시오." {
			t.Fatalf("no confirmation: %q", testIDText(doc, "page-title"))
		}
		if count(t, u.app, &models.UsageReport{}, "id = ? AND state = ?", r.ID, models.ReportSubmitted) != 1 {
			t.Fatal("the confirmation page changed the report")
		}
		wantSeeOther(t, "return", auditor.post(loc+"/return", url.Values{"note": {"작업 이름을 모두 적어 주십시오."}, "confirm": {"1"}}), loc)

		// The team sees the note, revises with 20 % more: a discrepancy, the earlier result kept.
		doc = wantPage(t, "returned form", company.get(u.formPath()), http.StatusOK)
		if testIDText(doc, "return-note") == "" {
			t.Error("the note is not on the form")
		}
		resp = company.post(u.formPath(), reportForm("3456", "60"))
		wantSeeOther(t, "resubmit", resp, loc)
		doc = wantPage(t, "result again", company.get(loc), http.StatusOK)
		if o := doc.Find("[data-testid=verification-facts] [data-testid=report-outcome]").AttrOr("data-outcome", ""); o != models.OutcomeDiscrepancy {
			t.Errorf("inflated: %q", o)
		}
		if n := doc.Find("[data-testid=verification-row]").Length(); n != 2 {
			t.Errorf("%d verifications shown, want 2", n)
		}
		diff := doc.Find(`[data-testid=check-row][data-figure="gpu_hours"] [data-testid=check-difference]`).Text()
		if diff == "" {
			t.Error("no difference shown")
		}

		// The officer widens the tolerance (a new version); verifying again is verified; the auditor signs it off.
		officer := u.signIn("demo-officer")
		doc = wantPage(t, "settings, bad", officer.post("/officer/usage-settings", url.Values{"gpu_hours_pct": {"x"},
			"mean_util_points": {"10"}, "energy_pct": {"15"}, "coverage_threshold": {"30"}, "availability_points": {"101"}, "due_day": {"31"}, "note": {""}}), http.StatusUnprocessableEntity)
		wantFieldError(t, "settings, bad", doc, "gpu_hours_pct", "coverage_threshold", "availability_points", "due_day", "note")
		if v := doc.Find("#availability_points").AttrOr("value", ""); v != "101" {
			t.Errorf("availability tolerance not kept: %q", v)
		}
		wantSeeOther(t, "settings", officer.post("/officer/usage-settings", url.Values{"gpu_hours_pct": {"25"},
			"mean_util_points": {"10"}, "energy_pct": {"15"}, "coverage_threshold": {"90"}, "availability_points": {"4"}, "due_day": {"10"}, "note": {"시범 운영"}}), "/officer/usage-settings")
		doc = wantPage(t, "settings page", officer.get("/officer/usage-settings"), http.StatusOK)
		if doc.Find("[data-testid=settings-row]").Length() != 1 || testIDText(doc, "settings-availability") != "4.0" {
			t.Errorf("the settings history lacks the version: %q", testIDText(doc, "settings-history"))
		}
		wantSeeOther(t, "verify again", auditor.post(loc+"/verify", url.Values{}), loc+"#verifications")
		doc = wantPage(t, "sign off, confirm", auditor.post(loc+"/sign-off", url.Values{}), http.StatusOK)
		if doc.Find("[data-testid=confirm]").Length() != 1 {
			t.Fatal("no confirmation for the sign-off")
		}
		wantSeeOther(t, "sign off", auditor.post(loc+"/sign-off", url.Values{"confirm": {"1"}}), loc)
		doc = wantPage(t, "signed off", company.get(loc), http.StatusOK)
		if doc.Find("[data-testid=report-state]").First().AttrOr("data-state", "") != models.ReportSignedOff ||
			doc.Find("[data-testid=verification-facts] [data-testid=report-outcome]").AttrOr("data-outcome", "") != models.OutcomeVerified {
			t.Errorf("after the sign-off: %q", testIDText(doc, "report-state"))
		}
		wantSeeOther(t, "the form of a signed-off report", company.get(u.formPath()), loc)
		if n := auditRows(t, u.app, "usage_report.sign_off", itoa(r.ID)); n != 1 {
			t.Errorf("%d sign-off audit rows", n)
		}
	})
}

// TestUsageReportIsolation: a company's list shows its own allocations'
// months only, and nothing of another team's report reaches it: not the
// report, not its form, not its verification, not the queue.
func TestUsageReportIsolation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		u := newUsageStory(t, kind)
		up := u.org("upstage")
		r, _, err := models.SubmitUsageReport(t.Context(), u.app.db, u.alloc.ID, u.month, usageInput(2880, 60),
			u.companyUser("upstage"), u.now())
		if err != nil {
			t.Fatal(err)
		}
		kaist := u.signIn("demo-company-kaist")
		doc := wantPage(t, "KAIST's months", kaist.get("/company/usage-reports"), http.StatusOK)
		doc.Find("[data-testid=report-month]").Each(func(_ int, s *goquery.Selection) {
			if s.AttrOr("data-allocation", "") == itoa(u.alloc.ID) {
				t.Error("KAIST's list shows Upstage's allocation")
			}
		})
		if n := doc.Find("[data-testid=report-month]").Length(); n == 0 {
			t.Error("KAIST's own months are missing")
		}
		if main := doc.Find("main").Text(); strings.Contains(main, up.NameKO) || strings.Contains(main, up.NameEN) {
			t.Error("KAIST's list names Upstage")
		}
		path := fmt.Sprintf("/usage-reports/%d", r.ID)
		for _, c := range []struct {
			what   string
			resp   *http.Response
			status int
		}{
			{"the report", kaist.get(path), http.StatusNotFound},
			{"its form", kaist.get(u.formPath()), http.StatusNotFound},
			{"verify it", kaist.post(path+"/verify", url.Values{}), http.StatusNotFound},
			{"save it", kaist.post(u.formPath(), reportForm("1", "1")), http.StatusNotFound},
			{"the queue", kaist.get("/auditor/usage-reports"), http.StatusForbidden},
			{"sign it off", kaist.post(path+"/sign-off", url.Values{"confirm": {"1"}}), http.StatusForbidden},
		} {
			doc := wantErrorStatus(t, c.what, c.resp, c.status)
			if main := doc.Find("main").Text(); strings.Contains(main, up.NameKO) || strings.Contains(main, "2880") {
				t.Errorf("%s: the refusal shows Upstage's report", c.what)
			}
		}
		if n := count(t, u.app, &models.VerificationResult{}, "report_id = ?", r.ID); n != 1 {
			t.Errorf("%d verifications, want the submission's only", n)
		}
	})
}
