package handlers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestDowntimeRecordedAndShown: an officer records a downtime window on the
// cluster (audited); the allocation page shows its time as down, left out
// of the expected time, and says at what threshold busy time was counted.
func TestDowntimeRecordedAndShown(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.telemetry(t, g.gpus[:8])
		page := "/allocations/" + itoa(own.ID)
		downtime := "/gpus/clusters/" + itoa(g.cluster.ID) + "/downtime"
		record := "/officer/clusters/" + itoa(g.cluster.ID) + "/downtime"

		officer := g.client()
		officer.signInDemo("demo-officer")
		before := officer.page(officer.get(page))
		expectedBefore := before.Find(`[data-testid="usage-expected"]`).Text()
		if got := strings.TrimSpace(before.Find(`[data-testid="usage-down"]`).Text()); !strings.HasPrefix(got, "0.0") {
			t.Errorf("down before any downtime: %q", got)
		}
		if got := before.Find(`[data-testid="usage-threshold"]`).Text(); !strings.Contains(got, "0") {
			t.Errorf("threshold shown as %q", got)
		}

		doc := officer.page(officer.get(downtime))
		if doc.Find(`[data-testid="downtime-form"]`).Length() != 1 || doc.Find(`[data-testid="no-downtime"]`).Length() != 1 {
			t.Fatal("the officer gets no form, or downtime is listed before any was recorded")
		}
		// Wrong input: 422, each problem named.
		resp := officer.post(record, url.Values{"start": {"yesterday"}, "end": {""}, "kind": {"holiday"}, "reason": {""}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("invalid downtime: status %d", resp.StatusCode)
		}
		wantFieldError(t, "invalid downtime", parseHTML(t, readAll(resp)), "start", "end", "kind", "reason")

		// Two hours of maintenance, a day ago.
		start := g.clock.Now().Add(-26 * time.Hour).Truncate(time.Hour).In(models.KST)
		resp = officer.post(record, url.Values{"start": {start.Format("2006-01-02T15:04")},
			"end": {start.Add(2 * time.Hour).Format("2006-01-02T15:04")}, "kind": {"maintenance"}, "reason": {"firmware update"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != downtime {
			t.Fatalf("record: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		rows := officer.page(officer.get(downtime)).Find(`[data-testid="downtime-row"]`)
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "firmware update") {
			t.Fatalf("%d downtime rows: %q", rows.Length(), rows.Text())
		}
		var n int64
		g.db.Model(&models.AuditEntry{}).Where("action = ?", "downtime.create").Count(&n)
		if n != 1 {
			t.Errorf("%d audit rows, want 1", n)
		}

		// 8 GPUs × 2 h down, no longer expected.
		after := officer.page(officer.get(page))
		if got := after.Find(`[data-testid="usage-down"]`).Text(); !strings.Contains(got, "16.0") {
			t.Errorf("down shown as %q, want 16.0 GPU-hours", got)
		}
		if got := after.Find(`[data-testid="usage-expected"]`).Text(); got == expectedBefore {
			t.Errorf("expected time unchanged by the downtime: %q", got)
		}
		for _, id := range []string{"usage-idle", "usage-unobserved"} {
			if after.Find(`[data-testid="`+id+`"]`).Length() != 1 {
				t.Errorf("no %s on the allocation page", id)
			}
		}

		// A CSV import: a wrong line imports nothing and is named; a right file adds its windows.
		upload := func(content string) *http.Response {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("_csrf", officer.csrfToken())
			fw, _ := w.CreateFormFile("file", "downtime.csv")
			fw.Write([]byte(content))
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s%s/import", g.srv.URL, record), &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return officer.do(req)
		}
		resp = upload("start,end,kind,reason\n2026-11-01 10:00,2026-11-01 12:00,outage,power\n2026-11-02 10:00,2026-11-02 09:00,outage,x\n")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong file: status %d", resp.StatusCode)
		}
		if got := parseHTML(t, readAll(resp)).Find(`[data-testid="error-file"]`).Text(); !strings.Contains(got, "3") {
			t.Errorf("the wrong line is not named: %q", got)
		}
		resp = upload("\ufeffstart,end,kind,reason\n2026-11-01 10:00,2026-11-01 12:00,outage,power\n")
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("import: status %d", resp.StatusCode)
		}
		if n := officer.page(officer.get(downtime)).Find(`[data-testid="downtime-row"]`).Length(); n != 2 {
			t.Errorf("%d windows after the import, want 2", n)
		}

		// Auditors read the windows but get no form.
		auditor := g.client()
		auditor.signInDemo("demo-auditor")
		doc = auditor.page(auditor.get(downtime))
		if doc.Find(`[data-testid="downtime-row"]`).Length() != 2 || doc.Find(`[data-testid="downtime-form"]`).Length() != 0 ||
			doc.Find(`[data-testid="downtime-import-form"]`).Length() != 0 {
			t.Error("the auditor's downtime page")
		}
	})
}

// TestAllocationSummaryFollowsGPUFilter: with one GPU chosen, the summary is
// that GPU's, as the charts are.
func TestAllocationSummaryFollowsGPUFilter(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.telemetry(t, g.gpus[:8])
		c := g.client()
		c.signInDemo("demo-company-upstage")
		page := "/allocations/" + itoa(own.ID)
		all := c.page(c.get(page))
		one := c.page(c.get(page + "?gpu=" + url.QueryEscape(g.gpus[2].UUID)))
		if got := all.Find(`[data-testid="usage-util"]`).Text(); got != "43.5%" {
			t.Errorf("all GPUs: mean utilisation %q, want 43.5%%", got)
		}
		if got := one.Find(`[data-testid="usage-util"]`).Text(); got != "42.0%" {
			t.Errorf("GPU 2: mean utilisation %q, want 42.0%%", got)
		}
		allBusy, oneBusy := all.Find(`[data-testid="usage-busy"]`).Text(), one.Find(`[data-testid="usage-busy"]`).Text()
		if allBusy == oneBusy {
			t.Errorf("busy GPU-hours the same for one GPU and all: %q", oneBusy)
		}
		if got := one.Find(`[data-testid="usage-expected"]`).Text(); !strings.Contains(got, "1") {
			t.Errorf("expected time of one GPU: %q", got)
		}
	})
}

