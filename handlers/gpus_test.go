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

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// The matrix fixture has no clusters or allocations, so the sample paths
// name ids that do not exist: those who pass the guard get 404 (and the
// company's own and another company's allocations are told apart in
// TestAllocationIsolation). Forms are sent empty: the answer is the validation.
func init() {
	for k, v := range map[string]matrixRow{
		"GET /admin/clusters": {path: "/admin/clusters", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellOK, cellForbidden)},
		"GET /admin/clusters/new": {path: "/admin/clusters/new", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellOK, cellForbidden)},
		"POST /admin/clusters": {path: "/admin/clusters", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellForbidden)},
		"GET /admin/clusters/:id": {path: "/admin/clusters/999999", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellForbidden, cellNotFound, cellForbidden)},
		"POST /admin/clusters/:id": {path: "/admin/clusters/999999", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellForbidden, cellNotFound, cellForbidden)},
		"GET /gpus/clusters": {path: "/gpus/clusters", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellOK)},
		"GET /gpus/clusters/:id": {path: "/gpus/clusters/999999", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellNotFound, cellNotFound, cellNotFound)},
		"GET /officer/allocations/new": {path: "/officer/allocations/new", cells: matrixCells(
			cellSignIn, cellForbidden, cellForbidden, cellOK, cellOK, cellForbidden)},
		"POST /officer/allocations/new": {path: "/officer/allocations/new", cells: matrixCells(
			cellForbidden, cellForbidden, cellForbidden, cellUnprocessable, cellUnprocessable, cellForbidden)},
		"GET /allocations": {path: "/allocations", cells: matrixCells(
			cellSignIn, cellOK, cellOK, cellOK, cellOK, cellOK)},
		"GET /allocations/:id": {path: "/allocations/999999", cells: matrixCells(
			cellSignIn, cellNotFound, cellNotFound, cellNotFound, cellNotFound, cellNotFound)},
		"GET /allocations/:id/series": {path: "/allocations/999999/series", cells: matrixCells(
			cellSignIn, cellNotFound, cellNotFound, cellNotFound, cellNotFound, cellNotFound)},
	} {
		authzMatrix[k] = v
	}
}

// gpuApp is the portal with one simulated B200 cluster whose 16 GPUs (two
// nodes of eight) have been discovered.
type gpuApp struct {
	*testApp
	cluster        *models.Cluster
	gpus           []models.GPU
	upstage, kaist *models.Organisation
	officer        *models.User
}

