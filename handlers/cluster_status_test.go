package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// TestClusterStatusPage: the status pages show each endpoint's state in
// words that are true: a cluster whose endpoints are all backing off is
// "지연 재시도" while the collector reports (not "수집 중단"), with the last
// success, the next attempt, failure rates and the failure history;
// "수집 중단" only once no collector has reported for a while.
func TestClusterStatusPage(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		ctx := t.Context()
		a, b := "https://10.1.0.11:9400/metrics", "https://10.1.0.12:9400/metrics"
		c := &models.Cluster{Name: "ncp-h100", Provider: "NCP", Region: "KR-1", GPUModel: "NVIDIA H100 80GB HBM3",
			GPUCount: 16, SourceKind: models.SourceExporter, Endpoints: a + "\n" + b, PollSeconds: 5}
		if _, err := models.SaveCluster(ctx, g.db, nil, c, false, g.officer, g.clock.Now()); err != nil {
			t.Fatal(err)
		}
		now := g.clock.Now()
		// The cluster's own status is ten minutes old: the collector has been
		// backing off since, which the cluster status alone took for "stale".
		if err := models.RecordClusterStatus(ctx, g.db, c.ID, models.ClusterStatus{At: now.Add(-10 * time.Minute),
			Err: "2 of 2 endpoints failed: dcgm-exporter " + a + ": connection refused"}); err != nil {
			t.Fatal(err)
		}
		lastOK := now.Add(-20 * time.Minute)
		next := now.Add(25 * time.Second)
		var failures []dcgm.Failure
		for i := range 5 {
			at := now.Add(-time.Duration(5-i) * time.Minute)
			failures = append(failures, dcgm.Failure{At: at, Endpoint: a, Err: fmt.Sprintf("dcgm-exporter %s: connection refused #%d", a, i+1), Fails: 10 + i})
		}
		failures = append(failures, dcgm.Failure{At: now.Add(-30 * time.Second), Endpoint: b, Err: "poll timed out after 4s", Fails: 20})
		health := dcgm.Health{At: now.Add(-30 * time.Second), Keep: 100,
			Endpoints: []dcgm.EndpointStatus{
				{Endpoint: a, State: dcgm.EndpointBackingOff, Fails: 14, LastAttempt: now.Add(-time.Minute), LastSuccess: lastOK,
					LastErrorAt: now.Add(-time.Minute), LastError: "dcgm-exporter " + a + ": connection refused", NextAttempt: next},
				{Endpoint: b, State: dcgm.EndpointRetrying, Fails: 2, LastAttempt: now.Add(-30 * time.Second),
					LastErrorAt: now.Add(-30 * time.Second), LastError: "poll timed out after 4s", NextAttempt: now.Add(-25 * time.Second)},
			},
			Failures: failures,
			Counts: []dcgm.PollCount{{Endpoint: a, Hour: now.Add(-time.Hour).Truncate(time.Hour), Polls: 300, Failures: 15},
				{Endpoint: b, Hour: now.Truncate(time.Hour), Polls: 100, Failures: 20}},
		}
		if err := models.RecordCollectorHealth(ctx, g.db, c.ID, health); err != nil {
			t.Fatal(err)
		}

		auditor := g.client()
		auditor.signInDemo("demo-auditor")
		doc := auditor.page(auditor.get("/gpus/clusters"))
		row := doc.Find(fmt.Sprintf(`[data-testid="cluster-row"][data-id="%d"]`, c.ID))
		if st, _ := row.Attr("data-state"); st != models.ClusterRetrying {
			t.Errorf("list: state %q, want retrying", st)
		}
		if got := strings.TrimSpace(row.Find(`[data-testid="cluster-state"]`).Text()); got != "재시도 중" {
			t.Errorf("list: state shown as %q", got)
		}
		if got := row.Find(`[data-testid="cluster-failure-rate"]`).Text(); got != "8.8% (400회 중 35회)" {
			t.Errorf("list: failure rate %q", got)
		}
		href, _ := row.Find(`[data-testid="cluster-link"]`).Attr("href")
		if href != fmt.Sprintf("/gpus/clusters/%d", c.ID) {
			t.Fatalf("list: link %q", href)
		}

		doc = auditor.page(auditor.get(href))
		if st, _ := doc.Find(`[data-testid="cluster-status"]`).Attr("data-state"); st != models.ClusterRetrying {
			t.Errorf("page: state %q", st)
		}
		if strings.Contains(doc.Find("main").Text(), "수집 중단</span>") || doc.Find(`[data-testid="cluster-state"]`).Text() == "수집 중단" {
			t.Error("the page says collection stopped while the collector retries")
		}
		rows := doc.Find(`[data-testid="endpoint-row"]`)
		if rows.Length() != 2 {
			t.Fatalf("%d endpoint rows", rows.Length())
		}
		ea, eb := rows.Eq(0), rows.Eq(1)
		for _, tc := range []struct {
			what, got, want string
		}{
			{"a name", ea.Find(`[data-testid="endpoint-name"]`).Text(), a},
			{"a state", ea.Find(`[data-testid="endpoint-state"]`).Text(), "지연 재시도"},
			{"a failures in a row", ea.Find(`[data-testid="endpoint-fails"]`).Text(), "14"},
			{"a last success", ea.Find(`[data-testid="endpoint-last-success"]`).Text(), views.KST(lastOK)},
			{"a next attempt", ea.Find(`[data-testid="endpoint-next-attempt"]`).Text(), views.KST(next)},
			{"a failure rate", ea.Find(`[data-testid="endpoint-failure-rate"]`).Text(), "5.0% (300회 중 15회)"},
			{"b state", eb.Find(`[data-testid="endpoint-state"]`).Text(), "재시도 중"},
			{"b last success", eb.Find(`[data-testid="endpoint-last-success"]`).Text(), "—"},
			{"b failure rate", eb.Find(`[data-testid="endpoint-failure-rate"]`).Text(), "20.0% (100회 중 20회)"},
			{"reported", doc.Find(`[data-testid="cluster-reported"]`).Text(), views.KST(now.Add(-30 * time.Second))},
		} {
			if strings.TrimSpace(tc.got) != tc.want {
				t.Errorf("%s: %q, want %q", tc.what, strings.TrimSpace(tc.got), tc.want)
			}
		}
		if !strings.Contains(ea.Find(`[data-testid="endpoint-last-error"]`).Text(), "connection refused") {
			t.Errorf("a's last error not shown: %q", ea.Text())
		}

		// The failure history, newest first.
		frows := doc.Find(`[data-testid="failure-row"]`)
		if frows.Length() != 6 {
			t.Fatalf("%d failure rows, want 6", frows.Length())
		}
		first := frows.Eq(0)
		if first.Find(`[data-testid="failure-endpoint"]`).Text() != b || first.Find(`[data-testid="failure-error"]`).Text() != "poll timed out after 4s" ||
			first.Find(`[data-testid="failure-at"]`).Text() != views.KST(now.Add(-30*time.Second)) ||
			first.Find(`[data-testid="failure-in-a-row"]`).Text() != "20" {
			t.Errorf("newest failure row: %q", first.Text())
		}
		if last := frows.Eq(5); last.Find(`[data-testid="failure-endpoint"]`).Text() != a ||
			!strings.HasSuffix(last.Find(`[data-testid="failure-error"]`).Text(), "#1") {
			t.Errorf("oldest failure row: %q", last.Text())
		}
		if doc.Find(`[data-testid="cluster-edit"]`).Length() != 0 {
			t.Error("the auditor is offered the edit link")
		}

		// b answers again: the cluster is partly failing; b is polled at its interval.
		health.At, health.Failures, health.Counts = now, nil, nil
		health.Endpoints[1] = dcgm.EndpointStatus{Endpoint: b, State: dcgm.EndpointOK, GPUsSeen: 8, LastAttempt: now,
			LastSuccess: now, LastErrorAt: now.Add(-30 * time.Second), LastError: "poll timed out after 4s", NextAttempt: now.Add(5 * time.Second)}
		if err := models.RecordCollectorHealth(ctx, g.db, c.ID, health); err != nil {
			t.Fatal(err)
		}
		doc = auditor.page(auditor.get(href))
		eb = doc.Find(`[data-testid="endpoint-row"]`).Eq(1)
		if st := eb.Find(`[data-testid="endpoint-state"]`).Text(); st != "정상" {
			t.Errorf("b after recovery: %q", st)
		}
		if nx := eb.Find(`[data-testid="endpoint-next-attempt"]`).Text(); nx != "5초마다" {
			t.Errorf("b's next attempt after recovery: %q", nx)
		}
		if st, _ := doc.Find(`[data-testid="cluster-status"]`).Attr("data-state"); st != models.ClusterPartial {
			t.Errorf("state after b's recovery %q, want partial", st)
		}

		// Nobody reports for ten minutes: now collection has stopped.
		g.clock.Advance(10 * time.Minute)
		doc = auditor.page(auditor.get("/gpus/clusters"))
		row = doc.Find(fmt.Sprintf(`[data-testid="cluster-row"][data-id="%d"]`, c.ID))
		if st, _ := row.Attr("data-state"); st != models.ClusterStale || strings.TrimSpace(row.Find(`[data-testid="cluster-state"]`).Text()) != "수집 중단" {
			t.Errorf("after ten minutes without a report: %q", st)
		}

		// A cluster that does not exist, or an id that is not one.
		for _, path := range []string{"/gpus/clusters/999999", "/gpus/clusters/x"} {
			if resp := auditor.get(path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d", path, resp.StatusCode)
			}
		}
	})
}

