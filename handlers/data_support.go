package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Data support: the data page (surveys, purchases, a team's sources), a
// survey's page (a team files its demand; the ministry reads it aggregated
// and records purchases), a purchase's page (the ministry delivers it to
// each team once its sources are cleared) and the clearance ledger.

// dataNotices maps the ?done= of a redirect to its notice.
var dataNotices = map[string]string{
	"survey":          "support.notice.survey",
	"demand":          "support.notice.demand",
	"purchase":        "support.notice.purchase",
	"delivered":       "support.notice.delivered",
	"source":          "support.notice.source",
	"updated":         "support.notice.source_updated",
	"project":         "support.notice.project",
	"project_updated": "support.notice.project_updated",
}

// expiryWindowDays is how far ahead the ledger lists expiries.
const expiryWindowDays = 90

// showDataPage shows the surveys, the purchases the user may see and, to a
// team, the clearance status of the sources its purchases use.
func (h *Handler) showDataPage(c *gin.Context) {
	v, err := h.dataHomeView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = dataNotices[c.Query("done")]
	h.render(c, http.StatusOK, views.DataHome(h.page(c, "support.data.title"), v))
}

func (h *Handler) dataHomeView(c *gin.Context) (views.DataHomeView, error) {
	ctx, u := c.Request.Context(), currentUser(c)
	v := views.DataHomeView{Now: h.now(), Ministry: u.Role.IsMinistry(), SeePrice: models.MaySeePrice(u)}
	var err error
	if v.Surveys, err = models.ListSurveys(ctx, h.db); err != nil {
		return v, err
	}
	if v.Purchases, err = models.ListPurchases(ctx, h.db, 0, u); err != nil {
		return v, err
	}
	if u.Role == models.RoleCompany && u.OrganisationID != nil {
		if v.Team, err = models.GetOrganisation(ctx, h.db, *u.OrganisationID); err != nil {
			return v, err
		}
		if v.Sources, err = models.TeamSources(ctx, h.db, *u.OrganisationID); err != nil {
			return v, err
		}
	}
	return v, nil
}

// openSurvey opens a demand survey.
func (h *Handler) openSurvey(c *gin.Context) {
	in := models.SurveyInput{Title: c.PostForm("title"), Description: c.PostForm("description"), ClosesAt: c.PostForm("closes_at")}
	s, err := models.OpenSurvey(c.Request.Context(), h.db, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/surveys/%d?done=survey", s.ID))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, verr := h.dataHomeView(c)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	v.Form, v.Errors = in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.DataHome(h.page(c, "support.data.title"), v))
}

// showSurveyPage shows a survey as the user may see it.
func (h *Handler) showSurveyPage(c *gin.Context) {
	v, ok := h.surveyView(c)
	if !ok {
		return
	}
	v.Notice = dataNotices[c.Query("done")]
	h.render(c, http.StatusOK, views.SurveyPage(h.page(c, "support.survey.title"), v))
}

// surveyView loads the survey named by :id with what the user may see of
// it; false when it answered already (not found, failure).
func (h *Handler) surveyView(c *gin.Context) (views.SurveyView, bool) {
	ctx, u := c.Request.Context(), currentUser(c)
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return views.SurveyView{}, false
	}
	s, err := models.GetSurvey(ctx, h.db, id)
	if err != nil {
		h.fail(c, err)
		return views.SurveyView{}, false
	}
	now := h.now()
	v := views.SurveyView{Now: now, Survey: s, Programme: models.MaySeePrice(u), Ministry: u.Role.IsMinistry()}
	fail := func(err error) (views.SurveyView, bool) { h.fail(c, err); return v, false }
	if v.Demand, err = models.SurveyDemand(ctx, h.db, s.ID, u); err != nil {
		return fail(err)
	}
	if v.Programme {
		v.Groups = models.AggregateDemand(v.Demand)
	}
	if v.Purchases, err = models.ListPurchases(ctx, h.db, s.ID, u); err != nil {
		return fail(err)
	}
	if u.Role == models.RoleCompany && u.OrganisationID != nil {
		today := models.DateOf(now)
		_, err := models.CheckStanding(ctx, h.db, *u.OrganisationID, today, today)
		switch {
		case err == nil:
			v.CanFile = s.OpenAt(now)
		case errors.Is(err, models.ErrNoAgreement), errors.Is(err, models.ErrNotFound):
			v.NotTeam = true
		default:
			return fail(err)
		}
	}
	if v.Ministry {
		if v.Sources, err = models.ListSources(ctx, h.db); err != nil {
			return fail(err)
		}
		if v.Teams, err = models.AgreementTeams(ctx, h.db); err != nil {
			return fail(err)
		}
	}
	return v, true
}

// fileDemand files a team's demand line.
func (h *Handler) fileDemand(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	in := models.DemandInput{Dataset: p("dataset"), Provider: p("provider"), Volume: p("volume"), PriceMin: p("price_min"),
		PriceMax: p("price_max"), Purpose: c.PostForm("purpose"), Priority: p("priority")}
	_, err := models.FileDemand(c.Request.Context(), h.db, id, in, currentUser(c), h.now())
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/surveys/%d?done=demand", id))
		return
	case errors.Is(err, models.ErrSurveyClosed):
		h.renderMessage(c, http.StatusConflict, "support.error.survey_closed", "")
		return
	case errors.Is(err, models.ErrNotTeam):
		h.renderMessage(c, http.StatusForbidden, "support.error.not_team_page", "")
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, ok := h.surveyView(c)
	if !ok {
		return
	}
	v.Form, v.Errors = in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.SurveyPage(h.page(c, "support.survey.title"), v))
}

