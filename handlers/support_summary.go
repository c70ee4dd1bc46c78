package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// The support summary: data, talent and GPUs per team and for the
// programme (a team sees its own row), its CSV and XLSX exports, and the
// public page of aggregate figures.

// showSupportPage shows the support summary for ?month= (this month by default).
func (h *Handler) showSupportPage(c *gin.Context) {
	m, ok := h.monthParam(c)
	if !ok {
		return
	}
	u := currentUser(c)
	teams, total, err := models.SupportSummary(c.Request.Context(), h.db, m, u, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.SupportSummaryPage(h.page(c, "support.summary.title"), views.SupportSummaryView{
		Month: m, Teams: teams, Total: total, Programme: models.MaySeePrice(u)}))
}

// exportSupport sends the summary as CSV or XLSX.
func (h *Handler) exportSupport(c *gin.Context) {
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
	teams, total, err := models.SupportSummary(ctx, h.db, m, currentUser(c), h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	t := func(id string) string { return i18n.T(ctx, id) }
	header := []string{t("support.col.team"), t("support.summary.demand"), t("support.summary.purchases"), t("support.summary.delivered"),
		t("support.summary.projects"), t("support.summary.projects_active")}
	for _, k := range models.TalentKinds {
		header = append(header, t("support.talent_kind."+string(k)))
	}
	header = append(header, t("support.summary.allocations"), t("support.summary.gpu_hours"), t("support.summary.busy_hours"))
	row := func(name string, s models.TeamSupport) []any {
		r := []any{name, s.DemandLines, s.Purchases, s.Delivered, s.Projects, s.ProjectsActive}
		for _, k := range models.TalentKinds {
			r = append(r, s.Talent[k])
		}
		return append(r, s.Allocations, s.GPUHours, s.BusyGPUHours)
	}
	table := exportTable{Header: header}
	for _, s := range teams {
		table.Rows = append(table.Rows, row(views.OrgName(i18n.Lang(ctx), &s.Org), s))
	}
	table.Rows = append(table.Rows, row(t("support.summary.total"), total))
	h.sendTable(c, format, fmt.Sprintf("support-%s.%s", m, format), t("support.summary.sheet"), table)
}

// showPublicSupportPage shows everyone the programme's support in
// aggregate: no price, no team's demand.
func (h *Handler) showPublicSupportPage(c *gin.Context) {
	m := models.MonthOf(h.now())
	f, err := models.ReadPublicSupport(c.Request.Context(), h.db, m, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.PublicSupportPage(h.page(c, "support.public.title"), views.PublicSupportView{Month: m, Figures: f}))
}
