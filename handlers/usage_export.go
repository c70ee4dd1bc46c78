package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// The programme summary of GPU-hours per team and month, and the exports
// of the summary and of the reports and invoice lines with their
// verification numbers.

// exportFormat reads ?format= (csv by default), or answers 400.
func (h *Handler) exportFormat(c *gin.Context) (string, bool) {
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "xlsx" {
		h.renderError(c, http.StatusBadRequest, nil)
		return "", false
	}
	return format, true
}

// showUsageSummaryPage is the month's reported, measured and billed
// GPU-hours per team, with the export forms.
func (h *Handler) showUsageSummaryPage(c *gin.Context) {
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	rows, total, err := models.ProgrammeUsageSummary(c.Request.Context(), h.db, m, currentUser(c), h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.UsageSummaryView{Month: m, Rows: rows, Total: total, From: m.String(), To: m.String(), Errors: models.FieldErrors{}}
	h.render(c, http.StatusOK, views.UsageSummary(h.page(c, "usage.summary.title"), v))
}

// exportUsageSummary is the summary page's table as CSV or XLSX.
func (h *Handler) exportUsageSummary(c *gin.Context) {
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	format, ok := h.exportFormat(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	rows, total, err := models.ProgrammeUsageSummary(ctx, h.db, m, currentUser(c), h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	t := func(id string) string { return i18n.T(ctx, id) }
	table := exportTable{Header: []string{t("usage.col.month"), t("usage.queue.team"), t("usage.col.allocated"),
		t("gpu.month.expected"), t("usage.summary.measured"), t("usage.summary.recorded_col"), t("usage.summary.current_col"),
		t("usage.col.reported"), t("usage.summary.reports"),
		t("invoice.field.billed"), t("usage.summary.lines"), t("usage.summary.discrepancies")}}
	row := func(team string, r models.UsageSummaryRow) []any {
		return []any{m.String(), team, r.Allocated, r.Expected, r.Measured, r.Recorded, r.Current, r.Reported, r.Reports, r.Billed, r.InvoiceLines, r.Discrepancies}
	}
	lang := i18n.Lang(ctx)
	for _, r := range rows {
		table.Rows = append(table.Rows, row(views.OrgName(lang, r.Org), r))
	}
	table.Rows = append(table.Rows, row(t("usage.summary.total"), total))
	h.sendTable(c, format, fmt.Sprintf("usage-summary-%s.%s", m, format), t("usage.summary.sheet"), table)
}

// exportVerifications is the reports and invoice lines of a period with
// their latest verification's numbers, as CSV or XLSX.
func (h *Handler) exportVerifications(c *gin.Context) {
	format, ok := h.exportFormat(c)
	if !ok {
		return
	}
	from, to, errs := models.ParseExportPeriod(c.Query("from"), c.Query("to"))
	ctx := c.Request.Context()
	if errs.Any() {
		m := models.MonthOf(h.now())
		rows, total, err := models.ProgrammeUsageSummary(ctx, h.db, m, currentUser(c), h.now())
		if err != nil {
			h.fail(c, err)
			return
		}
		h.render(c, http.StatusUnprocessableEntity, views.UsageSummary(h.page(c, "usage.summary.title"), views.UsageSummaryView{
			Month: m, Rows: rows, Total: total, From: c.Query("from"), To: c.Query("to"), Errors: errs}))
		return
	}
	rows, err := models.VerificationExport(ctx, h.db, from, to, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	t := func(id string) string { return i18n.T(ctx, id) }
	table := exportTable{Header: []string{t("usage.queue.kind"), "ID", t("usage.col.month"), t("usage.queue.team"),
		t("usage.col.allocation"), t("invoice.col.provider"), t("usage.col.state"), t("usage.late"),
		t("usage.queue.claimed"), t("usage.field.mean_util"), t("invoice.field.availability"),
		t("usage.col.outcome"), t("usage.export.verified_at"), t("usage.result.coverage"),
		t("usage.col.allocated"), t("gpu.month.expected"), t("gpu.month.observed"), t("gpu.month.busy"),
		t("gpu.month.unobserved"), t("gpu.month.down"), t("usage.export.measured_util"), t("usage.export.energy"),
		t("usage.col.figure"), t("usage.col.difference"), t("usage.export.direction"),
		t("usage.settings.gpu_hours_pct"), t("usage.settings.coverage_threshold")}}
	lang := i18n.Lang(ctx)
	for _, r := range rows {
		late := ""
		if r.Late {
			late = t("usage.late")
		}
		util, avail := any(r.MeanUtil), any("")
		if r.Kind == models.QueueInvoices {
			util, avail = "", r.Availability
		}
		cells := []any{t("usage.queue.kind." + r.Kind), int(r.ID), r.Month, views.OrgName(lang, r.Organisation), int(r.AllocationID),
			r.Provider, t("usage.state." + r.State), late, r.Claimed, util, avail}
		if v := r.Latest; v != nil {
			figure, direction := "", ""
			if v.Figure != "" {
				figure, direction = t("usage.figure."+v.Figure), t("usage.direction."+v.Direction)
			}
			cells = append(cells, t("usage.outcome."+v.Outcome), views.KST(v.At), v.Coverage(), v.AllocatedHours, v.ExpectedHours,
				v.ObservedHours, v.BusyHours, v.UnobservedHours, v.DownHours, v.MeanUtil, v.EnergyKWh, figure, v.Difference,
				direction, v.GPUHoursPct, v.CoverageThreshold)
		} else {
			cells = append(cells, "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "")
		}
		table.Rows = append(table.Rows, cells)
	}
	h.sendTable(c, format, fmt.Sprintf("usage-verifications-%s-%s.%s", from, to, format), t("usage.export.sheet"), table)
}
