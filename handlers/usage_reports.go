package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Usage reports: a team reports each allocation's month, the portal
// verifies it against the telemetry, an auditor signs it off or returns it.

// showUsageReportsPage is the company's months: allocated, reported and
// measured GPU-hours, and each report's state.
func (h *Handler) showUsageReportsPage(c *gin.Context) {
	u := currentUser(c)
	if u.OrganisationID == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	rows, err := models.TeamReportMonths(c.Request.Context(), h.db, *u.OrganisationID, u, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.UsageReports(h.page(c, "usage.list.title"), views.UsageReportsView{Rows: rows}))
}

// reportMonthParams reads :id and :month of the form's path.
func (h *Handler) reportMonthParams(c *gin.Context) (uint, models.Month, bool) {
	id, ok := idParam(c, "id")
	m, err := models.ParseMonth(c.Param("month"))
	if !ok || err != nil {
		h.renderError(c, http.StatusNotFound, nil)
		return 0, models.Month{}, false
	}
	return id, m, true
}

// showUsageReportFormPage is the team's form for an allocation's month.
func (h *Handler) showUsageReportFormPage(c *gin.Context) {
	id, m, ok := h.reportMonthParams(c)
	if !ok {
		return
	}
	r, err := models.AllocationReport(c.Request.Context(), h.db, id, m, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	if !r.Editable() {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/%d", r.ID))
		return
	}
	h.renderReportForm(c, http.StatusOK, r, models.InputOf(r), nil)
}

func (h *Handler) renderReportForm(c *gin.Context, status int, r *models.UsageReport, in models.ReportInput, errs models.FieldErrors) {
	if errs == nil {
		errs = models.FieldErrors{}
	}
	h.render(c, status, views.UsageReportForm(h.page(c, "usage.form.title"), views.UsageReportFormView{Report: r, Form: in, Errors: errs}))
}

// saveUsageReport saves the team's draft, or submits it (action=submit)
// and shows the verification.
func (h *Handler) saveUsageReport(c *gin.Context) {
	id, m, ok := h.reportMonthParams(c)
	if !ok {
		return
	}
	in := models.ReportInput{GPUHours: c.PostForm("gpu_hours"), MeanUtil: c.PostForm("mean_util"), EnergyKWh: c.PostForm("energy_kwh"),
		Purpose: c.PostForm("purpose"), Workloads: c.PostForm("workloads"), JobNames: c.PostForm("job_names"), Outages: c.PostForm("outages")}
	save := models.SaveUsageReport
	if c.PostForm("action") == "submit" {
		save = models.SubmitUsageReport
	}
	r, errs, err := save(c.Request.Context(), h.db, id, m, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid) && r != nil:
		h.renderReportForm(c, http.StatusUnprocessableEntity, r, in, errs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	if r.State == models.ReportSubmitted {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/%d", r.ID))
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/allocations/%d/%s", id, m))
}

// loadReport loads the report of :rid if the user may see it.
func (h *Handler) loadReport(c *gin.Context) (*models.UsageReport, bool) {
	id, ok := idParam(c, "rid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	r, err := models.GetUsageReport(c.Request.Context(), h.db, id, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return r, true
}

// showUsageReportPage is a report with its verifications: the numbers, the
// days claimed and measured, the GPUs with gaps, the workloads.
func (h *Handler) showUsageReportPage(c *gin.Context) {
	r, ok := h.loadReport(c)
	if !ok {
		return
	}
	h.renderReport(c, http.StatusOK, r, views.UsageReportView{})
}

func (h *Handler) renderReport(c *gin.Context, status int, r *models.UsageReport, v views.UsageReportView) {
	ctx := c.Request.Context()
	events, vs, err := models.ReportHistory(ctx, h.db, r.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	tel, err := models.ReportTelemetryOf(ctx, h.db, r, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	u := currentUser(c)
	v.Report, v.Events, v.Verifications, v.Telemetry = r, events, vs, tel
	v.CanAudit = models.MayAudit(u) && r.State == models.ReportSubmitted
	v.CanVerify = models.MayVerify(u, r) && r.State == models.ReportSubmitted
	v.CanEdit = models.MayReport(u, r) && r.Editable()
	if v.Errors == nil {
		v.Errors = models.FieldErrors{}
	}
	h.render(c, status, views.UsageReport(h.page(c, "usage.result.title"), v))
}

// verifyUsageReport verifies a submitted report again: a new result.
func (h *Handler) verifyUsageReport(c *gin.Context) {
	id, ok := idParam(c, "rid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if _, err := models.VerifyUsageReportAgain(c.Request.Context(), h.db, id, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/%d#verifications", id))
}

// returnUsageReport returns a submitted report to the team with a note,
// after a confirmation page.
func (h *Handler) returnUsageReport(c *gin.Context) {
	r, ok := h.loadReport(c)
	if !ok {
		return
	}
	note := c.PostForm("note")
	if editing(c) {
		h.renderReport(c, http.StatusOK, r, views.UsageReportView{Note: note})
		return
	}
	errs := models.FieldErrors{}
	if strings.TrimSpace(note) == "" {
		errs.Add("note", "form.required")
	}
	errs.CheckText("note", note, models.MaxReportText, models.MultiLine)
	if errs.Any() {
		h.renderReport(c, http.StatusUnprocessableEntity, r, views.UsageReportView{Note: note, Errors: errs})
		return
	}
	if !confirmed(c) {
		if r.State != models.ReportSubmitted {
			h.fail(c, models.ErrInvalidTransition)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "usage.confirm.return.title", EffectID: "usage.confirm.return.effect",
			SubmitID: "usage.confirm.return.submit", Action: c.Request.URL.Path, EditBack: true},
			views.ReportConfirmSummary(views.ReportConfirm{Report: r, Note: note}))
		return
	}
	fe, err := models.ReturnUsageReport(c.Request.Context(), h.db, r.ID, note, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderReport(c, http.StatusUnprocessableEntity, r, views.UsageReportView{Note: note, Errors: fe})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/%d", r.ID))
}

// signOffUsageReport signs a submitted report off, after a confirmation page.
func (h *Handler) signOffUsageReport(c *gin.Context) {
	r, ok := h.loadReport(c)
	if !ok {
		return
	}
	if !confirmed(c) {
		if r.State != models.ReportSubmitted {
			h.fail(c, models.ErrInvalidTransition)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "usage.confirm.sign_off.title", EffectID: "usage.confirm.sign_off.effect",
			SubmitID: "usage.confirm.sign_off.submit", Action: c.Request.URL.Path, Back: fmt.Sprintf("/usage-reports/%d", r.ID)},
			views.ReportConfirmSummary(views.ReportConfirm{Report: r}))
		return
	}
	if err := models.SignOffUsageReport(c.Request.Context(), h.db, r.ID, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usage-reports/%d", r.ID))
}

// showReportQueuePage is the auditors' queue, filtered by team, month,
// outcome and state.
func (h *Handler) showReportQueuePage(c *gin.Context) {
	ctx := c.Request.Context()
	f := models.ReportFilter{Kind: c.Query("kind"), Month: c.Query("month"), Outcome: c.Query("outcome"), State: c.Query("state")}
	if s := c.Query("team"); s != "" {
		id, ok := parseID(s)
		if !ok {
			h.renderError(c, http.StatusBadRequest, nil)
			return
		}
		f.OrgID = id
	}
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			h.renderError(c, http.StatusBadRequest, nil)
			return
		}
		f.Page = n
	}
	_, err := models.ParseMonth(f.Month)
	if f.Month != "" && err != nil || f.Outcome != "" && !slices.Contains(models.Outcomes, f.Outcome) ||
		f.State != "" && !slices.Contains(models.ReportStates, f.State) || f.Kind != "" && !slices.Contains(models.QueueKinds, f.Kind) {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	q, err := models.ReportQueue(ctx, h.db, f, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	teams, err := models.SelectedTeams(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ReportQueue(h.page(c, "usage.queue.title"), views.ReportQueueView{Rows: q.Rows, Filter: f, Teams: teams,
		Total: q.Total, Pages: q.Pages()}))
}

// showUsageSettingsPage is the verification settings and their history.
func (h *Handler) showUsageSettingsPage(c *gin.Context) {
	s, err := models.CurrentUsageSettings(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.renderUsageSettings(c, http.StatusOK, views.UsageSettingsFormOf(s), nil)
}

func (h *Handler) renderUsageSettings(c *gin.Context, status int, in models.UsageSettingsInput, errs models.FieldErrors) {
	ctx := c.Request.Context()
	cur, err := models.CurrentUsageSettings(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	hist, err := models.ListUsageSettings(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	if errs == nil {
		errs = models.FieldErrors{}
	}
	h.render(c, status, views.UsageSettings(h.page(c, "usage.settings.title"),
		views.UsageSettingsView{Current: cur, History: hist, Form: in, Errors: errs}))
}

// saveUsageSettings records a new version of the settings.
func (h *Handler) saveUsageSettings(c *gin.Context) {
	in := models.UsageSettingsInput{GPUHoursPct: c.PostForm("gpu_hours_pct"), MeanUtilPoints: c.PostForm("mean_util_points"),
		EnergyPct: c.PostForm("energy_pct"), CoverageThreshold: c.PostForm("coverage_threshold"), DueDay: c.PostForm("due_day"),
		AvailabilityPoints: c.PostForm("availability_points"), Note: c.PostForm("note")}
	errs, err := models.SaveUsageSettings(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderUsageSettings(c, http.StatusUnprocessableEntity, in, errs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/officer/usage-settings")
}