func newGPUApp(t *testing.T, kind testdb.Kind) *gpuApp {
	t.Helper()
	app := newTestApp(t, kind, nil)
	ctx := t.Context()
	g := &gpuApp{testApp: app}
	var err error
	if g.upstage, err = models.GetOrganisationByCode(ctx, app.db, "upstage"); err != nil {
		t.Fatal(err)
	}
	if g.kaist, err = models.GetOrganisationByCode(ctx, app.db, "kaist"); err != nil {
		t.Fatal(err)
	}
	g.officer = applyUser(t, app, "demo-officer")
	g.cluster = &models.Cluster{Name: "kt-b200-1", Provider: "KT Cloud", Region: "KR-Central", GPUModel: "NVIDIA B200",
		GPUCount: 16, SourceKind: models.SourceSimulator, PollSeconds: 15, SimSeed: 7}
	if _, err := models.SaveCluster(ctx, app.db, nil, g.cluster, false, g.officer, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var seen []models.SeenGPU
	for i := range 16 {
		seen = append(seen, models.SeenGPU{UUID: fmt.Sprintf("GPU-%08d-0000-0000-0000-000000000000", i),
			Node: fmt.Sprintf("kt-gn%03d", i/8+1), Index: i % 8, Model: "NVIDIA B200"})
	}
	if err := models.RecordGPUs(ctx, app.db, g.cluster.ID, seen, app.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if g.gpus, err = models.ListClusterGPUs(ctx, app.db, g.cluster.ID); err != nil {
		t.Fatal(err)
	}
	return g
}

// allocate gives org the first node's GPUs (as its own) for the month around the clock.
func (g *gpuApp) allocate(t *testing.T, org *models.Organisation, nodes ...string) *models.Allocation {
	t.Helper()
	today := models.DateOf(g.clock.Now())
	a, errs, err := models.CreateAllocation(t.Context(), g.db, models.AllocationInput{OrganisationID: org.ID,
		ClusterID: g.cluster.ID, BlockKind: models.BlockCustom, GPUCount: 8, From: today.AddDays(-20).String(),
		To: today.AddDays(10).String(), OwnGPUs: true, Nodes: nodes}, g.officer, g.clock.Now())
	if err != nil {
		t.Fatalf("allocate to %s: %v %v", org.Code, err, errs)
	}
	return a
}

// telemetry stores two days of hourly rollups up to the clock for the GPUs,
// with hour 5 hours ago left out (a gap).
func (g *gpuApp) telemetry(t *testing.T, gpus []models.GPU) {
	t.Helper()
	end := g.clock.Now().Truncate(time.Hour)
	var rows []models.GPURollup
	for h := end.Add(-48 * time.Hour); h.Before(end); h = h.Add(time.Hour) {
		if h.Equal(end.Add(-5 * time.Hour)) {
			continue
		}
		for i, gpu := range gpus {
			util := float64(40 + i)
			rows = append(rows, models.GPURollup{DeviceKey: gpu.UUID, UUID: gpu.UUID, Hour: h, ClusterID: g.cluster.ID,
				Node: gpu.Node, Model: gpu.Model, ObservedS: 3600, ActiveS: 3600, UtilSum: 3600 * util,
				EnergyJ: 3600 * 800, MaxFBMiB: 120000, Samples: 240})
		}
	}
	if err := models.UpsertRollups(t.Context(), g.db, rows, g.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestGPUMessagesExist(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(views.GPUMessageIDs(), "nav.allocations", "nav.clusters") {
		for _, lang := range i18n.Languages {
			if !cat.HasMessage(lang, id) {
				t.Errorf("%s has no %s message", id, lang)
			}
		}
	}
}

func TestClusterForms(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		admin := app.client()
		admin.signInDemo("demo-admin")
		const token = "tok-secret-0123456789"

		doc := admin.page(admin.get("/admin/clusters/new"))
		if doc.Find(`[data-testid="cluster-form"]`).Length() != 1 {
			t.Fatal("no cluster form")
		}

		// Wrong input: 422, every problem named, everything typed kept but the token.
		form := url.Values{"name": {""}, "provider": {"NHN Cloud"}, "region": {"KR-Pangyo"}, "gpu_model": {"NVIDIA H200"},
			"gpu_count": {"many"}, "source_kind": {"exporter"}, "endpoints": {"not-a-url"}, "poll_seconds": {"15"},
			"bearer_token": {token}}
		resp := admin.post("/admin/clusters", form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("invalid cluster: status %d", resp.StatusCode)
		}
		body := readAll(resp)
		if strings.Contains(body, token) {
			t.Error("the form shows the bearer token back")
		}
		doc = parseHTML(t, body)
		for _, f := range []string{"name", "gpu_count", "endpoints"} {
			if doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
				t.Errorf("no error on %s", f)
			}
		}
		if got := doc.Find("#endpoints").Text(); got != "not-a-url" {
			t.Errorf("endpoints kept as %q", got)
		}
		if v, _ := doc.Find("#provider").Attr("value"); v != "NHN Cloud" {
			t.Errorf("provider kept as %q", v)
		}
		if doc.Find(`[data-testid="token-retype"]`).Length() != 1 {
			t.Error("no note to type the token again")
		}

		// Right input: saved, and listed.
		form.Set("name", "nhn-h200")
		form.Set("gpu_count", "1000")
		form.Set("endpoints", "https://10.1.0.11:9400/metrics\nhttps://10.1.0.12:9400/metrics")
		resp = admin.post("/admin/clusters", form)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/clusters" {
			t.Fatalf("save: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		cs, _ := models.ListClusters(t.Context(), app.db)
		if len(cs) != 1 || !cs[0].HasToken() || len(cs[0].EndpointList()) != 2 {
			t.Fatalf("stored: %+v", cs)
		}
		if tok, err := app.h.secrets.Open(cs[0].SealedToken); tok != token || err != nil {
			t.Fatalf("stored token opens to %q, %v", tok, err)
		}
		id := itoa(cs[0].ID)
		doc = admin.page(admin.get("/admin/clusters"))
		if got := doc.Find(`[data-testid="cluster-row"] [data-testid="cluster-name"]`).Text(); got != "nhn-h200" {
			t.Errorf("listed: %q", got)
		}

		// Editing: the form says a token is set, shows none of it, and keeps it when left blank.
		resp = admin.get("/admin/clusters/" + id)
		body = readAll(resp)
		if strings.Contains(body, token) || strings.Contains(body, token[len(token)-4:]) || strings.Contains(body, cs[0].SealedToken) {
			t.Error("the edit form shows the bearer token, a part of it, or its sealed form")
		}
		doc = parseHTML(t, body)
		if hint := doc.Find(`[data-testid="token-hint"]`).Text(); hint != app.h.cat.For("ko").T("gpu.cluster.token_set") {
			t.Errorf("token hint %q", hint)
		}
		form.Set("bearer_token", "")
		form.Set("poll_seconds", "30")
		resp = admin.post("/admin/clusters/"+id, form)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit: status %d", resp.StatusCode)
		}
		c, _ := models.GetCluster(t.Context(), app.db, cs[0].ID)
		if tok, _ := app.h.secrets.Open(c.SealedToken); tok != token || c.PollSeconds != 30 {
			t.Errorf("after edit: token %q, poll %d", tok, c.PollSeconds)
		}
		// The explicit clear removes it; the form then says that none is stored.
		form.Set("clear_token", "1")
		resp = admin.post("/admin/clusters/"+id, form)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("clear: status %d", resp.StatusCode)
		}
		form.Del("clear_token")
		if c, _ = models.GetCluster(t.Context(), app.db, cs[0].ID); c.HasToken() {
			t.Error("the token was not cleared")
		}
		doc = admin.page(admin.get("/admin/clusters/" + id))
		if hint := doc.Find(`[data-testid="token-hint"]`).Text(); hint != app.h.cat.For("ko").T("input.token_not_set") {
			t.Errorf("token hint after clearing %q", hint)
		}
		if doc.Find(`#clear_token`).Length() != 0 {
			t.Error("a clear option is offered with no token stored")
		}

		// Another cluster of the same name is refused on the name.
		resp = admin.post("/admin/clusters", form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("duplicate: status %d", resp.StatusCode)
		}
		if admin.page(resp).Find(`[data-testid="error-name"]`).Length() != 1 {
			t.Error("duplicate name: no error on the name")
		}

		// The status page: an auditor sees the collector's last error, without edit links.
		if err := models.RecordClusterStatus(t.Context(), app.db, c.ID, models.ClusterStatus{At: app.clock.Now(),
			Err: "dcgm-exporter https://10.1.0.11:9400/metrics: connection refused"}); err != nil {
			t.Fatal(err)
		}
		auditor := app.client()
		auditor.signInDemo("demo-auditor")
		doc = auditor.page(auditor.get("/gpus/clusters"))
		row := doc.Find(`[data-testid="cluster-row"]`)
		if st, _ := row.Attr("data-state"); st != models.ClusterFailing {
			t.Errorf("state %q, want failing", st)
		}
		if !strings.Contains(row.Find(`[data-testid="cluster-last-error"]`).Text(), "connection refused") {
			t.Errorf("last error not shown: %q", row.Text())
		}
		if doc.Find(`[data-testid="cluster-edit"], [data-testid="cluster-new"]`).Length() != 0 {
			t.Error("the auditor is offered edit links")
		}
	})
}