// TestMetricsCollector: the collector's series are on the portal's
// /metrics, in Prometheus text format.
func TestMetricsCollector(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testdb.SQLite, map[string]string{"PORTAL_METRICS_TOKEN": "scrape-secret"})
	m := app.h.CollectorMetrics()
	ep := "https://10.1.0.11:9400/metrics"
	m.Polled("kt-b200-1", ep, 250*time.Millisecond, 8, 2, nil)
	m.Polled("kt-b200-1", ep, 4*time.Second, 0, 0, fmt.Errorf("poll timed out after 4s"))
	m.Endpoint("kt-b200-1", dcgm.EndpointStatus{Endpoint: ep, State: dcgm.EndpointRetrying, Fails: 1})
	m.Wrote("kt-b200-1", 16, 30*time.Millisecond, 75*time.Second, nil)
	m.Wrote("kt-b200-1", 16, 5*time.Second, 0, fmt.Errorf("database is locked"))

	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-secret")
	resp := app.client().do(req)
	body := readAll(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	labels := `{cluster="kt-b200-1",endpoint="https://10.1.0.11:9400/metrics"}`
	for _, want := range []string{
		"# TYPE portal_collector_scrape_duration_seconds histogram",
		"portal_collector_scrape_duration_seconds_count" + labels + " 2",
		"portal_collector_scrapes_total" + labels + " 2",
		"portal_collector_scrape_errors_total" + labels + " 1",
		"portal_collector_endpoint_up" + labels + " 0",
		"portal_collector_endpoint_consecutive_failures" + labels + " 1",
		`portal_collector_samples_total{cluster="kt-b200-1"} 8`,
		`portal_collector_skipped_values_total{cluster="kt-b200-1"} 2`,
		`portal_collector_write_lag_seconds{cluster="kt-b200-1"} 75`,
		`portal_collector_writes_total{cluster="kt-b200-1"} 2`,
		`portal_collector_write_errors_total{cluster="kt-b200-1"} 1`,
		`portal_collector_rows_written_total{cluster="kt-b200-1"} 16`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
