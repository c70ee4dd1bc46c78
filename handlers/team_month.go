package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// GPU figures per team and month: the programme's month for the ministry
// and auditors, a team's month for them and for the team itself.

// monthParam reads ?month=2006-01; without it, the current month (KST).
func (h *Handler) monthParam(c *gin.Context) (models.Month, bool) {
	s := c.Query("month")
	if s == "" {
		return models.MonthOf(h.now()), true
	}
	m, err := models.ParseMonth(s)
	if err != nil {
		h.renderError(c, http.StatusBadRequest, nil)
		return models.Month{}, false
	}
	return m, true
}

// showProgrammeMonthPage is every team's figures for a month.
func (h *Handler) showProgrammeMonthPage(c *gin.Context) {
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	teams, total, err := models.ProgrammeMonth(c.Request.Context(), h.db, m, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.ProgrammeMonth(h.page(c, "gpu.month.programme_title"),
		views.ProgrammeMonthView{Month: m, Teams: teams, Total: total}))
}

// loadTeam loads the organisation named by :org if the user may see it:
// another company's is "not found".
func (h *Handler) loadTeam(c *gin.Context) (*models.Organisation, bool) {
	id, ok := idParam(c, "org")
	if !ok || !currentUser(c).MaySeeOrganisation(id) {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	org, err := models.GetOrganisation(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return org, true
}

// showTeamMonthPage is one team's figures for a month.
func (h *Handler) showTeamMonthPage(c *gin.Context) {
	org, ok := h.loadTeam(c)
	if !ok {
		return
	}
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	t, err := models.TeamMonthUsage(c.Request.Context(), h.db, org, m, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	ws, err := models.TeamMonthWorkloads(c.Request.Context(), h.db, org.ID, m)
	if err != nil {
		h.fail(c, err)
		return
	}
	own, _ := currentUser(c).OrganisationScope()
	h.render(c, http.StatusOK, views.TeamMonth(h.page(c, "gpu.month.team_title"),
		views.TeamMonthView{Month: m, Team: t, Programme: own == nil, Workloads: ws}))
}

// exportTeamMonth sends a team-month's per-GPU per-day figures as CSV (UTF-8
// with a BOM) or XLSX.
func (h *Handler) exportTeamMonth(c *gin.Context) {
	org, ok := h.loadTeam(c)
	if !ok {
		return
	}
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "xlsx" {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	ctx := c.Request.Context()
	days, err := models.TeamMonthDays(ctx, h.db, org.ID, m)
	if err != nil {
		h.fail(c, err)
		return
	}
	t := func(id string) string { return i18n.T(ctx, id) }
	table := exportTable{Header: []string{t("gpu.export.day"), t("gpu.export.allocation"), "UUID", t("gpu.export.node"),
		t("gpu.export.model"), t("gpu.export.observed_h"), t("gpu.export.busy_h"), t("gpu.export.idle_h"),
		t("gpu.export.util"), t("gpu.export.energy_kwh"), t("gpu.export.xids"), t("gpu.export.anomalies"),
		t("gpu.export.threshold")}}
	for _, d := range days {
		// A day folded before the busy threshold was recorded has none: left
		// blank, never written as 0 %.
		var threshold any = d.BusyMax
		if d.BusyMax == 0 {
			threshold = ""
		}
		table.Rows = append(table.Rows, []any{d.Day, int(d.AllocationID), d.UUID, d.Node, d.Model, d.ObservedS / 3600,
			d.ActiveS / 3600, max(d.ObservedS-d.ActiveS, 0) / 3600, d.MeanUtil(), d.EnergyJ / 3.6e6, d.XIDCount,
			d.Anomalies, threshold})
	}
	h.sendTable(c, format, fmt.Sprintf("gpu-%s-%s.%s", org.Code, m, format), t("gpu.export.sheet"), table)
}