// TestBusyThresholdShown: the allocation page says at what threshold busy
// time was counted; hours folded before a threshold was recorded say so,
// never "above 0 %".
func TestBusyThresholdShown(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		officer := g.client()
		officer.signInDemo("demo-officer")
		end := g.clock.Now().Truncate(time.Hour)
		for _, tc := range []struct {
			name       string
			thresholds [2]float64 // of the older and the newer hours
			want, not  string
		}{
			{"none recorded", [2]float64{0, 0}, "기준 기록 없음", "이하"},
			{"one threshold", [2]float64{5, 5}, "사용률 5.0% 이상", "기록 없음"},
			{"some hours without", [2]float64{0, 5}, "5.0% 이하; 일부 시간은 기준 기록 없음", "0.0%"},
			{"changed", [2]float64{3, 5}, "3.0%~5.0%", "기록 없음"},
		} {
			var rows []models.GPURollup
			for h := end.Add(-48 * time.Hour); h.Before(end); h = h.Add(time.Hour) {
				pct := tc.thresholds[0]
				if !h.Before(end.Add(-24 * time.Hour)) {
					pct = tc.thresholds[1]
				}
				for _, gpu := range g.gpus[:8] {
					rows = append(rows, models.GPURollup{DeviceKey: gpu.UUID, UUID: gpu.UUID, Hour: h, ClusterID: g.cluster.ID,
						Node: gpu.Node, Model: gpu.Model, ObservedS: 3600, ActiveS: 1800, UtilSum: 3600 * 40,
						Samples: 240, BusyThresholdPct: pct})
				}
			}
			if err := models.UpsertRollups(t.Context(), g.db, rows, g.clock.Now()); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(officer.page(officer.get("/allocations/" + itoa(own.ID))).Find(`[data-testid="usage-threshold"]`).Text())
			if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
				t.Errorf("%s: threshold shown as %q, want %q", tc.name, got, tc.want)
			}
		}
	})
}

