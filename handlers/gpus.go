package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// GPU clusters, allocations and telemetry: administrators register the
// clusters, officers allocate their GPUs to teams, and the ministry,
// auditors and the team itself read what the GPUs did.

// showClustersAdminPage lists the clusters for administrators, with their status.
func (h *Handler) showClustersAdminPage(c *gin.Context) {
	h.renderClusters(c, "gpu.clusters.admin_title", true)
}

// showClusterStatusPage is the collector's view of every cluster.
func (h *Handler) showClusterStatusPage(c *gin.Context) {
	h.renderClusters(c, "gpu.clusters.status_title", currentUser(c).Role == models.RoleAdmin)
}

func (h *Handler) renderClusters(c *gin.Context, titleID string, admin bool) {
	cs, err := models.ListClusterHealth(c.Request.Context(), h.db, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	conflicts, err := models.ListGPUConflicts(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Clusters(h.page(c, titleID), views.ClustersView{Clusters: cs, Admin: admin, Now: h.now(),
		Conflicts: conflicts}))
}

// showClusterPage is the collector's view of one cluster: each endpoint's
// state (answering, retried at the interval, retried less often, with the
// last success and the next attempt), failure rates over 24 hours and the
// cluster's last failures.
func (h *Handler) showClusterPage(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ctx := c.Request.Context()
	health, err := models.GetClusterHealth(ctx, h.db, id, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	failures, err := models.ClusterPollFailures(ctx, h.db, health.ID, h.cfg.CollectorFailureHistory)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ClusterStatus(h.page(c, "gpu.cluster_status.title"), views.ClusterStatusView{
		Health: health, Failures: failures, Kept: h.cfg.CollectorFailureHistory,
		Admin: currentUser(c).Role == models.RoleAdmin, Now: h.now()}))
}

// showNewClusterPage is the empty cluster form.
func (h *Handler) showNewClusterPage(c *gin.Context) {
	v := views.ClusterFormView{SourceKind: models.SourceExporter, PollSeconds: strconv.Itoa(models.DefaultPollSeconds),
		SimSeed: "0", Errors: models.FieldErrors{}}
	h.render(c, http.StatusOK, views.ClusterForm(h.page(c, "gpu.cluster.new"), v))
}

// createCluster registers a cluster, or shows the form again with what is wrong.
func (h *Handler) createCluster(c *gin.Context) {
	h.saveCluster(c, &models.Cluster{})
}

// showEditClusterPage is the form filled with the cluster; the token is not shown.
func (h *Handler) showEditClusterPage(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	v := views.ClusterFormView{ID: cl.ID, Name: cl.Name, Provider: cl.Provider, Region: cl.Region, GPUModel: cl.GPUModel,
		GPUCount: strconv.Itoa(cl.GPUCount), SourceKind: cl.SourceKind, Endpoints: cl.Endpoints,
		PollSeconds: strconv.Itoa(cl.PollSeconds), SimSeed: strconv.FormatInt(cl.SimSeed, 10), TLSSkipVerify: cl.TLSSkipVerify,
		TokenSet: cl.HasToken(), Errors: models.FieldErrors{}}
	h.render(c, http.StatusOK, views.ClusterForm(h.page(c, "gpu.cluster.edit_title"), v))
}

// updateCluster saves an edited cluster.
func (h *Handler) updateCluster(c *gin.Context) {
	cl, ok := h.loadCluster(c)
	if !ok {
		return
	}
	h.saveCluster(c, cl)
}

// saveCluster reads the cluster form over stored (ID 0 for a new cluster)
// and saves it: load → validate → re-render with the input kept, or save →
// redirect to the list.
func (h *Handler) saveCluster(c *gin.Context, stored *models.Cluster) {
	v := views.ClusterFormView{ID: stored.ID, Name: c.PostForm("name"), Provider: c.PostForm("provider"),
		Region: c.PostForm("region"), GPUModel: c.PostForm("gpu_model"), GPUCount: strings.TrimSpace(c.PostForm("gpu_count")),
		SourceKind: c.PostForm("source_kind"), Endpoints: c.PostForm("endpoints"),
		PollSeconds: strings.TrimSpace(c.PostForm("poll_seconds")), SimSeed: strings.TrimSpace(c.PostForm("sim_seed")),
		TLSSkipVerify: c.PostForm("tls_skip_verify") != "", TokenSet: stored.HasToken(), Errors: models.FieldErrors{}}
	cl := &models.Cluster{ID: stored.ID, Name: v.Name, Provider: v.Provider, Region: v.Region, GPUModel: v.GPUModel,
		SourceKind: v.SourceKind, Endpoints: v.Endpoints, TLSSkipVerify: v.TLSSkipVerify, BearerToken: c.PostForm("bearer_token")}
	var err error
	if cl.GPUCount, err = strconv.Atoi(v.GPUCount); err != nil {
		v.Errors.Add("gpu_count", "form.number")
	}
	if cl.PollSeconds, err = strconv.Atoi(v.PollSeconds); err != nil {
		v.Errors.Add("poll_seconds", "form.number")
	}
	if v.SimSeed == "" {
		v.SimSeed = "0"
	}
	if cl.SimSeed, err = strconv.ParseInt(v.SimSeed, 10, 64); err != nil {
		v.Errors.Add("sim_seed", "form.number")
	}
	for field, msg := range cl.Validate() {
		v.Errors.Add(field, msg)
	}
	if !v.Errors.Any() {
		var errs models.FieldErrors
		errs, err = models.SaveCluster(c.Request.Context(), h.db, h.secrets, cl, c.PostForm("clear_token") != "", currentUser(c), h.now())
		switch {
		case errors.Is(err, models.ErrInvalid):
			v.Errors = errs
		case err != nil:
			h.fail(c, err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/admin/clusters")
			return
		}
	}
	// The token is a secret: it is not sent back, so the administrator types it again.
	v.TokenRetype = strings.TrimSpace(c.PostForm("bearer_token")) != ""
	title := "gpu.cluster.new"
	if v.ID != 0 {
		title = "gpu.cluster.edit_title"
	}
	h.render(c, http.StatusUnprocessableEntity, views.ClusterForm(h.page(c, title), v))
}

// loadCluster loads the cluster named by :id, answering 404 itself.
func (h *Handler) loadCluster(c *gin.Context) (*models.Cluster, bool) {
	return h.loadClusterID(c, c.Param("id"))
}

func (h *Handler) loadClusterID(c *gin.Context, param string) (*models.Cluster, bool) {
	id, ok := parseID(param)
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	cl, err := models.GetCluster(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return cl, true
}

// showNewAllocationPage is the allocation form: first the cluster, then the
// team, block, period and GPUs of that cluster.
func (h *Handler) showNewAllocationPage(c *gin.Context) {
	if id := c.Query("cluster"); id != "" {
		if _, ok := h.loadClusterID(c, id); !ok {
			return
		}
	}
	today := models.DateOf(h.now())
	form := views.AllocationInput{BlockKind: models.BlockB200, From: today.String(),
		To: today.AddDays(182).String(), Nodes: map[string]bool{}}
	h.renderAllocationForm(c, http.StatusOK, c.Query("cluster"), form, models.FieldErrors{}, nil)
}

// createAllocation saves an allocation, or shows the form again: with the
// field errors (422), or naming the GPU already allocated for an
// overlapping period (409).
func (h *Handler) createAllocation(c *gin.Context) {
	form := views.AllocationInput{OrganisationID: c.PostForm("organisation_id"), BlockKind: c.PostForm("block_kind"),
		GPUCount: strings.TrimSpace(c.PostForm("gpu_count")), From: strings.TrimSpace(c.PostForm("from")),
		To: strings.TrimSpace(c.PostForm("to")), UUIDs: c.PostForm("uuids"), Note: c.PostForm("note"),
		OwnGPUs: c.PostForm("own_gpus") != "", Nodes: map[string]bool{}, NodesLater: c.PostForm("nodes_later")}
	for _, n := range c.PostFormArray("nodes") {
		form.Nodes[n] = true
	}
	clusterID := c.PostForm("cluster_id")
	errs := models.FieldErrors{}
	in := models.AllocationInput{BlockKind: form.BlockKind, From: form.From, To: form.To, OwnGPUs: form.OwnGPUs,
		UUIDs: models.ParseUUIDList(form.UUIDs), Note: form.Note}
	for n := range form.Nodes {
		in.Nodes = append(in.Nodes, n)
	}
	slices.Sort(in.Nodes)
	if later := models.ParseUUIDList(form.NodesLater); len(later) > 0 {
		in.Nodes, in.NodesLater = append(in.Nodes, later...), true
	}
	in.OrganisationID, _ = parseID(form.OrganisationID)
	in.ClusterID, _ = parseID(clusterID)
	if form.GPUCount != "" {
		n, err := strconv.Atoi(form.GPUCount)
		if err != nil {
			errs.Add("gpu_count", "form.number")
		}
		in.GPUCount = n
	}
	if errs.Any() {
		h.renderAllocationForm(c, http.StatusUnprocessableEntity, clusterID, form, errs, nil)
		return
	}
	a, ferrs, err := models.CreateAllocation(c.Request.Context(), h.db, in, currentUser(c), h.now())
	var conflict *models.AllocationConflictError
	switch {
	case errors.As(err, &conflict):
		h.renderAllocationForm(c, http.StatusConflict, clusterID, form, models.FieldErrors{}, conflict)
		return
	case errors.Is(err, models.ErrInvalid):
		h.renderAllocationForm(c, http.StatusUnprocessableEntity, clusterID, form, ferrs, nil)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/allocations/%d", a.ID))
}

func (h *Handler) renderAllocationForm(c *gin.Context, status int, clusterID string, form views.AllocationInput,
	errs models.FieldErrors, conflict *models.AllocationConflictError) {
	ctx := c.Request.Context()
	v := views.AllocationFormView{Form: form, Errors: errs, Conflict: conflict}
	var err error
	if v.Clusters, err = models.ListClusters(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	if id, ok := parseID(clusterID); ok {
		for i := range v.Clusters {
			if v.Clusters[i].ID == id {
				v.Cluster = &v.Clusters[i]
			}
		}
	}
	if v.Cluster == nil && errs.Any() {
		// The cluster went away between the two steps: say so at the top.
		v.Errors = models.FieldErrors{"cluster_id": "gpu.error.cluster"}
	}
	if v.Cluster != nil {
		gpus, err := models.ListClusterGPUs(ctx, h.db, v.Cluster.ID)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.GPUs, v.Nodes = len(gpus), models.Nodes(gpus)
		if v.Teams, err = models.SelectedTeams(ctx, h.db); err != nil {
			h.fail(c, err)
			return
		}
		all, err := models.ListOrganisations(ctx, h.db)
		if err != nil {
			h.fail(c, err)
			return
		}
		for _, o := range all {
			if o.Kind != models.OrgMinistry && !slices.ContainsFunc(v.Teams, func(t models.Organisation) bool { return t.ID == o.ID }) {
				v.Others = append(v.Others, o)
			}
		}
	}
	h.render(c, status, views.AllocationForm(h.page(c, "gpu.allocation.new"), v))
}

// showAllocationsPage lists allocations: all of them for the ministry and
// auditors, a company's own for a company user.
func (h *Handler) showAllocationsPage(c *gin.Context) {
	u := currentUser(c)
	org, ok := u.OrganisationScope()
	if !ok {
		h.renderError(c, http.StatusForbidden, nil)
		return
	}
	rows, err := models.ListAllocations(c.Request.Context(), h.db, org)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Allocations(h.page(c, "gpu.allocations.title"),
		views.AllocationsView{Rows: rows, Ministry: u.Role.IsMinistry(), Company: org != nil, OrgID: orgIDOf(org)}))
}

// loadAllocation loads the allocation named by :id if the user may see it:
// another company's allocation is "not found", like one that does not exist.
func (h *Handler) loadAllocation(c *gin.Context) (*models.Allocation, error) {
	id, ok := idParam(c, "id")
	if !ok {
		return nil, models.ErrNotFound
	}
	a, err := models.GetAllocation(c.Request.Context(), h.db, id)
	if err != nil {
		return nil, err
	}
	if !a.MaySee(currentUser(c)) {
		return nil, models.ErrNotFound
	}
	return a, nil
}

// showAllocationPage shows an allocation, its usage over a range and the
// charts (drawn by static/js/charts.js from the series endpoint).
func (h *Handler) showAllocationPage(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	gpu := c.Query("gpu")
	from, to, errs := a.TelemetryRange(c.Query("from"), c.Query("to"), h.now())
	status := http.StatusOK
	if errs.Any() {
		status = http.StatusUnprocessableEntity
		from, to, _ = a.TelemetryRange("", "", h.now())
	}
	if gpu != "" && !a.Has(gpu) {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	r, err := models.ReadAllocation(ctx, h.db, a, gpu, from, to, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.AllocationView{A: a, From: c.DefaultQuery("from", from.String()), To: c.DefaultQuery("to", to.String()), GPU: gpu,
		Errors: errs, GPUs: r.GPUs, Usage: r.Usage, Workloads: r.Workloads, PerGPU: r.PerGPU, Series: r.Series, Step: r.Step,
		History: r.History}
	v.MayChange = currentUser(c).Role.IsMinistry()
	q := url.Values{"from": {from.String()}, "to": {to.String()}}
	if gpu != "" {
		q.Set("gpu", gpu)
	}
	v.SeriesURL = fmt.Sprintf("/allocations/%d/series?%s", a.ID, q.Encode())
	h.render(c, status, views.Allocation(h.page(c, "gpu.allocation.title"), v))
}

// seriesJSON is the charts' data: parallel arrays, times in Unix seconds,
// null where nothing was observed.
type seriesJSON struct {
	Allocation uint       `json:"allocation"`
	GPU        string     `json:"gpu,omitempty"`
	From       int64      `json:"from"`
	To         int64      `json:"to"`
	Step       int64      `json:"step"` // seconds: 3600 or 86400
	Points     int        `json:"points"`
	T          []int64    `json:"t"`
	Util       []*float64 `json:"util"`   // mean utilisation, %
	Power      []*float64 `json:"power"`  // W, summed over the GPUs
	Memory     []*float64 `json:"memory"` // MiB, the largest of the GPUs
	GPUs       []float64  `json:"gpus"`   // GPUs' worth of telemetry
}

// allocationSeries answers the chart data of an allocation (or of one of
// its GPUs) over a range, to those who may see the allocation.
func (h *Handler) allocationSeries(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	a, err := h.loadAllocation(c)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
			return
		}
		h.failJSON(c, err)
		return
	}
	from, to, errs := a.TelemetryRange(c.Query("from"), c.Query("to"), h.now())
	if errs.Any() {
		c.JSON(http.StatusBadRequest, gin.H{"error": "from and to must be dates (YYYY-MM-DD), from not after to"})
		return
	}
	gpu := c.Query("gpu")
	pts, step, err := models.AllocationSeries(c.Request.Context(), h.db, a, from.Start(), to.AddDays(1).Start(), gpu)
	switch {
	case errors.Is(err, models.ErrNotFound):
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
		return
	case err != nil:
		h.failJSON(c, err)
		return
	}
	out := seriesJSON{Allocation: a.ID, GPU: gpu, From: from.Start().Unix(), To: to.AddDays(1).Start().Unix(),
		Step: int64(step / time.Second), T: make([]int64, len(pts)), Util: make([]*float64, len(pts)),
		Power: make([]*float64, len(pts)), Memory: make([]*float64, len(pts)), GPUs: make([]float64, len(pts))}
	for i, p := range pts {
		out.T[i], out.Util[i], out.Power[i], out.Memory[i], out.GPUs[i] = p.At.Unix(), p.Util, p.Power, p.MemoryMiB, p.GPUs
		if p.Util != nil {
			out.Points++
		}
	}
	c.JSON(http.StatusOK, out)
}

func orgIDOf(org *uint) uint {
	if org == nil {
		return 0
	}
	return *org
}