// recordPurchase records a joint purchase answering the survey.
func (h *Handler) recordPurchase(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	in := models.PurchaseInput{Dataset: p("dataset"), Provider: p("provider"), Contract: p("contract"), Price: p("price"),
		LicenceTerms: c.PostForm("licence_terms"), Use: p("use"), Sources: c.PostFormArray("sources"), Teams: c.PostFormArray("teams")}
	pu, err := models.RecordPurchase(c.Request.Context(), h.db, id, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/purchases/%d?done=purchase", pu.ID))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, ok := h.surveyView(c)
	if !ok {
		return
	}
	v.Purchase, v.Errors = in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.SurveyPage(h.page(c, "support.survey.title"), v))
}

// showPurchasePage shows a purchase to whoever may see it; a team without
// the price and the other teams' deliveries.
func (h *Handler) showPurchasePage(c *gin.Context) {
	v, ok := h.purchaseView(c)
	if !ok {
		return
	}
	v.Notice = dataNotices[c.Query("done")]
	h.render(c, http.StatusOK, views.PurchasePage(h.page(c, "support.purchase.title"), v))
}

func (h *Handler) purchaseView(c *gin.Context) (views.PurchaseView, bool) {
	u := currentUser(c)
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return views.PurchaseView{}, false
	}
	p, err := models.GetPurchase(c.Request.Context(), h.db, id, u)
	if err != nil {
		h.fail(c, err)
		return views.PurchaseView{}, false
	}
	return views.PurchaseView{Now: h.now(), P: p, SeePrice: models.MaySeePrice(u), CanDeliver: u.Role.IsMinistry()}, true
}

// deliverPurchase marks the purchase delivered to one team; while a source
// is not cleared the page comes back (409) naming it.
func (h *Handler) deliverPurchase(c *gin.Context) {
	id, ok1 := idParam(c, "id")
	did, ok2 := idParam(c, "did")
	if !ok1 || !ok2 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	_, err := models.Deliver(c.Request.Context(), h.db, id, did, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/purchases/%d?done=delivered", id))
		return
	}
	nc, refused := models.IsNotCleared(err)
	if !refused {
		h.fail(c, err)
		return
	}
	v, ok := h.purchaseView(c)
	if !ok {
		return
	}
	v.Refusal = nc
	h.render(c, http.StatusConflict, views.PurchasePage(h.page(c, "support.purchase.title"), v))
}

// showSourcesPage shows the clearance ledger and the expiries ahead.
func (h *Handler) showSourcesPage(c *gin.Context) {
	v, err := h.sourcesView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = dataNotices[c.Query("done")]
	h.render(c, http.StatusOK, views.SourcesPage(h.page(c, "support.sources.title"), v))
}

func (h *Handler) sourcesView(c *gin.Context) (views.SourcesView, error) {
	ss, err := models.ListSources(c.Request.Context(), h.db)
	if err != nil {
		return views.SourcesView{}, err
	}
	now := h.now()
	return views.SourcesView{Now: now, Sources: ss, Expiring: models.ExpiriesAhead(ss, now, expiryWindowDays), Days: expiryWindowDays,
		CanEdit: currentUser(c).Role.IsMinistry()}, nil
}