// TestDowntimeOfNodes: an officer records a window of one node through the
// form; only that node's GPUs are down on the allocation page, and their
// telemetry inside it is shown as observed during downtime, coverage never
// above 100 %. Unknown nodes re-render the form with the input kept; a CSV
// file may give the scope too.
func TestDowntimeOfNodes(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.telemetry(t, g.gpus[:8])
		page := "/allocations/" + itoa(own.ID)
		downtime := "/gpus/clusters/" + itoa(g.cluster.ID) + "/downtime"
		record := "/officer/clusters/" + itoa(g.cluster.ID) + "/downtime"
		officer := g.client()
		officer.signInDemo("demo-officer")
		start := g.clock.Now().Add(-26 * time.Hour).Truncate(time.Hour).In(models.KST)
		form := func(scope, targets string) url.Values {
			return url.Values{"start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(2 * time.Hour).Format("2006-01-02T15:04")},
				"kind": {"maintenance"}, "reason": {"rack work"}, "scope": {scope}, "targets": {targets}}
		}

		resp := officer.post(record, form(models.ScopeNodes, "kt-gn009"))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unknown node: status %d", resp.StatusCode)
		}
		doc := parseHTML(t, readAll(resp))
		wantFieldError(t, "unknown node", doc, "targets")
		if got := doc.Find("#targets").Text(); got != "kt-gn009" {
			t.Errorf("targets not kept: %q", got)
		}
		if doc.Find(`#scope\.nodes[checked]`).Length() != 1 {
			t.Error("the scope chosen is not kept")
		}

		// The other node's window: nothing of this allocation is down.
		resp = officer.post(record, form(models.ScopeNodes, g.gpus[8].Node))
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("record: status %d", resp.StatusCode)
		}
		if got := officer.page(officer.get(page)).Find(`[data-testid="usage-down"]`).Text(); !strings.HasPrefix(strings.TrimSpace(got), "0.0") {
			t.Errorf("another node's window took this allocation down: %q", got)
		}
		// This node's: its 8 GPUs × 2 h down, and observed while down.
		resp = officer.post(record, form(models.ScopeNodes, "kt-gn001"))
		resp.Body.Close()
		after := officer.page(officer.get(page))
		if got := after.Find(`[data-testid="usage-down"]`).Text(); !strings.Contains(got, "16.0") {
			t.Errorf("down shown as %q, want 16.0 GPU-hours", got)
		}
		if got := after.Find(`[data-testid="usage-observed-down"]`).Text(); !strings.Contains(got, "16.0") {
			t.Errorf("observed during downtime shown as %q, want 16.0 GPU-hours", got)
		}
		cov := strings.TrimSuffix(strings.Fields(after.Find(`[data-testid="usage-coverage-named"]`).Text())[0], "%")
		if v, err := strconv.ParseFloat(cov, 64); err != nil || v > 100 {
			t.Errorf("coverage of the identified GPUs %q", cov)
		}
		rows := officer.page(officer.get(downtime)).Find(`[data-testid="downtime-scope"][data-scope="nodes"]`)
		if rows.Length() != 2 || !strings.Contains(rows.Text(), "kt-gn001") {
			t.Errorf("scope column: %d rows, %q", rows.Length(), rows.Text())
		}

		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("_csrf", officer.csrfToken())
		fw, _ := w.CreateFormFile("file", "downtime.csv")
		fmt.Fprintf(fw, "start,end,kind,reason,scope,targets\n2026-11-01 10:00,2026-11-01 12:00,outage,psu,gpus,%s\n", g.gpus[3].UUID)
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+record+"/import", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp = officer.do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("import with a scope: status %d", resp.StatusCode)
		}
		if got := officer.page(officer.get(downtime)).Find(`[data-testid="downtime-scope"][data-scope="gpus"]`).Text(); !strings.Contains(got, g.gpus[3].UUID) {
			t.Errorf("imported GPU window: %q", got)
		}
	})
}