func TestAllocationForm(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		officer := g.client()
		officer.signInDemo("demo-officer")

		doc := officer.page(officer.get("/officer/allocations/new"))
		if doc.Find(`[data-testid="allocation-form"]`).Length() != 0 || doc.Find(`#cluster option`).Length() != 2 {
			t.Fatal("the first step shows more than the cluster choice")
		}
		resp := officer.get("/officer/allocations/new?cluster=999999")
		if st, _ := officer.page(resp).Find(`[data-testid="error"]`).Attr("data-status"); resp.StatusCode != http.StatusNotFound || st != "404" {
			t.Errorf("unknown cluster: status %d, error page %q", resp.StatusCode, st)
		}
		resp = officer.post("/officer/allocations/new", url.Values{"cluster_id": {"999999"}, "organisation_id": {itoa(g.upstage.ID)},
			"own_gpus": {"1"}, "block_kind": {models.BlockCustom}, "gpu_count": {"1"}, "from": {"2026-12-01"}, "to": {"2026-12-31"},
			"nodes": {"kt-gn001"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || officer.page(resp).Find(`[data-testid="error-cluster_id"]`).Length() != 1 {
			t.Errorf("a cluster that does not exist: status %d, want 422 naming the cluster", resp.StatusCode)
		}
		doc = officer.page(officer.get("/officer/allocations/new?cluster=" + itoa(g.cluster.ID)))
		if n := doc.Find(`[data-testid="node"]`).Length(); n != 2 {
			t.Fatalf("%d nodes offered, want 2", n)
		}
		if v, _ := doc.Find(`[name="block_kind"][checked]`).Attr("value"); v != models.BlockB200 {
			t.Errorf("default block %q", v)
		}

		today := models.DateOf(g.clock.Now())
		form := url.Values{"cluster_id": {itoa(g.cluster.ID)}, "organisation_id": {itoa(g.upstage.ID)}, "own_gpus": {"1"},
			"block_kind": {models.BlockCustom}, "gpu_count": {"8"}, "from": {today.String()}, "to": {today.AddDays(30).String()},
			"nodes": {"kt-gn001"}, "note": {"자체 GPU 1노드"}}

		// Not selected and not its own: refused on the team, input kept.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Del("own_gpus")
		bad.Set("to", "someday")
		resp = officer.post("/officer/allocations/new", bad)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("invalid allocation: status %d", resp.StatusCode)
		}
		doc = officer.page(resp)
		if doc.Find(`[data-testid="error-to"]`).Length() != 1 {
			t.Error("no error on the date")
		}
		if v, _ := doc.Find(`#to`).Attr("value"); v != "someday" {
			t.Errorf("date kept as %q", v)
		}
		if _, ok := doc.Find(`[data-testid="node"][value="kt-gn001"]`).Attr("checked"); !ok {
			t.Error("the node ticked is not kept")
		}
		bad.Set("to", today.AddDays(30).String())
		resp = officer.post("/officer/allocations/new", bad)
		if resp.StatusCode != http.StatusUnprocessableEntity || officer.page(resp).Find(`[data-testid="error-organisation_id"]`).Length() != 1 {
			t.Errorf("a team that was not selected, without 'own GPUs': status %d, want 422 on the team", resp.StatusCode)
		}

		resp = officer.post("/officer/allocations/new", form)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/allocations/") {
			t.Fatalf("allocate: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		first := resp.Header.Get("Location")

		// The same GPU for an overlapping period: 409, naming the GPU and the allocation.
		overlap := url.Values{"cluster_id": {itoa(g.cluster.ID)}, "organisation_id": {itoa(g.kaist.ID)}, "own_gpus": {"1"},
			"block_kind": {models.BlockCustom}, "gpu_count": {"2"}, "from": {today.AddDays(30).String()},
			"to": {today.AddDays(60).String()}, "uuids": {g.gpus[9].UUID + "\n" + g.gpus[3].UUID}}
		resp = officer.post("/officer/allocations/new", overlap)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("overlap: status %d", resp.StatusCode)
		}
		doc = officer.page(resp)
		msg := doc.Find(`[data-testid="allocation-conflict"]`)
		if !strings.Contains(msg.Text(), g.gpus[3].UUID) || !strings.Contains(msg.Text(), "업스테이지") {
			t.Errorf("conflict message %q", msg.Text())
		}
		if href, _ := msg.Find(`[data-testid="conflict-link"]`).Attr("href"); href != first {
			t.Errorf("conflict links to %q, want %q", href, first)
		}
		if got := doc.Find("#uuids").Text(); !strings.Contains(got, g.gpus[9].UUID) {
			t.Errorf("UUIDs kept as %q", got)
		}

		// The day after: free.
		overlap.Set("from", today.AddDays(31).String())
		resp = officer.post("/officer/allocations/new", overlap)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("adjacent period: status %d", resp.StatusCode)
		}
		doc = officer.page(officer.get("/allocations"))
		if n := doc.Find(`[data-testid="allocation-row"]`).Length(); n != 2 {
			t.Errorf("%d allocations listed, want 2", n)
		}
	})
}