// sourceForm reads a ledger entry's form.
func sourceForm(c *gin.Context) models.SourceInput {
	return models.SourceInput{Name: c.PostForm("name"), RightsHolder: c.PostForm("rights_holder"), Status: c.PostForm("status"),
		LicenceTerms: c.PostForm("licence_terms"), ExpiresOn: c.PostForm("expires_on"),
		PublicInstitution: c.PostForm("public_institution") != "", Uses: c.PostFormArray("uses")}
}

// recordSource adds an entry to the ledger.
func (h *Handler) recordSource(c *gin.Context) {
	in := sourceForm(c)
	_, err := models.RecordSource(c.Request.Context(), h.db, in, currentUser(c), h.now())
	h.afterSource(c, err, 0, in, "source")
}

// updateSource records a new state of a ledger entry.
func (h *Handler) updateSource(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	in := sourceForm(c)
	_, err := models.UpdateSource(c.Request.Context(), h.db, id, in, currentUser(c), h.now())
	h.afterSource(c, err, id, in, "updated")
}

func (h *Handler) afterSource(c *gin.Context, err error, id uint, in models.SourceInput, done string) {
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/data/sources?done="+done)
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, verr := h.sourcesView(c)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	v.Errors = refused.Fields
	if id != 0 {
		v.EditID, v.Edit = id, in
	} else {
		v.Form = in
	}
	h.render(c, http.StatusUnprocessableEntity, views.SourcesPage(h.page(c, "support.sources.title"), v))
}

// projectForm reads a project's form.
func projectForm(c *gin.Context) models.ProjectInput {
	return models.ProjectInput{OrganisationID: c.PostForm("organisation_id"), Title: c.PostForm("title"), Scope: c.PostForm("scope"),
		Provider: c.PostForm("provider"), Milestones: c.PostForm("milestones"), Status: c.PostForm("status"),
		Deliverables: c.PostForm("deliverables")}
}

// showProjectsPage lists the dataset construction projects the user may see.
func (h *Handler) showProjectsPage(c *gin.Context) {
	v, err := h.projectsView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = dataNotices[c.Query("done")]
	h.render(c, http.StatusOK, views.ProjectsPage(h.page(c, "support.projects.title"), v))
}

func (h *Handler) projectsView(c *gin.Context) (views.ProjectsView, error) {
	ctx, u := c.Request.Context(), currentUser(c)
	v := views.ProjectsView{CanEdit: u.Role.IsMinistry(), Form: models.ProjectInput{Status: string(models.ProjectPlanned)}}
	var err error
	if v.Projects, err = models.ListProjects(ctx, h.db, u); err != nil {
		return v, err
	}
	if v.CanEdit {
		v.Teams, err = models.AgreementTeams(ctx, h.db)
	}
	return v, err
}

// createProject records a dataset project for a team.
func (h *Handler) createProject(c *gin.Context) {
	in := projectForm(c)
	p, err := models.CreateProject(c.Request.Context(), h.db, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/projects/%d?done=project", p.ID))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, verr := h.projectsView(c)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	v.Form, v.Errors = in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.ProjectsPage(h.page(c, "support.projects.title"), v))
}

// showProjectPage shows a project to its team, the ministry and auditors.
func (h *Handler) showProjectPage(c *gin.Context) {
	p := loadVisible(h, c, "id", models.GetProject)
	if p == nil {
		return
	}
	v := views.ProjectView{P: p, CanEdit: currentUser(c).Role.IsMinistry(), Form: views.ProjectFormOf(p),
		Notice: dataNotices[c.Query("done")]}
	h.render(c, http.StatusOK, views.ProjectPage(h.page(c, "support.projects.title"), v))
}

// updateProject records a project's new state.
func (h *Handler) updateProject(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	in := projectForm(c)
	_, err := models.UpdateProject(c.Request.Context(), h.db, id, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/data/projects/%d?done=project_updated", id))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	p := loadVisible(h, c, "id", models.GetProject)
	if p == nil {
		return
	}
	v := views.ProjectView{P: p, CanEdit: true, Form: in, Errors: refused.Fields}
	h.render(c, http.StatusUnprocessableEntity, views.ProjectPage(h.page(c, "support.projects.title"), v))
}
