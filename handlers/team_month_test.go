package handlers

import (
	"bytes"
	"encoding/csv"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/xuri/excelize/v2"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestTeamMonthPagesAndExport: a team sees its own month, never another's;
// the ministry and auditors see every team's and the programme's; the
// per-GPU per-day export reads back (CSV with a BOM, and XLSX) to the
// figures the page shows.
func TestTeamMonthPagesAndExport(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.allocate(t, g.kaist, "kt-gn002")
		g.telemetry(t, g.gpus[:8]) // Upstage's GPUs: 47 h each, 25–27 November KST
		const month = "?month=2026-11"
		ownPage, otherPage := "/gpus/usage/"+itoa(g.upstage.ID), "/gpus/usage/"+itoa(g.kaist.ID)

		upstage := g.client()
		upstage.signInDemo("demo-company-upstage")
		doc := upstage.page(upstage.get(ownPage + month))
		row := doc.Find(`[data-testid="team-month"] [data-testid="team-month-row"]`)
		for id, want := range map[string]string{"m-allocations": "1", "m-observed": "376.0", "m-busy": "376.0", "m-idle": "0.0",
			"m-down": "0.0", "m-util": "43.5%"} {
			if got := strings.TrimSpace(row.Find(`[data-testid="` + id + `"]`).Text()); got != want {
				t.Errorf("team month %s = %q, want %q", id, got, want)
			}
		}
		if got := row.Find(`[data-testid="m-threshold"]`).Text(); !strings.Contains(got, "기준 기록 없음") {
			t.Errorf("threshold of hours folded without one: %q", got)
		}
		if doc.Find(`[data-testid="export-csv"]`).Length() != 1 || doc.Find(`[data-testid="export-xlsx"]`).Length() != 1 {
			t.Error("no export links")
		}
		// Another team's month, and its export, are "not found"; the programme's forbidden.
		for _, path := range []string{otherPage + month, otherPage + "/export" + month + "&format=csv", "/gpus/usage" + month} {
			resp := upstage.get(path)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: status %d for another team", path, resp.StatusCode)
			}
		}

		ownUUIDs := map[string]bool{}
		for _, gpu := range g.gpus[:8] {
			ownUUIDs[gpu.UUID] = true
		}
		checkRows := func(what string, rows [][]string) {
			t.Helper()
			if len(rows) != 1+3*8 {
				t.Fatalf("%s: %d rows, want a header and 24 GPU-days", what, len(rows))
			}
			var observed float64
			days := map[string]bool{}
			for _, r := range rows[1:] {
				if !ownUUIDs[r[2]] || r[1] != itoa(own.ID) {
					t.Errorf("%s: a row not of Upstage's allocation: %v", what, r)
				}
				h, err := strconv.ParseFloat(r[5], 64)
				if err != nil {
					t.Fatalf("%s: observed %q: %v", what, r[5], err)
				}
				observed += h
				days[r[0]] = true
				// Rollups folded before the busy threshold was recorded: blank, not 0.
				// (XLSX rows end at their last non-empty cell.)
				if len(r) > 12 && r[12] != "" {
					t.Errorf("%s: threshold column of a day without a recorded threshold: %q", what, r[12])
				}
			}
			if observed != 376 || len(days) != 3 || !days["2026-11-26"] {
				t.Errorf("%s: %v observed hours over days %v, want 376 over 25–27 November", what, observed, days)
			}
		}
		resp := upstage.get(ownPage + "/export" + month + "&format=csv")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv: status %d, %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		if !bytes.HasPrefix(body, []byte("\ufeff")) {
			t.Error("the CSV has no byte-order mark")
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		checkRows("csv", rows)

		resp = upstage.get(ownPage + "/export" + month + "&format=xlsx")
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("xlsx: status %d", resp.StatusCode)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		rows, err = f.GetRows(f.GetSheetName(0))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkRows("xlsx", rows)

		// Auditors: both teams and the programme's total.
		auditor := g.client()
		auditor.signInDemo("demo-auditor")
		doc = auditor.page(auditor.get("/gpus/usage" + month))
		if n := doc.Find(`[data-testid="programme-month"] tbody [data-testid="team-month-row"]`).Length(); n != 2 {
			t.Errorf("%d teams in the programme month, want 2", n)
		}
		if got := doc.Find(`[data-testid="programme-total"] [data-testid="m-observed"]`).Text(); got != "376.0" {
			t.Errorf("programme observed %q, want 376.0", got)
		}
		if got := doc.Find(`[data-testid="programme-total"] [data-testid="m-allocations"]`).Text(); got != "2" {
			t.Errorf("programme allocations %q, want 2", got)
		}
		if resp := auditor.get(otherPage + month); resp.StatusCode != http.StatusOK {
			t.Errorf("auditor, KAIST's month: status %d", resp.StatusCode)
		}
	})
}

// TestWorkloadsShown: the allocation page and the team-month page break the
// GPU time down by workload; one GPU chosen, the breakdown is that GPU's;
// another team's workloads never show.
func TestWorkloadsShown(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		g.allocate(t, g.kaist, "kt-gn002")
		store := models.TelemetryStore{DB: g.db}
		h := g.clock.Now().Truncate(time.Hour).Add(-2 * time.Hour)
		var rs []dcgm.Rollup
		for i, gpu := range g.gpus {
			job := "slurm:upstage-" + strconv.Itoa(i%2)
			if i >= 8 {
				job = "k8s:kaist/secret-pod"
			}
			rs = append(rs, dcgm.Rollup{Key: gpu.UUID, UUID: gpu.UUID, Hour: h, Node: gpu.Node, Model: gpu.Model,
				ObservedSeconds: 3600, ActiveSeconds: 3600, UtilSum: 3600 * 50, Samples: 60,
				Workloads: map[string]dcgm.WorkloadTime{job: {ObservedSeconds: 1800, ActiveSeconds: 1800}}})
		}
		if err := store.UpsertRollups(t.Context(), g.cluster.ID, rs, g.clock.Now()); err != nil {
			t.Fatal(err)
		}
		c := g.client()
		c.signInDemo("demo-company-upstage")
		rowsOf := func(path string) map[string]string {
			t.Helper()
			doc := c.page(c.get(path))
			if strings.Contains(mustHTML(t, doc.Find("main")), "secret-pod") {
				t.Errorf("%s shows another team's workload", path)
			}
			out := map[string]string{}
			doc.Find(`[data-testid="workload-row"]`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-workload")
				out[id] = s.Find(`[data-testid="workload-observed"]`).Text()
			})
			if got := doc.Find(`[data-testid="workload-unlabelled"]`).Text(); !strings.Contains(got, "4.0") && len(out) > 0 && !strings.Contains(path, "gpu=") {
				t.Errorf("%s: unlabelled time %q, want 4.0 GPU-hours", path, got)
			}
			return out
		}
		want := map[string]string{"slurm:upstage-0": "2.0", "slurm:upstage-1": "2.0"}
		page := "/allocations/" + itoa(own.ID)
		for _, path := range []string{page, "/gpus/usage/" + itoa(g.upstage.ID) + "?month=" + models.MonthOf(g.clock.Now()).String()} {
			if got := rowsOf(path); !maps.Equal(got, want) {
				t.Errorf("%s: workloads %v, want %v", path, got, want)
			}
		}
		if got := rowsOf(page + "?gpu=" + g.gpus[1].UUID); !maps.Equal(got, map[string]string{"slurm:upstage-1": "0.5"}) {
			t.Errorf("one GPU's workloads %v", got)
		}
	})
}