// TestAllocationIsolation: the team sees its allocation and its telemetry;
// another company gets 404 for both, as for one that does not exist.
func TestAllocationIsolation(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		own := g.allocate(t, g.upstage, "kt-gn001")
		other := g.allocate(t, g.kaist, "kt-gn002")
		g.telemetry(t, g.gpus)
		page, series := "/allocations/"+itoa(own.ID), "/allocations/"+itoa(own.ID)+"/series"

		upstage := g.client()
		upstage.signInDemo("demo-company-upstage")
		doc := upstage.page(upstage.get("/allocations"))
		rows := doc.Find(`[data-testid="allocation-row"]`)
		if id, _ := rows.Attr("data-id"); rows.Length() != 1 || id != itoa(own.ID) {
			t.Fatalf("company list: %d rows (%q)", rows.Length(), id)
		}
		resp := upstage.get(page)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("own allocation: status %d", resp.StatusCode)
		}
		doc = upstage.page(resp)
		charts := doc.Find(`[data-testid="charts"]`)
		src, _ := charts.Attr("data-series-url")
		if !strings.HasPrefix(src, series+"?") {
			t.Fatalf("series URL %q", src)
		}
		if n := doc.Find(`[data-testid="allocation-gpu"]`).Length(); n != 8 {
			t.Errorf("%d GPUs listed, want 8", n)
		}
		if util := doc.Find(`[data-testid="usage-util"]`).Text(); util != "43.5%" {
			t.Errorf("mean utilisation %q, want 43.5%% (40–47 %% over the GPUs)", util)
		}
		for _, s := range []string{"<script>", " style=", " onclick"} {
			if strings.Contains(strings.ToLower(mustHTML(t, doc.Find("main"))), s) {
				t.Errorf("the page has %q", s)
			}
		}

		// The series: hourly for the default week, a gap where nothing was observed.
		var data struct {
			Step   int64
			Points int
			T      []int64
			Util   []*float64
			Power  []*float64
			Memory []*float64
		}
		resp = upstage.get(src)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("series: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if data.Step != 3600 || len(data.T) != 7*24 || data.Points != 47 || len(data.Util) != len(data.T) {
			t.Fatalf("series: step %d, %d points of which %d with data", data.Step, len(data.T), data.Points)
		}
		gaps := 0
		for i := range data.T {
			if data.Util[i] == nil {
				gaps++
				continue
			}
			if *data.Util[i] != 43.5 || *data.Power[i] != 8*800 || *data.Memory[i] != 120000 {
				t.Fatalf("point %d: util %v power %v memory %v", i, *data.Util[i], *data.Power[i], *data.Memory[i])
			}
		}
		if gaps != len(data.T)-47 {
			t.Errorf("%d gaps", gaps)
		}
		// One GPU; a GPU of another allocation is not found; a bad range is a bad request.
		resp = upstage.get(series + "?gpu=" + g.gpus[0].UUID)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("one GPU's series: status %d", resp.StatusCode)
		}
		for path, want := range map[string]int{
			series + "?gpu=" + g.gpus[8].UUID: http.StatusNotFound,
			page + "?gpu=" + g.gpus[8].UUID:   http.StatusNotFound,
			series + "?from=yesterday":        http.StatusBadRequest,
			page + "?from=yesterday":          http.StatusUnprocessableEntity,
		} {
			resp := upstage.get(path)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
			}
		}
		// A range longer than a week is daily.
		resp = upstage.get(fmt.Sprintf("%s?from=%s&to=%s", series, own.PeriodFrom, own.PeriodTo))
		if err := json.NewDecoder(resp.Body).Decode(&data); err != nil || data.Step != 86400 || len(data.T) != 31 {
			t.Errorf("the whole period: step %d, %d points, %v", data.Step, len(data.T), err)
		}
		resp.Body.Close()

		// Another company: the same 404 as for nothing at all, and nothing of Upstage's.
		kaist := g.client()
		kaist.signInDemo("demo-company-kaist")
		for _, path := range []string{page, series, series + "?gpu=" + g.gpus[0].UUID, "/allocations/999999"} {
			resp := kaist.get(path)
			body := readAll(resp)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("KAIST GET %s: status %d, want 404", path, resp.StatusCode)
			}
			if strings.Contains(body, "업스테이지") || strings.Contains(body, g.gpus[0].UUID) {
				t.Errorf("KAIST GET %s shows Upstage's data", path)
			}
		}
		doc = kaist.page(kaist.get("/allocations"))
		if id, _ := doc.Find(`[data-testid="allocation-row"]`).Attr("data-id"); id != itoa(other.ID) || doc.Find(`[data-testid="allocation-row"]`).Length() != 1 {
			t.Errorf("KAIST's list: %q", doc.Find(`[data-testid="allocations"]`).Text())
		}

		// The ministry and auditors see every allocation.
		for _, subject := range []string{"demo-auditor", "demo-officer", "demo-admin"} {
			c := g.client()
			c.signInDemo(subject)
			for _, path := range []string{page, series, "/allocations/" + itoa(other.ID)} {
				resp := c.get(path)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s GET %s: status %d", subject, path, resp.StatusCode)
				}
			}
			if n := c.page(c.get("/allocations")).Find(`[data-testid="allocation-row"]`).Length(); n != 2 {
				t.Errorf("%s sees %d allocations, want 2", subject, n)
			}
		}
	})
}

func parseHTML(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func mustHTML(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	h, err := goquery.OuterHtml(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
