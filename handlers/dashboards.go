package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// showHomePage is the public front page.
func (h *Handler) showHomePage(c *gin.Context) {
	ctx := c.Request.Context()
	v := views.HomeView{Now: h.now()}
	prog, err := models.CurrentProgramme(ctx, h.db)
	switch {
	case err == nil:
		v.Programme = prog
	case !isNotFound(err):
		h.fail(c, err)
		return
	}
	if v.Calls, err = models.ListCalls(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	h.callsChange(c, v.Calls)
	if v.Decisions, err = models.ListDecisions(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Home(h.page(c, "home.title"), v))
}

// callsChange tells the page cache that a page listing calls changes when
// one opens or closes.
func (h *Handler) callsChange(c *gin.Context, calls []models.Call) {
	for i := range calls {
		h.changesAt(c, calls[i].OpensAt, calls[i].ClosesAt)
	}
}

// redirectToDashboard sends a user to their role's start page.
func (h *Handler) redirectToDashboard(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, dashboardPath(currentUser(c).Role))
}

func dashboardPath(r models.Role) string {
	switch r {
	case models.RoleOfficer:
		return "/officer"
	case models.RoleAdmin:
		return "/admin"
	case models.RoleAuditor:
		return "/auditor"
	case models.RoleCompany:
		return "/company"
	case models.RoleReviewer:
		return "/reviews" // an external evaluator's start page is their assignments
	}
	return "/"
}

func (h *Handler) showOfficerDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	now := h.now()
	v := views.OfficerDashboardView{Now: now}
	var err error
	if v.Tasks, err = models.LoadOfficerDashboard(ctx, h.db, currentUser(c), now); err != nil {
		h.fail(c, err)
		return
	}
	h.changesAt(c, v.Tasks.Deadlines()...)
	if v.Calls, err = models.ListCalls(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	h.callsChange(c, v.Calls)
	if v.Recent, _, err = models.ListAudit(ctx, h.db, models.AuditFilter{Limit: 10}); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.OfficerDashboard(h.page(c, "dashboard.officer.title"), v))
}

func (h *Handler) showAdminDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	v := views.AdminDashboardView{Database: h.db.Dialector.Name(), DemoLogin: h.cfg.DemoLogin}
	if h.cfg.OIDCEnabled() {
		v.OIDCIssuer = h.cfg.OIDCIssuer
	}
	var err error
	if v.PendingMigrations, err = models.PendingMigrations(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	if v.Users, err = models.ListUsers(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.AdminDashboard(h.page(c, "dashboard.admin.title"), v))
}

func (h *Handler) showCompanyDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	org := h.companyOrganisation(c)
	if org == nil {
		return
	}
	now := h.now()
	v := views.CompanyDashboardView{Organisation: org, Now: now}
	var err error
	if v.Tasks, err = models.LoadCompanyDashboard(ctx, h.db, org, currentUser(c), now); err != nil {
		h.fail(c, err)
		return
	}
	h.changesAt(c, v.Tasks.Deadlines()...)
	if v.Invitations, err = models.CountOpenInvitations(ctx, h.db, org.ID); err != nil {
		h.fail(c, err)
		return
	}
	if v.Calls, err = models.ListCalls(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	h.callsChange(c, v.Calls)
	h.render(c, http.StatusOK, views.CompanyDashboard(h.page(c, "dashboard.company.title"), v))
}

func (h *Handler) showAuditorDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	now := h.now()
	v := views.AuditorDashboardView{Now: now}
	var err error
	if v.Tasks, err = models.LoadAuditorDashboard(ctx, h.db, currentUser(c), now); err != nil {
		h.fail(c, err)
		return
	}
	if v.Recent, _, err = models.ListAudit(ctx, h.db, models.AuditFilter{Limit: 10}); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.AuditorDashboard(h.page(c, "dashboard.auditor.title"), v))
}

// fragmentHeader marks portal.js's request for a part of a page: the part
// alone is answered; without it (no script) the part comes as a page.
const fragmentHeader = "X-Portal-Fragment"

// renderPart renders a part of a page for portal.js, or as a page of its own.
func (h *Handler) renderPart(c *gin.Context, part, page templ.Component) {
	if c.GetHeader(fragmentHeader) == "1" {
		h.render(c, http.StatusOK, part)
		return
	}
	h.render(c, http.StatusOK, page)
}

// showCompanyGPUMonth is the company's GPU month so far, the part of its
// dashboard that telemetry makes (never cached: telemetry does not move
// the data version).
func (h *Handler) showCompanyGPUMonth(c *gin.Context) {
	org := h.companyOrganisation(c)
	if org == nil {
		return
	}
	now := h.now()
	t, err := models.TeamMonthUsage(c.Request.Context(), h.db, org, models.MonthOf(now), now)
	if err != nil {
		h.fail(c, err)
		return
	}
	p := h.page(c, "dash.company.gpu_title")
	h.renderPart(c, views.CompanyGPUMonth(p, org, t), views.CompanyGPUMonthPage(p, org, t))
}

// showOfficerTelemetry is the ministry's telemetry tasks, the part of its
// dashboard that telemetry makes (never cached).
func (h *Handler) showOfficerTelemetry(c *gin.Context) {
	t, err := models.LoadTelemetryTasks(c.Request.Context(), h.db, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	p := h.page(c, "dash.officer.telemetry")
	h.renderPart(c, views.OfficerTelemetry(p, t), views.OfficerTelemetryPage(p, t))
}
